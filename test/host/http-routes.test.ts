import { request as httpRequest } from "node:http";
import { createServer } from "node:net";
import { describe, expect, it } from "vitest";
import { createHost, PortInUseError } from "../../src/host/index.js";
import { captureConsole, extensionsDir, startHost } from "./helpers.js";

const routesExtension = `
export function setup(ctx) {
  ctx.http.route("GET", "/hello", (request, response, url) => ({ hello: url.searchParams.get("name") }));
  ctx.http.route("POST", "/raw", (request, response) => { response.writeHead(201, { "content-type": "text/plain" }); response.end("made"); });
  ctx.http.route("GET", "/boom", () => { throw new Error("handler boom"); });
  ctx.http.route("GET", "/boom-object", () => { throw { code: 7 }; });
}
`;

/** A host on a free port with the routes extension above. */
function startWeb(log = captureConsole()) {
  return startHost({
    extensions: ["web"],
    extensionsDir: extensionsDir({ web: routesExtension }),
    port: 0,
    console: log.sink,
  });
}

describe("http server", () => {
  it("serves extension routes on 127.0.0.1 at a free port when port is 0", async () => {
    const host = await startWeb();
    expect(host.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/u);
    const hello = await fetch(`${host.url}/hello?name=bus`);
    expect(hello.status).toBe(200);
    expect(hello.headers.get("content-type")).toMatch(/application\/json/u);
    expect(await hello.json()).toEqual({ hello: "bus" });
    const raw = await fetch(`${host.url}/raw`, { method: "POST" });
    expect([raw.status, await raw.text()]).toEqual([201, "made"]);
  });

  it("answers 404 for an unknown path, 405 for a wrong method, 500 with the message when a handler throws", async () => {
    const log = captureConsole();
    const host = await startWeb(log);
    expect((await fetch(`${host.url}/nothing`)).status).toBe(404);
    const wrong = await fetch(`${host.url}/hello`, { method: "DELETE" });
    expect(wrong.status).toBe(405);
    // HTTP requires the Allow header on a 405.
    expect(wrong.headers.get("allow")).toBe("GET, HEAD");
    expect((await wrong.json()).error).toBe("DELETE not allowed on /hello; it allows GET, HEAD");
    const boom = await fetch(`${host.url}/boom`);
    expect(boom.status).toBe(500);
    expect(await boom.json()).toEqual({ error: "handler boom" });
    // The server's own log names the route and its extension, with the stack.
    expect(log.text()).toMatch(/error \[web\] GET \/boom failed; answered 500[\s\S]*Error: handler boom/u);
    // A thrown plain object is shown as its JSON, not "[object Object]".
    expect(await (await fetch(`${host.url}/boom-object`)).json()).toEqual({ error: '{"code":7}' });
  });

  it("answers HEAD with a GET route's status and headers, without the body, streams included", async () => {
    const host = await startWeb();
    const head = await fetch(`${host.url}/hello?name=bus`, { method: "HEAD" });
    expect(head.status).toBe(200);
    expect(head.headers.get("content-type")).toMatch(/application\/json/u);
    expect(await head.text()).toBe("");
    // The inspector's event stream stays open for a GET; a HEAD gets its headers and an end.
    const feed = await fetch(`${host.url}/api/events`, { method: "HEAD", signal: AbortSignal.timeout(3000) });
    expect([feed.status, feed.headers.get("content-type")]).toEqual([
      200,
      "text/event-stream; charset=utf-8",
    ]);
    expect((await fetch(`${host.url}/`, { method: "HEAD" })).status).toBe(200);
    expect((await fetch(`${host.url}/raw`, { method: "HEAD" })).status).toBe(405);
  });

  it("answers only loopback Host names without a token, against DNS rebinding", async () => {
    const host = await startWeb();
    const { port } = new URL(host.url as string);
    const ask = (hostHeader: string) =>
      new Promise<{ status: number; body: string }>((resolve, reject) => {
        const request = httpRequest(
          { host: "127.0.0.1", port, path: "/hello?name=x", headers: { host: hostHeader } },
          (response) => {
            let body = "";
            response.on("data", (chunk) => {
              body += chunk;
            });
            response.on("end", () => resolve({ status: response.statusCode ?? 0, body }));
          },
        );
        request.on("error", reject);
        request.end();
      });
    const locals = [
      `127.0.0.1:${port}`,
      `localhost:${port}`,
      `LOCALHOST:${port}`,
      `[::1]:${port}`,
      `localhost.:${port}`,
    ];
    for (const local of locals) {
      expect((await ask(local)).status, local).toBe(200);
    }
    const rebound = await ask(`attacker.example:${port}`);
    expect(rebound.status).toBe(403);
    expect(JSON.parse(rebound.body).error).toMatch(/^Host "attacker\.example:\d+" is not this machine/u);
    expect((await ask("127.0.0.1.attacker.example")).status).toBe(403);
    expect((await ask(`[::1]attacker.example:${port}`)).status).toBe(403);
  });

  it("lists extensions and routes at / when the inspector is off", async () => {
    const dir = extensionsDir({ web: routesExtension });
    const host = await startHost({
      extensions: ["web", "ghost"],
      extensionsDir: dir,
      port: 0,
      inspector: false,
      console: captureConsole().sink,
    });
    const index = await (await fetch(`${host.url}/`)).json();
    expect(index.extensions).toEqual([{ name: "web", displayName: "web", source: "user" }]);
    expect(index.failed).toMatchObject([{ name: "ghost", kind: "not-found" }]);
    expect(index.routes).toContainEqual({ method: "GET", path: "/hello", owner: "web" });
  });

  it("serves GET /learning/progress from agent_learning", async () => {
    const host = await startHost({ extensions: ["agent_learning"], port: 0, console: captureConsole().sink });
    host.bus.publish("task_completed", { success: true, reaction_time: 30 });
    const state = await (await fetch(`${host.url}/learning/progress`)).json();
    // success 1; reaction 1 - 30/60 = 0.5; weights 1 each -> (1 + 0.5 + 1 + 1 + 1) / 5 * 100 = 90
    expect(state.success_rate).toEqual([1]);
    expect(state.progress).toBeCloseTo(90, 10);
  });

  it("refuses a route registered twice, and a path without a leading slash", async () => {
    const host = await startHost({ console: captureConsole().sink });
    host.http.route("GET", "/twice", () => 1);
    expect(() => host.http.route("get", "/twice", () => 2)).toThrow(/already registered/u);
    expect(() => host.http.route("GET", "relative", () => 2)).toThrow(/must start with "\/"/u);
  });

  it("rejects with PortInUseError, before loading anything, when the port is taken", async () => {
    const blocker = createServer();
    await new Promise<void>((done) => blocker.listen(0, "127.0.0.1", done));
    const { port } = blocker.address() as { port: number };
    try {
      (globalThis as { __loaded?: boolean }).__loaded = false;
      const dir = extensionsDir({ x: "export function setup() { globalThis.__loaded = true; }" });
      const attempt = createHost({ extensions: ["x"], extensionsDir: dir, port });
      await expect(attempt).rejects.toBeInstanceOf(PortInUseError);
      await expect(attempt).rejects.toThrow(`Port ${port} on 127.0.0.1 is already in use`);
      expect((globalThis as { __loaded?: boolean }).__loaded).toBe(false);
    } finally {
      blocker.close();
    }
  });

  it("stops serving after close", async () => {
    const host = await startHost({ port: 0, console: captureConsole().sink });
    const url = host.url;
    await host.close();
    await expect(fetch(`${url}/`)).rejects.toThrow();
  });

  it("lets a route at / take the place of the host's index, which comes back when it goes", async () => {
    const host = await startHost({ port: 0, inspector: false, console: captureConsole().sink });
    const remove = host.http.route("GET", "/", () => ({ page: "mine" }));
    expect(await (await fetch(`${host.url}/`)).json()).toEqual({ page: "mine" });
    expect(host.http.routes().filter((r) => r.path === "/")).toEqual([
      { method: "GET", path: "/", owner: "host" },
    ]);
    remove();
    expect(await (await fetch(`${host.url}/`)).json()).toHaveProperty("routes");
  });

  it("mounts the inspector next to every bundled extension without a route clash", async () => {
    const extensions = ["agent_bus", "agent_learning", "task_monitor", "event_logger", "metrics", "demo"];
    const host = await startHost({
      extensions,
      port: 0,
      config: { "demo-interval_ms": 1000 },
      console: captureConsole().sink,
    });
    expect(host.extensions.failed).toEqual([]);
    const paths = host.http.routes().map((r) => `${r.method} ${r.path}`);
    expect(new Set(paths).size).toBe(paths.length);
    expect(paths).toEqual(
      expect.arrayContaining(["GET /", "GET /metrics", "GET /metrics/counters", "GET /learning/progress"]),
    );
    expect((await fetch(`${host.url}/`)).headers.get("content-type")).toContain("text/html");
    host.bus.publish("metric", { name: "requests", value: 2 });
    expect(await (await fetch(`${host.url}/metrics/counters`)).json()).toMatchObject({ requests: 2 });
    expect(await (await fetch(`${host.url}/metrics`)).text()).toContain(
      'agent_bus_events_published_total{type="metric"} 1',
    );
  });
});
