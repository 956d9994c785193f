// The inspector in a real browser: Debian's chromium driven by playwright-core, against a real host
// built in dist/ (the page imports the core's compiled patterns module).
import { execFileSync } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Browser, chromium, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createHost, type Host } from "../../dist/host/index.js";
import { EventBus } from "../../dist/index.js";

function findChromium(): string | undefined {
  try {
    return execFileSync("sh", ["-c", "command -v chromium"], { encoding: "utf8" }).trim() || undefined;
  } catch {
    return undefined;
  }
}

const executablePath = findChromium();
if (executablePath === undefined) {
  if (process.env.AGENT_BUS_REQUIRE_BROKERS === "1")
    throw new Error("chromium is required in CI (apt-get install chromium)");
  console.warn(
    "[agent-bus tests] skipping the browser tests: chromium is not installed (apt-get install chromium)",
  );
}

const LAUNCH_ARGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
];

describe.skipIf(executablePath === undefined)("the inspector page", () => {
  let browser: Browser;
  let host: Host;
  let page: Page;
  const fromPage: unknown[] = [];

  beforeAll(async () => {
    browser = await chromium.launch({ executablePath, headless: true, args: LAUNCH_ARGS });
    const bus = new EventBus({ onError: () => undefined });
    const dataDir = mkdtempSync(join(tmpdir(), "agent-bus-inspector-"));
    host = await createHost({ extensions: ["agent_learning"], port: 0, dataDir, bus, console: silent() });
    bus.subscribe("chat.message", (data: unknown) => fromPage.push(data));
    bus.subscribe("explode", () => {
      throw new Error("kaboom from a subscriber");
    });
    page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
    await page.goto(host.url as string);
    await page.locator("#status[data-state='live']").waitFor();
  }, 30_000);

  afterAll(async () => {
    await browser?.close();
    await host?.close();
  });

  const rows = () => page.locator("#event-rows tr:not([hidden])");

  it("shows an event published on the bus as a new row", async () => {
    host.bus.publish("task.started", { task_id: 7, agent: "coder" });
    await expect.poll(() => rows().first().locator("td.type").textContent()).toBe("task.started");
    await expect.poll(() => rows().first().locator("summary").textContent()).toContain('"task_id":7');
  });

  it("filters rows by pattern and explains a bad one inline", async () => {
    await page.fill("#filter", "model.*");
    host.bus.publish("model.loaded", { model_name: "llama-7b" });
    host.bus.publish("task.completed", { task_id: 7 });
    await expect.poll(() => rows().first().locator("td.type").textContent()).toBe("model.loaded");
    const types = await rows().locator("td.type").allTextContents();
    expect(types.every((type) => type.startsWith("model."))).toBe(true);
    await page.fill("#filter", "model..x");
    await expect.poll(() => page.textContent("#filter-error")).toContain("empty token");
    await page.fill("#filter", "");
    await expect.poll(() => page.textContent("#filter-error")).toBe("");
  });

  it("holds events while paused and shows them on resume", async () => {
    await page.click("#pause");
    host.bus.publish("paused.event", { n: 1 });
    await expect.poll(() => page.textContent("#paused-count")).toBe("1 held while paused");
    expect(await page.locator("#event-rows td.type", { hasText: "paused.event" }).count()).toBe(0);
    await page.click("#pause");
    await expect.poll(() => rows().first().locator("td.type").textContent()).toBe("paused.event");
  });

  it("publishes from the form onto the bus", async () => {
    await page.fill("#publish-type", "chat.message");
    await page.fill("#publish-data", '{"user": "John", "text": "Hello"}');
    await page.click("#publish-form button[type=submit]");
    await expect.poll(() => fromPage).toEqual([{ user: "John", text: "Hello" }]);
    await expect.poll(() => page.textContent("#publish-result")).toBe("published chat.message");
  });

  it("shows invalid JSON and an invalid type as errors next to the form", async () => {
    await page.fill("#publish-type", "chat.message");
    await page.fill("#publish-data", "{not json");
    await page.click("#publish-form button[type=submit]");
    await expect.poll(() => page.textContent("#publish-error")).toContain("invalid JSON");
    await page.fill("#publish-type", "bad type");
    await page.fill("#publish-data", "{}");
    await page.click("#publish-form button[type=submit]");
    await expect.poll(() => page.textContent("#publish-error")).toContain("whitespace");
    expect(fromPage).toHaveLength(1);
  });

  it("lists callback errors, subscribers, extensions and learning progress", async () => {
    host.bus.publish("explode", {});
    await expect.poll(() => page.textContent("#error-list")).toContain("kaboom from a subscriber");
    await expect.poll(() => page.textContent("#subscriber-rows")).toContain("chat.message");
    await expect.poll(() => page.textContent("#extension-list")).toContain("Agent Learning");
    host.bus.publish("task_completed", { success: true, reaction_time: 6 });
    await expect.poll(() => page.textContent("#learning-note")).toContain("1 task(s)");
    await expect.poll(() => page.textContent("#total-failed")).not.toBe("0");
  });
});

describe.skipIf(executablePath === undefined)("README's picture", () => {
  it("shows the demo team at work in the inspector", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "agent-bus-shot-"));
    const host = await createHost({
      extensions: ["agent_bus", "agent_learning", "task_monitor", "metrics", "demo"],
      config: { "demo-interval_ms": 60, "demo-summary_every_ms": 60_000 },
      port: 0,
      dataDir,
      bus: new EventBus({ onError: () => undefined }),
      console: silent(),
    });
    const browser = await chromium.launch({ executablePath, headless: true, args: LAUNCH_ARGS });
    try {
      const page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
      await page.goto(host.url as string);
      await page.locator("#status[data-state='live']").waitFor();
      await expect
        .poll(async () => Number(await page.textContent("#total-published")), { timeout: 15_000 })
        .toBeGreaterThan(60);
      await expect.poll(() => page.locator("#rate-legend li").count()).toBeGreaterThan(3);
      // README's picture is refreshed on request only, so test runs leave the work tree clean.
      const file =
        process.env.AGENT_BUS_SCREENSHOT === "1"
          ? join(import.meta.dirname, "..", "..", "docs", "inspector.png")
          : join(dataDir, "inspector.png");
      const image = await page.screenshot({ path: file });
      expect(image.length).toBeGreaterThan(10_000);
    } finally {
      await browser.close();
      await host.close();
    }
  }, 40_000);
});

describe.skipIf(executablePath === undefined)("the inspector beyond loopback", () => {
  it("refuses to bind beyond loopback without a token", async () => {
    await expect(
      createHost({ port: 0, hostname: "0.0.0.0", bus: new EventBus(), console: silent() }),
    ).rejects.toThrow(/token/);
  });

  it("asks every request for the token, and the page works once it is given", async () => {
    const token = "s3cret-token-for-tests";
    const host = await createHost({
      port: 0,
      hostname: "0.0.0.0",
      token,
      bus: new EventBus(),
      console: silent(),
    });
    const browser = await chromium.launch({ executablePath, headless: true, args: LAUNCH_ARGS });
    try {
      const url = host.url as string;
      expect((await fetch(`${url}/api/stats`)).status).toBe(401);
      expect((await fetch(`${url}/`)).status).toBe(401);
      const ok = await fetch(`${url}/api/stats`, { headers: { authorization: `Bearer ${token}` } });
      expect(ok.status).toBe(200);
      expect(ok.headers.get("content-security-policy")).toContain("default-src 'self'");
      expect(ok.headers.get("x-frame-options")).toBe("DENY");
      expect(ok.headers.get("x-content-type-options")).toBe("nosniff");
      const page = await browser.newPage();
      const denied = await page.goto(url);
      expect(denied?.status()).toBe(401);
      await page.goto(`${url}/?token=${token}`);
      // The token moved from the address bar into a cookie.
      expect(new URL(page.url()).searchParams.has("token")).toBe(false);
      await page.locator("#status[data-state='live']").waitFor();
      host.bus.publish("secured.event", { ok: true });
      await expect
        .poll(() => page.locator("#event-rows td.type").first().textContent())
        .toBe("secured.event");
      expect(await page.content()).not.toContain(token);
    } finally {
      await browser.close();
      await host.close();
    }
  }, 30_000);
});

function silent() {
  const quiet = () => undefined;
  return { log: quiet, warn: quiet, error: quiet };
}
