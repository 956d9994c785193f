// Isolation and access: namespaces on one broker never cross; the HTTP server asks every route
// for the token when bound beyond loopback and answers with security headers; NATS user/password
// and TLS work and wrong ones fail clearly; passwords and tokens never show in output or pages.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it, type TestContext } from "vitest";
// The HTTP tests use the build: the page's patterns.js is the core's compiled module.
import { createHost as createBuiltHost, type Host } from "../../dist/host/index.js";
import { EventBus as BuiltEventBus } from "../../dist/index.js";
import { EventBus, NoResponderError } from "../../src/index.js";
import { natsTransport } from "../../src/transports/nats.js";
import { redisTransport } from "../../src/transports/redis.js";
import { ensureBuilt, spawnCli } from "../cli/helpers.js";
import { linked, uniqueNamespace, waitFor } from "../conformance/helpers.js";
import { onPath, portOpen, skipWithout } from "../transports/_broker.js";
import { freePort } from "../transports/_processes.js";
import { deleteNamespaces, selfSignedCertificate } from "../transports/_redis.js";
import { record } from "./_record.js";

const TOKEN = "t0ken-that-must-not-leak-4417";
const PASSWORD = "pa55word-that-must-not-leak-9931";
const quiet = { log: () => undefined, warn: () => undefined, error: () => undefined };

const SECURITY_HEADERS = {
  "content-security-policy": /default-src 'self'/u,
  "x-content-type-options": /^nosniff$/u,
  "x-frame-options": /^DENY$/u,
  "referrer-policy": /^no-referrer$/u,
  "cache-control": /no-store/u,
};

function expectSecurityHeaders(response: Response): void {
  for (const [name, value] of Object.entries(SECURITY_HEADERS))
    expect(response.headers.get(name) ?? "").toMatch(value);
}

describe("the HTTP server beyond loopback, without a browser", () => {
  let host: Host;
  const published: unknown[] = [];
  const dataDir = mkdtempSync(join(tmpdir(), "agent-bus-access-"));
  beforeAll(async () => {
    await ensureBuilt();
    const bus = new BuiltEventBus();
    bus.subscribe("access.probe", (data) => published.push(data));
    host = await createBuiltHost({
      extensions: ["agent_learning"],
      port: 0,
      hostname: "0.0.0.0",
      token: TOKEN,
      bus,
      dataDir,
      console: quiet,
    });
  }, 120_000);
  afterAll(async () => {
    await host?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const ROUTES: [string, string][] = [
    ["GET", "/"],
    ["GET", "/inspector/app.js"],
    ["GET", "/inspector/charts.js"],
    ["GET", "/inspector/style.css"],
    ["GET", "/inspector/patterns.js"],
    ["GET", "/api/stats"],
    ["GET", "/api/events"],
    ["GET", "/metrics"],
    ["GET", "/learning/progress"],
    ["POST", "/api/publish"],
    ["GET", "/no/such/route"],
    ["DELETE", "/api/stats"],
  ];
  const request = (method: string, path: string, headers: Record<string, string> = {}) => {
    const controller = new AbortController();
    const body = method === "POST" ? '{"type":"access.probe","data":1}' : undefined;
    return fetch(`${host.url}${path}`, {
      method,
      headers: { "content-type": "application/json", ...headers },
      body,
      redirect: "manual",
      signal: controller.signal,
    }).then((response) => ({ response, abort: () => controller.abort() }));
  };

  it("refuses every route without the token or with a wrong one: 401, security headers, nothing done", async (context) => {
    let sent = 0;
    for (const [method, path] of ROUTES) {
      for (const headers of <Record<string, string>[]>[
        {},
        { authorization: "Bearer wrong-token-123" },
        { cookie: "agent_bus_token=wrong" },
        { authorization: TOKEN },
      ]) {
        sent++;
        const { response, abort } = await request(method, path, headers);
        expect({ method, path, status: response.status }).toEqual({ method, path, status: 401 });
        expectSecurityHeaders(response);
        expect(response.headers.get("www-authenticate")).toBe("Bearer");
        expect(await response.text()).not.toContain(TOKEN);
        abort();
      }
    }
    expect(published).toEqual([]);
    record(context, {
      injected: "requests without a valid token to every route",
      sent,
      lost: 0,
      duplicated: 0,
      reordered: 0,
      note: `all ${sent} answered 401, none published`,
    });
  });

  it("serves every route with the token, with security headers; the page and API never echo it", async () => {
    for (const [method, path] of ROUTES) {
      const { response, abort } = await request(method, path, { authorization: `Bearer ${TOKEN}` });
      const expected = path === "/no/such/route" ? 404 : method === "DELETE" ? 405 : 200;
      expect({ method, path, status: response.status }).toEqual({ method, path, status: expected });
      expectSecurityHeaders(response);
      if (path === "/api/events") expect(response.headers.get("content-type")).toMatch(/text\/event-stream/u);
      else expect(await response.text()).not.toContain(TOKEN);
      abort();
    }
    expect(published).toEqual([1]);
  });

  it("trades ?token= for an HttpOnly, SameSite=Strict cookie and a redirect without it", async () => {
    const { response } = await request("GET", `/api/stats?token=${TOKEN}`);
    expect(response.status).toBe(303);
    expect(response.headers.get("location")).toBe("/api/stats");
    const cookie = response.headers.get("set-cookie") ?? "";
    expect(cookie).toMatch(/HttpOnly/u);
    expect(cookie).toMatch(/SameSite=Strict/u);
    const { response: again } = await request("GET", "/metrics", { cookie: cookie.split(";")[0] as string });
    expect(again.status).toBe(200);
  });
});

const noNats = await skipWithout("nats-server", 4222);
const noRedis = await skipWithout("redis-server", 6379);

/** Two namespaces, one broker: each sees only its own events, groups, durables and responders. */
async function isolation(make: (namespace: string) => EventBus, durable: boolean) {
  const base = uniqueNamespace("iso");
  // "a" and "a.sub": one's subjects are a prefix of the other's, the hardest case.
  const names = [`${base}-a`, `${base}-b`, `${base}-a.sub`];
  const buses = names.map((namespace) => [make(namespace), make(namespace)] as const);
  const seen = names.map(() => [] as string[]);
  buses.forEach(([subscriber], i) => {
    subscriber.subscribe(">", (_data, event) => seen[i]?.push(`all ${event.type} ${String(event.data)}`));
    subscriber.subscribe("iso.job", (data) => seen[i]?.push(`group ${String(data)}`), { group: "workers" });
    if (durable && i < 2)
      subscriber.subscribe("iso.kept", (data) => seen[i]?.push(`durable ${String(data)}`), {
        durable: "keeper",
      });
    subscriber.respond("iso.ask", () => names[i]);
  });
  for (const [subscriber, publisher] of buses) await linked(subscriber, publisher);
  for (const list of seen) list.length = 0;
  const perNamespace = 20;
  buses.forEach(([, publisher], i) => {
    for (let n = 0; n < perNamespace; n++) {
      publisher.publish("iso.event", `${i}:${n}`);
      publisher.publish("iso.job", `${i}:${n}`);
      if (durable && i < 2) publisher.publish("iso.kept", `${i}:${n}`);
      publisher.publish("sub.iso.event", `${i}:${n}`);
    }
  });
  // Every namespace's catch-all sees its own four (three) types; groups and durables get a moment more.
  const own = (i: number) => (durable && i < 2 ? 4 : 3) * perNamespace;
  const caught = (i: number) => seen[i]?.filter((line) => line.startsWith("all ")).length ?? 0;
  await waitFor(() => seen.every((_list, i) => caught(i) >= own(i)), "every namespace's own events", 10_000);
  await new Promise((resolve) => setTimeout(resolve, 500));
  const foreign = (i: number) =>
    seen[i]?.filter((line) => !line.split(" ").at(-1)?.startsWith(`${i}:`)) ?? [];
  const crossed = names.reduce((sum, _name, i) => sum + foreign(i).length, 0);
  const replies = await Promise.all(
    buses.map(([, publisher]) => publisher.request("iso.ask", null, { timeout: 3000 })),
  );
  expect(replies).toEqual(names);
  const stranger = make(`${base}-c`);
  await expect(stranger.request("iso.ask", null, { timeout: 3000 })).rejects.toThrow(NoResponderError);
  for (const i of names.keys()) {
    expect(foreign(i)).toEqual([]);
    expect(caught(i)).toBe(own(i));
  }
  return {
    sent: seen.reduce((sum, _list, i) => sum + own(i), 0),
    crossed,
    buses: [...buses.flat(), stranger],
  };
}

/** Runs `isolation` quietly (transports warn about nothing being wrong here), records it, closes. */
async function recordIsolation(context: TestContext, broker: string, make: (namespace: string) => EventBus) {
  const warn = console.warn;
  console.warn = () => undefined;
  try {
    const { sent, crossed, buses } = await isolation(make, true);
    record(context, {
      injected: `3 namespaces (one a prefix of another) on one ${broker} server`,
      sent,
      lost: 0,
      duplicated: 0,
      reordered: 0,
      note: `${crossed} deliveries crossed`,
    });
    await Promise.all(buses.map((bus) => bus.close()));
  } finally {
    console.warn = warn;
  }
}

describe.skipIf(noNats)("namespaces on one NATS server", () => {
  it("never cross: events, groups, durables and requests stay in their namespace", (context) =>
    recordIsolation(
      context,
      "NATS",
      (namespace) => new EventBus({ transport: natsTransport({ namespace }) }),
    ));
});

describe.skipIf(noRedis)("namespaces on one Redis server", () => {
  const names: string[] = [];
  afterAll(async () => {
    const { Redis } = await import("ioredis");
    const raw = new Redis("redis://127.0.0.1:6379");
    await deleteNamespaces(raw, names);
    await raw.quit();
  });
  it("never cross: events, groups, durables and requests stay in their namespace", (context) =>
    recordIsolation(context, "Redis", (namespace) => {
      names.push(namespace);
      return new EventBus({ transport: redisTransport({ namespace }) });
    }));
});

/** A nats-server of our own with a config file: user/password, optionally TLS. */
async function natsWithAuth(dir: string, tls?: { cert: string; key: string }) {
  const port = await freePort();
  const config = join(dir, `nats-${port}.conf`);
  const lines = [
    `listen: "127.0.0.1:${port}"`,
    `authorization { user: "agent", password: "${PASSWORD}" }`,
    `jetstream { store_dir: "${join(dir, `js-${port}`)}" }`,
  ];
  if (tls) lines.push(`tls { cert_file: "${tls.cert}", key_file: "${tls.key}" }`);
  writeFileSync(config, lines.join("\n"));
  const { spawn } = await import("node:child_process");
  const child = spawn("nats-server", ["-c", config], { stdio: "ignore" });
  const deadline = Date.now() + 5000;
  while (!(await portOpen(port, "127.0.0.1", 200))) {
    if (Date.now() > deadline) throw new Error("own nats-server did not start");
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return { port, stop: () => child.kill("SIGKILL") };
}

const hasNatsServer = onPath("nats-server", "the NATS user/password and TLS tests");

describe.skipIf(!hasNatsServer)("NATS with user/password and TLS (own server, own certificate)", () => {
  let dir: string;
  let certificate: ReturnType<typeof selfSignedCertificate>;
  let secured: Awaited<ReturnType<typeof natsWithAuth>>;
  let plain: Awaited<ReturnType<typeof natsWithAuth>>;
  const buses: EventBus[] = [];
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "agent-bus-natsauth-"));
    certificate = selfSignedCertificate();
    secured = await natsWithAuth(dir, certificate);
    plain = await natsWithAuth(dir);
    await ensureBuilt();
  }, 120_000);
  afterAll(async () => {
    await Promise.all(buses.map((bus) => bus.close().catch(() => undefined)));
    secured?.stop();
    plain?.stop();
    rmSync(dir, { recursive: true, force: true });
    rmSync(certificate.dir, { recursive: true, force: true });
  });
  const make = (options: Parameters<typeof natsTransport>[0]) => {
    const bus = new EventBus({
      transport: natsTransport({ namespace: "secure", maxReconnectAttempts: 0, ...options }),
    });
    buses.push(bus);
    return bus;
  };

  it("carries events over TLS with the right user and password", async () => {
    const options = {
      servers: `tls://127.0.0.1:${secured.port}`,
      user: "agent",
      pass: PASSWORD,
      tls: { caFile: certificate.cert },
    };
    const [a, b] = [make(options), make(options)];
    const got: unknown[] = [];
    b.subscribe("secure.event", (data) => got.push(data));
    b.subscribe("secure.kept", (data) => got.push(data), { durable: "kept" });
    await linked(b, a);
    a.publish("secure.event", 1);
    a.publish("secure.kept", 2);
    await waitFor(() => got.length === 2, "events over TLS");
  });

  it("fails ready() clearly: wrong password, no password, untrusted certificate; no password in the message", async () => {
    const servers = `tls://127.0.0.1:${secured.port}`;
    const wrong = make({ servers, user: "agent", pass: "wrong", tls: { caFile: certificate.cert } });
    const none = make({ servers, tls: { caFile: certificate.cert } });
    const untrusted = make({ servers, user: "agent", pass: PASSWORD });
    await expect(wrong.ready()).rejects.toThrow(
      /cannot connect to tls:\/\/127\.0\.0\.1:\d+.*authorization violation/iu,
    );
    await expect(none.ready()).rejects.toThrow(/authorization violation/iu);
    const error = await untrusted.ready().then(
      () => undefined,
      (failure: unknown) => failure as Error,
    );
    expect(error?.message).toMatch(/cannot connect.*(self[- ]signed|certificate)/iu);
    expect(error?.message).not.toContain(PASSWORD);
  });

  it("the CLI and the inspector never show the password or the token", async (context) => {
    const cli = spawnCli([
      "run",
      "--extensions",
      "agent_learning",
      "--nats",
      `nats://agent:${PASSWORD}@127.0.0.1:${plain.port}`,
      "--namespace",
      "secrets",
      "--port",
      "0",
      "--host",
      "0.0.0.0",
      "--token",
      TOKEN,
      "--data-dir",
      join(dir, "data"),
    ]);
    try {
      await waitFor(() => /inspector\s+http:\/\/\S+\//u.test(cli.stdout()), "the banner", 20_000);
      const url = /inspector\s+(http:\/\/[^\s/]+)\//u.exec(cli.stdout())?.[1] as string;
      const auth = { authorization: `Bearer ${TOKEN}` };
      await fetch(`${url}/api/publish`, {
        method: "POST",
        headers: { ...auth, "content-type": "application/json" },
        body: '{"type":"task_completed","data":{"success":true}}',
      });
      const pages = await Promise.all(
        ["/", "/api/stats", "/metrics", "/learning/progress", "/inspector/app.js"].map((path) =>
          fetch(`${url}${path}`, { headers: auth }).then((response) => response.text()),
        ),
      );
      const failed = spawnCli([
        "publish",
        "x.y",
        "--nats",
        `nats://agent:wrong-${PASSWORD}@127.0.0.1:${plain.port}`,
        "--connect-timeout",
        "2000",
      ]);
      const tail = spawnCli([
        "tail",
        ">",
        "--nats",
        `nats://agent:${PASSWORD}@127.0.0.1:${plain.port}`,
        "--namespace",
        "secrets",
      ]);
      const failedRun = await failed.finished;
      await waitFor(() => tail.output().includes("[tail]"), "tail to start", 10_000);
      tail.child.kill("SIGTERM");
      await tail.finished;
      cli.child.kill("SIGTERM");
      await cli.finished;
      const everything = [cli.output(), failedRun.stdout, failedRun.stderr, tail.output(), ...pages].join(
        "\n",
      );
      expect(failedRun.code).toBe(1);
      expect(failedRun.stderr).toMatch(/agent-bus: .*agent:\*\*\*@/u);
      expect(cli.output()).toContain("agent:***@");
      const leaks = [PASSWORD, TOKEN].filter((secret) => everything.includes(secret));
      record(context, {
        injected: "password in --nats URLs, --token; output and 5 pages searched",
        sent: pages.length + 3,
        lost: 0,
        duplicated: 0,
        reordered: 0,
        note: `${leaks.length} secrets found`,
      });
      expect(leaks).toEqual([]);
    } finally {
      cli.child.kill("SIGKILL");
    }
  }, 60_000);
});
