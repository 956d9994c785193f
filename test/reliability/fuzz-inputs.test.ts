// Fuzzing the inputs a person or another program hands the host: CLI arguments, config files,
// extension params, and bodies of the inspector's POST /api/publish. Each gets a clear error of
// its own kind (never a crash), and the host keeps answering afterwards.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { UsageError } from "../../src/cli/args.js";
import { runOptions } from "../../src/cli/run.js";
import { ConfigError, checkConfig, readConfigFile, resolveParams } from "../../src/host/config.js";
import { createHost, type Host } from "../../src/host/index.js";
import { EventBus } from "../../src/index.js";
import { ensureBuilt, runCli } from "../cli/helpers.js";
import { POLLUTING_JSON, plainData, prototypeClean } from "./_fuzz.js";
import { record } from "./_record.js";

const dir = mkdtempSync(join(tmpdir(), "agent-bus-fuzz-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const word = fc.oneof(
  fc.constantFrom(
    "--extensions",
    "--port",
    "--port=",
    "--config",
    "--token",
    "--host",
    "--nats",
    "--redis",
    "--namespace",
    "--connect-timeout",
    "--help",
    "--help=1",
    "--no-inspector",
    "-",
    "--",
    "---x",
    "--=",
    "--constructor",
    "--__proto__",
    "--toString",
    "-p",
    "65536",
    "-1",
    "0",
    "1e3",
    "a,b",
    ",,",
    "🚀",
    "",
  ),
  fc.string({ maxLength: 8 }),
);

describe("CLI arguments under fuzzing", () => {
  beforeAll(ensureBuilt, 120_000);

  it("run's options parse or throw a UsageError, nothing else", (context) => {
    let sent = 0;
    let refused = 0;
    fc.assert(
      fc.property(fc.array(word, { maxLength: 8 }), (argv) => {
        sent++;
        try {
          const options = runOptions(argv);
          expect(Object.getPrototypeOf(options)).toBe(Object.prototype);
        } catch (error) {
          refused++;
          expect(error).toBeInstanceOf(UsageError);
          expect((error as Error).message.split("\n")[0]?.length).toBeGreaterThan(0);
        }
      }),
      { numRuns: 3000 },
    );
    expect(prototypeClean()).toBe(true);
    record(context, {
      injected: "random run argument lists",
      sent,
      lost: 0,
      duplicated: 0,
      reordered: 0,
      note: `${refused} refused with UsageError, the rest parsed`,
    });
  });

  it("the real command exits 2 with one line for bad arguments, fast", async (context) => {
    const cases = [
      ["publish", "bad type", "--nats", "nats://127.0.0.1:1"],
      ["publish", "a.*", "--nats", "nats://127.0.0.1:1"],
      ["publish", "a.b", "{not json", "--nats", "nats://127.0.0.1:1"],
      ["publish", "a.b", "--constructor", "x", "--nats", "nats://127.0.0.1:1"],
      ["tail", "a..b", "--redis", "redis://127.0.0.1:1"],
      ["tail", ">.a", "--nats", "nats://127.0.0.1:1"],
      ["tail", "a", "--nats", "x", "--redis", "y"],
      ["run", "--port", "99999"],
      ["run", "--namespace", "x"],
      ["run", "--config", join(dir, "missing.yaml")],
      ["publish", "a", "--nats", "nats://127.0.0.1:1", "--namespace", "bad namespace!"],
      ["--__proto__"],
      ["🚀"],
    ];
    for (const args of cases) {
      const started = Date.now();
      const { code, stderr, stdout } = await runCli(args);
      expect({ args, code }).toEqual({ args, code: 2 });
      expect(stderr.trim().split("\n")[0]).toMatch(/^agent-bus: /u);
      expect(stdout).toBe("");
      expect(Date.now() - started).toBeLessThan(10_000);
    }
    record(context, {
      injected: "bad CLI lines, real processes",
      sent: cases.length,
      lost: 0,
      duplicated: 0,
      reordered: 0,
    });
  }, 60_000);
});

const yamlText = fc.oneof(
  fc.constantFrom(
    "default_extensions: [a, b]",
    "default_extensions: a",
    "default_extensions: [1, 2]",
    "- a\n- b",
    "just text",
    "42",
    "null",
    "{",
    "a: [",
    "key: value\n  bad indent: x",
    "__proto__: {polluted: yes}",
    '{"__proto__": {"polluted": "yes"}, "constructor": {"prototype": {"polluted": "yes"}}}',
    "agent_learning-__proto__: {polluted: yes}",
    "&a [*a]",
    "!!js/function 'function(){}'",
    "\u0000\u0001",
    "x: !!binary aGVsbG8=",
    "a: &x 1\nb: *y",
  ),
  fc.string({ maxLength: 40 }),
  fc.json().map((json) => json),
);

describe("config files under fuzzing", () => {
  it("read as a config or refused with a ConfigError naming the file; Object.prototype untouched", (context) => {
    const file = join(dir, "config.yaml");
    let sent = 0;
    let refused = 0;
    fc.assert(
      fc.property(yamlText, (text) => {
        sent++;
        writeFileSync(file, text);
        try {
          const config = readConfigFile(file);
          expect(typeof config).toBe("object");
          resolveParams("agent_learning", { display_name: "x", rate: 1 }, config, silentLogger());
        } catch (error) {
          refused++;
          expect(error).toBeInstanceOf(ConfigError);
          expect((error as Error).message).toContain(file);
        }
        expect(prototypeClean()).toBe(true);
      }),
      { numRuns: 1500 },
    );
    expect(() => checkConfig([1, 2])).toThrow(ConfigError);
    record(context, {
      injected: "random YAML/JSON config files",
      sent,
      lost: 0,
      duplicated: 0,
      reordered: 0,
      note: `${refused} refused with ConfigError`,
    });
  });

  it("a host given a bad config file fails with ConfigError; the next one with a good file runs", async () => {
    const bad = join(dir, "bad.yaml");
    writeFileSync(bad, "default_extensions: [1]");
    await expect(createHost({ config: bad, bus: new EventBus(), dataDir: dir })).rejects.toThrow(ConfigError);
    const good = join(dir, "good.yaml");
    writeFileSync(good, "default_extensions: [agent_learning]\nagent_learning-__proto__: {polluted: yes}");
    const host = await createHost({
      config: good,
      bus: new EventBus(),
      dataDir: dir,
      console: silentConsole(),
    });
    expect(host.extensions.loaded.map((e) => e.name)).toEqual(["agent_learning"]);
    expect(prototypeClean()).toBe(true);
    await host.close();
  });
});

describe("extension params under fuzzing", () => {
  it("only declared params change, only to values of their type; prototypes stay put", (context) => {
    const declared = { display_name: "Learner", rate: 0.5, enabled: true, tags: ["a"], note: null };
    let sent = 0;
    fc.assert(
      fc.property(
        fc.dictionary(
          fc.oneof(
            fc.constantFrom(
              "learner-rate",
              "learner-enabled",
              "learner-__proto__",
              "learner-constructor",
              "learner-tags",
            ),
            fc.string({ maxLength: 12 }).map((key) => `learner-${key}`),
            fc.string({ maxLength: 12 }),
          ),
          fc.oneof(
            fc.jsonValue(),
            fc.constant(JSON.parse('{"__proto__":{"polluted":"yes"}}')),
            fc.constant(cyclic()),
          ),
          { maxKeys: 6 },
        ),
        (config) => {
          sent++;
          const params = resolveParams("learner", declared, config, silentLogger());
          expect(Object.getPrototypeOf(params)).toBe(Object.prototype);
          expect(Object.keys(params).sort()).toEqual(Object.keys(declared).sort());
          for (const [key, value] of Object.entries(declared)) {
            if (value !== null) expect(typeof params[key]).toBe(typeof value);
          }
          expect(prototypeClean()).toBe(true);
        },
      ),
      { numRuns: 2000 },
    );
    record(context, {
      injected: "random <name>-<param> config keys and values",
      sent,
      lost: 0,
      duplicated: 0,
      reordered: 0,
    });
  });
});

describe("POST /api/publish bodies under fuzzing", () => {
  let host: Host;
  const delivered: unknown[] = [];
  beforeAll(async () => {
    const bus = new EventBus({ onError: () => undefined });
    host = await createHost({ port: 0, bus, dataDir: dir, console: silentConsole() });
    bus.subscribe(">", (data, event) => {
      if (!event.type.startsWith("host.")) delivered.push(data);
    });
  });
  afterAll(() => host?.close());

  const post = (body: string, type: string) =>
    fetch(`${host.url}/api/publish`, { method: "POST", headers: { "content-type": type }, body });

  it("answers 200, 400, 413 or 415 with a JSON error, never 500; the host keeps serving", async (context) => {
    const bodies = fc.oneof(
      fc.constantFrom(...POLLUTING_JSON.map((data) => `{"type":"fuzz.proto","data":${data}}`)),
      fc
        .record({
          type: fc.oneof(fc.string({ maxLength: 10 }), fc.constantFrom("a.b", "a.*", "", "x y")),
          data: fc.jsonValue(),
        })
        .map((b) => JSON.stringify(b)),
      fc.json(),
      fc.string({ maxLength: 30 }),
      fc.constantFrom('{"type":"a.b"', '{"type": 1}', "[]", "null", '{"type":"a.b","data":'),
      fc
        .integer({ min: 64 * 1024 - 30, max: 70 * 1024 })
        .map((n) => `{"type":"big.one","data":"${"x".repeat(n)}"}`),
    );
    const types = fc.constantFrom(
      "application/json",
      "application/json; charset=utf-8",
      "text/plain",
      "application/x-www-form-urlencoded",
      "",
    );
    const samples = fc.sample(fc.tuple(bodies, types), 400);
    const statuses = new Map<number, number>();
    let accepted = 0;
    for (const [body, type] of samples) {
      const response = await post(body, type);
      statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
      expect([200, 400, 413, 415]).toContain(response.status);
      const answer = (await response.json()) as { error?: string; published?: string };
      if (response.status === 200) accepted++;
      else expect(answer.error).toMatch(/\S/u);
    }
    expect(delivered.length).toBe(accepted);
    expect(delivered.every((data) => plainData(data))).toBe(true);
    expect(prototypeClean()).toBe(true);
    const ok = await post('{"type":"after.fuzz","data":{"n":1}}', "application/json");
    expect(ok.status).toBe(200);
    expect(delivered.at(-1)).toEqual({ n: 1 });
    expect((await fetch(`${host.url}/api/stats`)).status).toBe(200);
    record(context, {
      injected: "random bodies and content types to POST /api/publish",
      sent: samples.length,
      lost: 0,
      duplicated: 0,
      reordered: 0,
      note: [...statuses]
        .sort()
        .map(([status, n]) => `${n}×${status}`)
        .join(", "),
    });
  }, 60_000);
});

/** What the YAML `&a [*a]` parses to. */
function cyclic(): unknown[] {
  const list: unknown[] = [];
  list.push(list);
  return list;
}

function silentLogger() {
  const quiet = () => undefined;
  return { info: quiet, warn: quiet, error: quiet };
}

function silentConsole() {
  const quiet = () => undefined;
  return { log: quiet, warn: quiet, error: quiet };
}
