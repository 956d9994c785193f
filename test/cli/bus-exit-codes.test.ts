import { createServer } from "node:net";
import { beforeAll, describe, expect, it } from "vitest";
import { ensureBuilt, runCli } from "./helpers.js";

const NATS = "nats://127.0.0.1:4222";
let closedPort: number;

beforeAll(async () => {
  await ensureBuilt();
  // A port that was free a moment ago: nothing listens there.
  const server = createServer();
  await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
  closedPort = (server.address() as { port: number }).port;
  await new Promise((done) => server.close(done));
}, 60_000);

describe("agent-bus tail and publish: usage errors exit 2", () => {
  it.each([
    [["tail", "task.*.>.x", "--nats", NATS], /may use ">" only as its last token/u],
    [["tail", "task*", "--nats", NATS], /must use \* and > as whole tokens/u],
    [["tail", "--nats", NATS], /missing <pattern>/u],
    [["tail", "a", "b", "--nats", NATS], /unexpected argument "b"/u],
    [["tail", ">"], /tail needs --nats <url> or --redis <url>/u],
    [["tail", ">", "--nats", NATS, "--redis", "redis://127.0.0.1:6379"], /give one of --nats, --redis/u],
    [["tail", ">", "--nats", NATS, "--namespace", "bad ns"], /--namespace must be dot-separated tokens/u],
    [
      ["tail", ">", "--nats", NATS, "--connect-timeout", "soon"],
      /--connect-timeout must be a positive number/u,
    ],
    [["publish", "task.*", "--nats", NATS], /<type> must not contain wildcards/u],
    [["publish", "a..b", "--nats", NATS], /<type> has an empty token/u],
    [["publish", "--nats", NATS], /missing <type>/u],
    [["publish", "task", "{not json", "--nats", NATS], /<json> is not valid JSON/u],
    [["publish", "task", "{}", "extra", "--nats", NATS], /unexpected argument "extra"/u],
    [["publish", "task", "{}"], /publish needs --nats <url> or --redis <url>/u],
    [["publish", "task", "--timeout", "5", "--nats", NATS], /--timeout goes with --request/u],
    [
      ["publish", "task", "--request", "--timeout", "0", "--nats", NATS],
      /--timeout must be a positive number/u,
    ],
    [["run", "--nats", NATS, "--redis", "redis://127.0.0.1:6379"], /give one of --nats, --redis/u],
    [["run", "--namespace", "x"], /agent-bus: --namespace needs --nats <url> or --redis <url>$/mu],
    [
      ["run", "--connect-timeout", "abc"],
      /agent-bus: --connect-timeout needs --nats <url> or --redis <url>$/mu,
    ],
    [
      ["run", "--namespace", "x", "--connect-timeout", "9"],
      /--namespace and --connect-timeout need --nats <url> or --redis <url>/u,
    ],
    [["--version", "extra"], /--version takes no arguments, got "extra"/u],
  ])("ends %j with a clear message and exit code 2", async (args, message) => {
    const result = await runCli(args as string[]);
    expect(result.stderr).toMatch(message);
    expect(result.code).toBe(2);
    expect(result.stderr).not.toMatch(/^\s+at /mu);
  });

  it("prints the usage of tail and publish with --help, and lists them in the main usage", async () => {
    const tail = await runCli(["tail", "--help"]);
    expect([tail.code, tail.stdout]).toEqual([0, expect.stringContaining("--json")]);
    const publish = await runCli(["publish", "--help"]);
    expect([publish.code, publish.stdout]).toEqual([0, expect.stringContaining("--request")]);
    const main = await runCli(["--help"]);
    expect(main.stdout).toMatch(/agent-bus tail <pattern>[\s\S]*agent-bus publish <type>/u);
    expect(main.stdout).toContain('namespace\n"agent-bus"');
  });
});

describe("agent-bus on an unreachable server", () => {
  it.each([
    ["tail", "nats", ["tail", ">"]],
    ["publish", "nats", ["publish", "x", "{}"]],
    ["run", "nats", ["run", "--port", "0", "--data-dir", "/nonexistent-unused"]],
    ["tail", "redis", ["tail", ">"]],
    ["publish", "redis", ["publish", "x"]],
    ["run", "redis", ["run", "--port", "0", "--data-dir", "/nonexistent-unused"]],
  ])("%s --%s exits 1 quickly, naming the URL without its password", async (_name, flag, args) => {
    const url = `${flag}://alice:s3cret@127.0.0.1:${closedPort}`;
    const started = Date.now();
    const result = await runCli([...(args as string[]), `--${flag}`, url]);
    expect(result.code).toBe(1);
    expect(Date.now() - started).toBeLessThan(4000);
    expect(result.stderr).toContain(
      `agent-bus: cannot connect to ${flag === "nats" ? "NATS" : "Redis"} ${flag}://alice:***@127.0.0.1:${closedPort}`,
    );
    expect(result.stdout + result.stderr).not.toContain("s3cret");
  });

  it("gives up after --connect-timeout when the server never answers", async () => {
    // A listener that accepts but never speaks NATS: the client waits for INFO.
    const silent = createServer(() => undefined);
    await new Promise<void>((done) => silent.listen(0, "127.0.0.1", done));
    const { port } = silent.address() as { port: number };
    try {
      const started = Date.now();
      const result = await runCli([
        "tail",
        ">",
        "--nats",
        `nats://127.0.0.1:${port}`,
        "--connect-timeout",
        "500",
      ]);
      expect(result.code).toBe(1);
      expect(result.stderr).toContain(`cannot connect to NATS nats://127.0.0.1:${port}`);
      expect(Date.now() - started).toBeLessThan(4000);
    } finally {
      silent.close();
    }
  });
});
