// The inspector page: a live feed over server-sent events, stats polled from the JSON API.
import { COLORS, lineChart } from "/inspector/charts.js";
import { assertPattern, matches } from "/inspector/patterns.js";

const MAX_ROWS = 300;
const $ = (id) => document.getElementById(id);
const state = { pattern: ">", paused: false, held: [], dropped: 0, learning: [] };

function text(tag, content, className) {
  const node = document.createElement(tag);
  node.textContent = content;
  if (className) node.className = className;
  return node;
}

function row(event) {
  const tr = document.createElement("tr");
  tr.dataset.type = event.type;
  const time = new Date(event.time);
  tr.append(text("td", Number.isNaN(time.valueOf()) ? String(event.time) : time.toLocaleTimeString()));
  tr.append(text("td", event.type, "type"));
  tr.append(text("td", event.source ?? ""));
  const cell = document.createElement("td");
  cell.className = "data";
  const details = document.createElement("details");
  const json = JSON.stringify(event.data);
  details.append(text("summary", json === undefined ? "(no data)" : json));
  details.append(text("pre", JSON.stringify(event.data, null, 2) ?? ""));
  cell.append(details);
  tr.append(cell);
  return tr;
}

function show(event) {
  if (!matches(state.pattern, event.type)) return;
  const rows = $("event-rows");
  rows.prepend(row(event));
  while (rows.children.length > MAX_ROWS) rows.lastElementChild.remove();
}

function onEvent(event) {
  if (state.paused) {
    state.held.push(event);
    if (state.held.length > MAX_ROWS) {
      state.held.shift();
      state.dropped++;
      renderDropped();
    }
    $("paused-count").textContent = `${state.held.length} held while paused`;
    return;
  }
  show(event);
}

function renderDropped(serverDropped = 0) {
  $("total-dropped").textContent = String(state.dropped + serverDropped);
}

function connect() {
  const source = new EventSource("/api/events");
  source.addEventListener("open", () => setStatus(state.paused ? "paused" : "live"));
  source.addEventListener("error", () => setStatus("offline"));
  source.addEventListener("cloudevent", (message) => onEvent(JSON.parse(message.data)));
  source.addEventListener("dropped", (message) => {
    renderDropped(JSON.parse(message.data).dropped);
  });
}

function setStatus(value) {
  const status = $("status");
  status.dataset.state = value;
  status.textContent = value;
}

function applyFilter() {
  const value = $("filter").value.trim() || ">";
  try {
    assertPattern(value, "filter");
  } catch (error) {
    $("filter-error").textContent = error.message;
    return;
  }
  $("filter-error").textContent = "";
  state.pattern = value;
  for (const tr of [...$("event-rows").children]) tr.hidden = !matches(value, tr.dataset.type);
}

function togglePause() {
  state.paused = !state.paused;
  $("pause").textContent = state.paused ? "Resume" : "Pause";
  setStatus(state.paused ? "paused" : "live");
  if (!state.paused) {
    for (const event of state.held.splice(0)) show(event);
    $("paused-count").textContent = "";
  }
}

async function publish(submit) {
  submit.preventDefault();
  $("publish-error").textContent = "";
  $("publish-result").textContent = "";
  const type = $("publish-type").value.trim();
  const raw = $("publish-data").value.trim();
  let data;
  try {
    assertPatternFree(type);
    data = raw === "" ? undefined : JSON.parse(raw);
  } catch (error) {
    $("publish-error").textContent =
      error instanceof SyntaxError ? `invalid JSON: ${error.message}` : error.message;
    return;
  }
  const response = await fetch("/api/publish", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ type, data }),
  });
  const body = await response.json().catch(() => ({}));
  if (response.ok) $("publish-result").textContent = `published ${body.published}`;
  else $("publish-error").textContent = body.error ?? `HTTP ${response.status}`;
}

function assertPatternFree(type) {
  assertPattern(type, "type");
  if (type.split(".").some((token) => token === "*" || token === ">")) {
    throw new TypeError("type must not contain wildcards (* or >) when publishing");
  }
}

function list(id, items, render) {
  const target = $(id);
  target.replaceChildren(...items.map(render));
  if (items.length === 0) target.replaceChildren(text("li", "none", "muted"));
}

function renderStats(stats) {
  $("total-published").textContent = String(stats.totals.published);
  $("total-delivered").textContent = String(stats.totals.delivered);
  $("total-failed").textContent = String(stats.totals.failed);
  renderDropped(stats.feed.dropped);
  const busiest = Object.entries(stats.rates.byType);
  lineChart($("rate-chart"), [
    { values: stats.rates.total, color: COLORS[0] },
    ...busiest.map(([, values], i) => ({ values, color: COLORS[(i + 1) % COLORS.length] })),
  ]);
  list("rate-legend", [["all events", 0], ...busiest.map(([type], i) => [type, i + 1])], ([label, i]) => {
    const li = text("li", label);
    const swatch = document.createElement("i");
    swatch.style.background = COLORS[i % COLORS.length];
    li.prepend(swatch);
    return li;
  });
  const subscribers = $("subscriber-rows");
  subscribers.replaceChildren(
    ...Object.entries(stats.subscribers).map(([pattern, count]) => {
      const tr = document.createElement("tr");
      tr.append(text("td", pattern), text("td", String(count)));
      return tr;
    }),
  );
  list("error-list", [...stats.errors].reverse().slice(0, 30), (failure) =>
    text(
      "li",
      `${new Date(failure.time).toLocaleTimeString()} ${failure.eventType}: ${failure.message}`,
      "failed",
    ),
  );
  const extensions = stats.extensions ?? { loaded: [], failed: [] };
  list(
    "extension-list",
    [...extensions.loaded.map((e) => [e, true]), ...extensions.failed.map((e) => [e, false])],
    ([e, ok]) =>
      text(
        "li",
        ok ? `✔ ${e.displayName ?? e.name} (${e.name}, ${e.source})` : `✘ ${e.name}: ${e.message}`,
        ok ? "ok" : "failed",
      ),
  );
}

async function poll() {
  try {
    const response = await fetch("/api/stats");
    if (response.ok) renderStats(await response.json());
  } catch {
    setStatus("offline");
  }
  try {
    const response = await fetch("/learning/progress");
    if (response.ok) {
      const progress = await response.json();
      state.learning.push(progress.progress);
      if (state.learning.length > 120) state.learning.shift();
      $("learning-progress").textContent = progress.progress.toFixed(1);
      $("learning-note").textContent = `${progress.success_rate.length} task(s) learned from`;
      lineChart($("learning-chart"), [{ values: state.learning, color: COLORS[1] }], { max: 100 });
    } else {
      $("learning-note").textContent = "agent_learning is not loaded";
    }
  } catch {
    // The stats poll above already shows the connection state.
  }
}

$("filter").addEventListener("input", applyFilter);
$("filter-form").addEventListener("submit", (submit) => submit.preventDefault());
$("pause").addEventListener("click", togglePause);
$("publish-form").addEventListener("submit", publish);
connect();
void poll();
setInterval(poll, 1000);
