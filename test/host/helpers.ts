/** Test helpers: throwaway extension folders, a captured log, a fresh bus per host. */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, expect } from "vitest";
import type { LearningState } from "../../extensions/agent_learning/learning.js";
import { createHost, type Host, type HostOptions } from "../../src/host/index.js";
import { EventBus } from "../../src/index.js";

const cleanups: (() => unknown)[] = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A temporary folder removed after the test. */
export function tempDir(prefix = "agent-bus-host-"): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Writes extension folders (`name/script.mjs` unless the key names the file) into a new folder. */
export function extensionsDir(scripts: Record<string, string>): string {
  const dir = tempDir("agent-bus-ext-");
  for (const [key, source] of Object.entries(scripts)) {
    const [name, file = "script.mjs"] = key.split("/");
    mkdirSync(join(dir, name as string), { recursive: true });
    writeFileSync(join(dir, name as string, file), source);
  }
  return dir;
}

/** A console stand-in that keeps every line. */
export function captureConsole() {
  const lines: string[] = [];
  const sink = {
    log: (line: string) => lines.push(`log ${line}`),
    warn: (line: string) => lines.push(`warn ${line}`),
    error: (line: string) => lines.push(`error ${line}`),
  };
  return { sink, lines, text: () => lines.join("\n") };
}

/** createHost on a fresh bus and data folder, closed after the test. */
export async function startHost(options: HostOptions = {}): Promise<Host> {
  const host = await createHost({ bus: new EventBus(), dataDir: tempDir("agent-bus-data-"), ...options });
  cleanups.push(() => host.close());
  return host;
}

/** A host running only the bundled agent_learning, with its data folder. */
export async function startLearning(dataDir = tempDir("agent-bus-data-"), sink = captureConsole().sink) {
  const host = await startHost({
    extensions: ["agent_learning"],
    extensionsDir: tempDir(),
    dataDir,
    console: sink,
  });
  expect(host.extensions.failed).toEqual([]);
  const progress = () => host.bus.request("agent_learning.progress", null) as Promise<LearningState>;
  return { host, dataDir, progress, file: join(dataDir, "agent_learning", "progress.json") };
}
