/** Turns the raw samples of a run into the report: JSON first, markdown from the JSON. */

import { cpus } from "node:os";
import { adapters, libraryIds } from "./_adapters.mjs";
import { patternSet, scenarios } from "./_scenarios.mjs";
import { formatCount, summarize } from "./_stats.mjs";

const PEERS = libraryIds.filter((id) => !adapters[id].baseline && id !== "agent-bus");

function collect(slot) {
  const samples = slot.runs.flatMap((run) => run.samples);
  if (samples.length === 0) return { error: slot.errors[0] ?? "no samples" };
  const perProcess = slot.runs.map((run) => summarize(run.samples).median);
  return { ...summarize(samples), perProcess, note: slot.runs[0]?.note, errors: slot.errors.length };
}

function speedSection(bySection) {
  return Object.entries(scenarios).map(([id, scenario]) => {
    const results = {};
    for (const slot of bySection.speed.filter((s) => s.case === id)) results[slot.lib] = collect(slot);
    const loop = results["plain-loop"]?.median;
    for (const result of Object.values(results)) {
      if (loop && result.median) result.ratio = result.median / loop;
    }
    return { id, title: scenario.title, feature: scenario.feature === true, results };
  });
}

function sizedSection(slots) {
  const rows = {};
  for (const slot of slots) {
    const [name, size] = slot.case.split("@");
    rows[name] ??= {};
    rows[name][slot.lib] ??= {};
    rows[name][slot.lib][size] = collect(slot);
  }
  return rows;
}

/** Publish rows on a single type, where tseep's generated code is exempt from the peer target. */
const ONE_TYPE_PUBLISH = new Set(["publish-1", "publish-3", "publish-10"]);

/**
 * Where agent-bus is behind a peer, whether the floor (bench/_floor.mjs: the guarantees kept in
 * plain code) is behind that peer too, and agent-bus against the floor on every row: shown, not a
 * target. A peer ahead of both does less per operation than the guarantees ask when written
 * plainly; where agent-bus trails the floor, its own code costs more than the guarantees do.
 */
function floorComparison(speed) {
  // Not the pattern rows, where the floor, as every baseline, publishes without patterns (its note).
  const rows = speed.filter(
    (r) =>
      !r.feature &&
      r.results.floor?.median &&
      r.results.floor.note === undefined &&
      r.results["agent-bus"]?.median,
  );
  if (rows.length === 0) return undefined;
  const aheadOfBoth = [];
  const aheadOfBusOnly = [];
  for (const row of rows) {
    const own = row.results["agent-bus"].median;
    const floor = row.results.floor.median;
    for (const peer of PEERS) {
      const theirs = row.results[peer]?.median;
      if (theirs === undefined || theirs <= own) continue;
      if (peer === "tseep" && ONE_TYPE_PUBLISH.has(row.id)) continue;
      const name = `${row.id}: ${adapters[peer].label}`;
      if (theirs > floor) aheadOfBoth.push(`${name} ${(theirs / floor).toFixed(2)}x the floor`);
      else aheadOfBusOnly.push(`${name} (the floor ${(floor / theirs).toFixed(2)}x it)`);
    }
  }
  const ratios = rows.map(
    (r) => `${r.id} ${(r.results["agent-bus"].median / r.results.floor.median).toFixed(2)}x`,
  );
  const list = (entries) => (entries.length === 0 ? "none" : entries.join("; "));
  return {
    target:
      "the guarantees' own cost: the floor (agent-bus's guarantees in plain code) against the peers ahead of agent-bus — shown",
    met: null,
    detail: `ahead of the floor too: ${list(aheadOfBoth)}. Ahead of agent-bus only: ${list(aheadOfBusOnly)}. agent-bus ÷ floor: ${ratios.join(", ")}`,
  };
}

/**
 * The issue's targets, judged from one run's rows. Memory per subscription is one of its
 * scenarios: a peer that holds a subscription in fewer bytes counts as ahead there.
 */
export function checkTargets(speed, churn, memory = {}) {
  const byId = Object.fromEntries(speed.map((row) => [row.id, row.results]));
  const targets = [];
  const behind = [];
  const exempt = [];
  for (const row of speed.filter((r) => !r.feature)) {
    const own = row.results["agent-bus"]?.median;
    if (own === undefined) continue;
    for (const peer of PEERS) {
      const theirs = row.results[peer]?.median;
      if (theirs === undefined || theirs <= own) continue;
      const entry = `${row.id}: ${adapters[peer].label} ${(theirs / own).toFixed(2)}x`;
      (peer === "tseep" && ONE_TYPE_PUBLISH.has(row.id) ? exempt : behind).push(entry);
    }
  }
  for (const [name, libs] of Object.entries(memory)) {
    for (const [size, own] of Object.entries(libs["agent-bus"] ?? {})) {
      const fewer = PEERS.filter((peer) => (libs[peer]?.[size]?.median ?? own.median) < own.median).map(
        (peer) => `${adapters[peer].label} ${libs[peer][size].median.toFixed(0)} B`,
      );
      if (fewer.length > 0)
        behind.push(`${name}: ${own.median.toFixed(0)} B a subscription, fewer for ${fewer.join(", ")}`);
    }
  }
  const exemptNote =
    exempt.length === 0
      ? ""
      : ` (left out as the issue allows, tseep's generated code on one type: ${exempt.join("; ")})`;
  targets.push({
    target: "agent-bus at or above every peer in every scenario",
    met: behind.length === 0,
    detail: `${behind.length === 0 ? "no peer ahead" : `peers ahead: ${behind.join("; ")}`}${exemptNote}`,
  });
  const floor = floorComparison(speed);
  if (floor !== undefined) targets.push(floor);
  const types = byId["types-64"];
  if (types?.["agent-bus"] && types["try-catch-loop"]) {
    const ratio = types["agent-bus"].median / types["try-catch-loop"].median;
    targets.push({
      target: "64 types: agent-bus ≥ 0.85x the try/catch loop",
      met: ratio >= 0.85,
      detail: `${ratio.toFixed(2)}x`,
    });
  }
  const patterns = byId["patterns-10k"]?.["agent-bus"];
  if (patterns && types?.["agent-bus"]) {
    const slowdown = types["agent-bus"].median / patterns.median;
    targets.push({
      target: "publish with 10,000 patterns present ≤ 2x the cost with none (types-64 vs patterns-10k)",
      met: slowdown <= 2,
      detail: `${slowdown.toFixed(2)}x the cost`,
    });
  }
  const miss = byId["patterns-10k-miss"]?.["agent-bus"];
  if (miss && types?.["agent-bus"]) {
    targets.push({
      target: "same, with none of the 10,000 patterns matching (the cost of their presence alone) — shown",
      met: null,
      detail: `${(types["agent-bus"].median / miss.median).toFixed(2)}x the cost`,
    });
  }
  const plain = byId["publish-3"]?.["agent-bus"];
  // Rows that use a feature, shown beside the ones that must not pay for it: a publish that
  // passes attributes has them checked before delivery (a bad id must not reach half the
  // listeners), and listeners that take the envelope have it built.
  const shownOnly = {
    "options-3":
      "cost of attributes passed to a publish, checked before delivery (options {correlationid}, 3 one-parameter listeners) — shown, not a target",
    "envelope-3": "envelope cost when listeners take (data, envelope) — shown, not a target",
  };
  for (const id of ["groups-3", "responder-3", "options-3", "envelope-3"]) {
    const row = byId[id]?.["agent-bus"];
    if (!row || !plain) continue;
    const cost = plain.median / row.median - 1;
    const noise = Math.max(plain.spread, row.spread) / 100;
    const shown = shownOnly[id];
    targets.push({
      target: shown ?? `unused feature costs nothing measurable: ${scenarios[id].title}`,
      // One-sided: a case that came out faster than publish-3 costs nothing (it is noise).
      met: shown !== undefined ? null : cost <= Math.max(0.05, noise),
      detail: `${cost >= 0 ? "+" : ""}${(cost * 100).toFixed(1)}% time per publish vs publish-3 (spread ±${(noise * 100).toFixed(1)}%)`,
    });
  }
  for (const [mode, sizes] of Object.entries(churn)) {
    const bus = sizes["agent-bus"];
    const keys = Object.keys(bus ?? {})
      .map(Number)
      .sort((a, b) => a - b);
    if (keys.length < 2) continue;
    const small = bus[keys[0]].median;
    const large = bus[keys[keys.length - 1]].median;
    const growth = large / small;
    const linear = keys[keys.length - 1] / keys[0];
    targets.push({
      target: `${mode}: subscribe+unsubscribe n grows linearly (n=${keys[0]} → ${keys[keys.length - 1]})`,
      met: growth <= linear * 2,
      detail: `time grew ${growth.toFixed(1)}x for ${linear}x n (quadratic would be ${linear * linear}x)`,
    });
  }
  return targets;
}

export function buildReport(results, { commit, mode, rounds, timing, seconds }) {
  const bySection = { speed: [], memory: [], churn: [], types: [] };
  for (const slot of results) bySection[slot.section].push(slot);
  const speed = speedSection(bySection);
  const churn = sizedSection(bySection.churn);
  const memory = sizedSection(bySection.memory);
  return {
    environment: {
      date: new Date().toISOString(),
      commit,
      node: process.version,
      v8: process.versions.v8,
      cpu: cpus()[0]?.model ?? "unknown",
      cores: cpus().length,
      platform: `${process.platform}-${process.arch}`,
      mode,
      rounds,
      timing,
      seconds,
      patternsSample: patternSet(16),
    },
    speed,
    memory,
    churn,
    types: sizedSection(bySection.types),
    targets: checkTargets(speed, churn, memory),
    failures: results
      .filter((slot) => slot.errors.length > 0)
      .map((slot) => ({ lib: slot.lib, case: slot.case, error: slot.errors[0] })),
  };
}

const label = (lib) => adapters[lib]?.label ?? lib;
const row = (cells) => `| ${cells.join(" | ")} |`;

function speedTables(speed) {
  const header = row(["scenario", ...libraryIds.map(label)]);
  const rule = row(["---", ...libraryIds.map(() => "---:")]);
  const opsRows = speed.map((r) =>
    row([
      r.title,
      ...libraryIds.map((lib) => {
        const x = r.results[lib];
        if (x === undefined) return "—";
        if (x.error) return "error";
        return `${formatCount(x.median)} ±${x.spread.toFixed(0)}%`;
      }),
    ]),
  );
  const ratioRows = speed.map((r) =>
    row([
      r.title,
      ...libraryIds.map((lib) => {
        const x = r.results[lib];
        if (x?.ratio === undefined) return "—";
        const text = x.ratio.toFixed(2);
        return lib === "agent-bus" ? `**${text}**` : text;
      }),
    ]),
  );
  return [
    "### Ratio to the plain loop (higher is better)",
    "",
    header,
    rule,
    ...ratioRows,
    "",
    "### Operations per second (median ± interquartile range)",
    "",
    header,
    rule,
    ...opsRows,
  ];
}

/** One table: a row per (case, library), a column per size; `extra` adds a last column. */
function sizedTable(rows, { sizesLabel, format, extra }) {
  const entries = Object.entries(rows);
  const sizes = [
    ...new Set(entries.flatMap(([, libs]) => Object.values(libs).flatMap((bySize) => Object.keys(bySize)))),
  ].sort((a, b) => a - b);
  const out = [
    row([
      "case",
      sizesLabel,
      ...sizes.map((s) => Number(s).toLocaleString("en-US")),
      ...(extra ? [extra.label] : []),
    ]),
    row(["---", "---", ...sizes.map(() => "---:"), ...(extra ? ["---:"] : [])]),
  ];
  for (const [name, libs] of entries) {
    for (const lib of libraryIds.filter((id) => libs[id] !== undefined)) {
      const bySize = libs[lib];
      const cells = sizes.map((s) => (bySize[s]?.median === undefined ? "—" : format(bySize[s], Number(s))));
      out.push(row([name, label(lib), ...cells, ...(extra ? [extra.format(bySize, sizes)] : [])]));
    }
  }
  return [...out, ""];
}

function growth(bySize, sizes) {
  const present = sizes.filter((s) => bySize[s]?.median !== undefined);
  if (present.length < 2) return "—";
  const first = present[0];
  const last = present[present.length - 1];
  return `${(bySize[last].median / bySize[first].median).toFixed(1)}x for ${Number(last) / Number(first)}x n`;
}

export function renderMarkdown(report) {
  const { environment: env } = report;
  const lines = [
    "# agent-bus in-process benchmark",
    "",
    `${env.mode} run of agent-bus ${env.commit}, ${env.date.slice(0, 10)}: Node ${env.node} (V8 ${env.v8}), ${env.cpu}, ${env.cores} cores, ${env.platform}.`,
    `Each case in a fresh process, ${env.rounds} round(s); per process ${env.timing.timing.warmupMs} ms warm-up, then ${env.timing.timing.samples} samples of ${env.timing.timing.sampleMs} ms. Median of all samples; ± is the interquartile range. Total ${env.seconds.toFixed(0)} s.`,
    "Ratios are to the plain loop of the same scenario in the same run (a Map from type to an array, a for loop over it). Generated by `npm run bench` (bench/run.mjs).",
    "",
    "## Targets",
    "",
    row(["target", "met", "measured"]),
    row(["---", "---", "---"]),
    ...report.targets.map((t) => row([t.target, t.met === null ? "—" : t.met ? "yes" : "**no**", t.detail])),
    "",
    "## Speed",
    "",
    ...speedTables(report.speed),
    "",
    "— : not applicable (emittery has no synchronous emit; only agent-bus and EventEmitter2 have patterns; feature rows are agent-bus only). In the pattern rows the baselines publish to the same 64 types without patterns.",
    "**floor** is a baseline, not a peer: agent-bus's guarantees (error isolation, the re-entrancy rules, the depth limit, the envelope for two-parameter listeners, O(1) unsubscribe, the leak warning) kept in plain code, without agent-bus's optimizations (bench/_floor.mjs). It shows what the guarantees cost when written plainly; it is not a lower bound, as agent-bus's tuned paths beat it on several rows. Its envelope is `{ type, data }` only, not agent-bus's CloudEvents envelope with an id and a time, so its `(data, envelope)` row is not comparable.",
    `Patterns: 8 match one published type each (agent0.task.*, agent8.task.*, …, agent56.task.*), the rest never match: agent<i>.job.* and worker<i>.> alternating (EventEmitter2: worker<i>.**). First ones: ${env.patternsSample.join(", ")}.`,
    "",
    "## Memory per subscription",
    "",
    "Heap growth (after two forced GCs) of an emitter holding the subscriptions of distinct pre-built callbacks, divided by their number; unsubscribe handles are dropped.",
    "",
    ...sizedTable(report.memory, { sizesLabel: "subscriptions", format: (x) => `${x.median.toFixed(0)} B` }),
    "## Subscribe then unsubscribe n callbacks on one type (agent-bus)",
    "",
    "`handle` removes through the function `subscribe` returned, `callback` through `unsubscribe(type, callback)`; `fifo` removes oldest first, `lifo` newest first. Cells: ms per whole run (ns per subscription). Each sample follows a full collection, after a warm-up of repeated runs, in a 64 MB young generation that holds the largest run: the growth compares the bus's work at each size, not whether the run outgrew V8's default young generation (bench/_plan.mjs).",
    "",
    ...sizedTable(report.churn, {
      sizesLabel: "n",
      format: (x, n) => `${x.median.toFixed(1)} ms (${((x.median * 1e6) / n).toFixed(0)} ns)`,
      extra: { label: "time growth", format: growth },
    }),
    "## Publish over many types (one listener each, round-robin)",
    "",
    "Cells: publishes per second (ns per publish).",
    "",
    ...sizedTable(report.types, {
      sizesLabel: "types",
      format: (x) => `${formatCount(x.median)} (${(1e9 / x.median).toFixed(0)} ns)`,
    }),
  ];
  if (report.failures.length > 0) {
    lines.push("## Failures", "", ...report.failures.map((f) => `- ${f.lib} ${f.case}: ${f.error}`), "");
  }
  return `${lines.join("\n")}\n`;
}
