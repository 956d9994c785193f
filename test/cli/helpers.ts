/** Test helpers: the built CLI, run as a real child process. */
import { type ChildProcess, execSync, spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, rmdirSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll } from "vitest";

const ROOT = resolve(import.meta.dirname, "../..");
export const MAIN = join(ROOT, "dist/cli/main.js");
export const FIXTURES = join(import.meta.dirname, "fixtures/extensions");

function newestSource(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestSource(path) : statSync(path).mtimeMs);
  }
  return newest;
}

/**
 * Builds dist/ when it is missing or older than src/ (npm install builds it through `prepare`).
 * A lock folder keeps test files running in parallel from building at the same time.
 */
export async function ensureBuilt(): Promise<void> {
  const lock = join(
    tmpdir(),
    `agent-bus-build-lock-${createHash("sha1").update(ROOT).digest("hex").slice(0, 12)}`,
  );
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch {
      // A lock left by a killed run is stale after a minute.
      if (Date.now() - (statSync(lock, { throwIfNoEntry: false })?.mtimeMs ?? Date.now()) > 60_000)
        rmdirSync(lock);
      await new Promise((done) => setTimeout(done, 100));
    }
  }
  try {
    if (!existsSync(MAIN) || statSync(MAIN).mtimeMs < newestSource(join(ROOT, "src"))) {
      try {
        execSync("npm run build", { cwd: ROOT, stdio: "pipe" });
      } catch {
        // tsc emits despite type errors elsewhere in src/; the tests judge what was emitted.
      }
    }
  } finally {
    rmdirSync(lock);
  }
}

/** The outcome of a finished CLI run. */
export interface Finished {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/**
 * CLI processes still running. A test that fails before it stops its `run` would leave a host
 * serving on, orphaned: what is left is killed after the file's tests.
 */
const running = new Set<ChildProcess>();
// Registered on the suite of the test file that imports this module (it is loaded per file).
afterAll(() => {
  for (const child of running) child.kill("SIGKILL");
});

/** Spawns `node dist/cli/main.js ...args` and collects its output. */
export function spawnCli(args: string[], cwd = ROOT) {
  const child: ChildProcess = spawn(process.execPath, [MAIN, ...args], {
    cwd,
    stdio: ["ignore", "pipe", "pipe"],
  });
  running.add(child);
  child.once("exit", () => running.delete(child));
  let stdout = "";
  let stderr = "";
  child.stdout?.on("data", (chunk) => {
    stdout += chunk;
  });
  child.stderr?.on("data", (chunk) => {
    stderr += chunk;
  });
  const finished = new Promise<Finished>((done) => {
    child.on("close", (code, signal) => done({ code, signal, stdout, stderr }));
  });
  return {
    child,
    finished,
    output: () => stdout + stderr,
    stdout: () => stdout,
  };
}

/** Runs the CLI to its end. */
export function runCli(args: string[], cwd?: string): Promise<Finished> {
  return spawnCli(args, cwd).finished;
}
