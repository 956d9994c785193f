import { readFileSync } from "node:fs";
import { beforeAll, describe, expect, it } from "vitest";
import { ensureBuilt, runCli } from "./helpers.js";

beforeAll(ensureBuilt, 60_000);

const { version } = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8"));

describe("agent-bus exit codes", () => {
  it("prints the version with --version and exits 0", async () => {
    const result = await runCli(["--version"]);
    expect([result.code, result.stdout.trim()]).toEqual([0, version]);
  });

  it("prints the usage with --help and run --help, exiting 0", async () => {
    const main = await runCli(["--help"]);
    expect(main.code).toBe(0);
    expect(main.stdout).toContain("agent-bus run --extensions <names>");
    const run = await runCli(["run", "--help"]);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain("--extensions-dir <dir>");
  });

  it.each([
    [["run", "--verbose"], /unknown option --verbose for "run"/u],
    [["run", "--port", "http"], /--port must be a port number from 0 to 65535, got "http"/u],
    [["run", "--port", "70000"], /--port must be a port number from 0 to 65535, got "70000"/u],
    [["run", "--port"], /--port needs a value/u],
    [["run", "--extensions"], /--extensions needs a value/u],
    [
      ["run", "--config", "/nonexistent/agent-bus.yaml"],
      /Cannot read config file \/nonexistent\/agent-bus\.yaml/u,
    ],
    [["frobnicate"], /unknown command "frobnicate"/u],
    [["--frobnicate"], /unknown option --frobnicate/u],
    [[], /^agent-bus: missing command \(commands: run, tail, publish, list; see agent-bus --help\)\n$/u],
    [["list", "extra"], /unexpected argument "extra"/u],
  ])("ends %j with a clear message and exit code 2", async (args, message) => {
    const result = await runCli(args as string[]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(message);
    expect(result.stderr).not.toMatch(/^\s+at /mu);
  });
});
