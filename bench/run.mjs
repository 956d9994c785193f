#!/usr/bin/env node
/**
 * Runs the in-process benchmark: every case in its own fresh `node bench/case.mjs` process,
 * round after round so that noise on a shared machine spreads over all libraries, then writes
 * bench/results/in-process.{json,md,svg}.
 *
 *   node bench/run.mjs            full run (several minutes)
 *   node bench/run.mjs --smoke    a few ms per case, every scenario and library, results in a temp dir
 *   options: --out <dir>  --only <regexp on "lib case">  --rounds <n>
 */

import { spawn } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { benchArgs } from "./_args.mjs";
import { renderChart } from "./_chart.mjs";
import { measuredCommit } from "./_commit.mjs";
import { MODES, planCases } from "./_plan.mjs";
import { buildReport, checkTargets, renderMarkdown } from "./_report.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const CASE_TIMEOUT_MS = 120_000;

const { values } = benchArgs({
  options: {
    smoke: { type: "boolean", default: false },
    out: { type: "string" },
    only: { type: "string" },
    rounds: { type: "string" },
    rerender: { type: "boolean", default: false },
  },
});
const mode = values.smoke ? "smoke" : "full";
const outDir = values.out ?? (values.smoke ? join(tmpdir(), "agent-bus-bench-smoke") : join(here, "results"));
const rounds = Number(values.rounds ?? MODES[mode].rounds);
const only = values.only === undefined ? undefined : new RegExp(values.only, "u");

/** The run's JSON, markdown and chart, in --out. */
function writeResults(report) {
  writeFileSync(join(outDir, "in-process.json"), `${JSON.stringify(report, null, 2)}\n`);
  writeFileSync(join(outDir, "in-process.md"), renderMarkdown(report));
  writeFileSync(join(outDir, "in-process.svg"), renderChart(report));
}

// --rerender: the markdown and chart of the run in --out (bench/results), with the targets judged
// again by the current report code; the measurements themselves are kept as they are.
if (values.rerender) {
  const report = JSON.parse(readFileSync(join(outDir, "in-process.json"), "utf8"));
  report.targets = checkTargets(report.speed, report.churn, report.memory);
  writeResults(report);
  console.log(`bench: ${relative(process.cwd(), outDir) || "."}/in-process.{md,json,svg} rendered again`);
  process.exit(0);
}

const built = join(here, "..", "dist", "index.js");
if (!existsSync(built)) {
  console.error("bench: dist/index.js is missing; run `npm run build` first");
  process.exit(1);
}
const sourceDir = join(here, "..", "src");
const newestSource = Math.max(
  ...readdirSync(sourceDir, { recursive: true }).map((f) => statSync(join(sourceDir, f)).mtimeMs),
);
if (newestSource > statSync(built).mtimeMs)
  console.warn("bench: src/ is newer than dist/; `npm run bench` builds first");

function runChild(entry) {
  return new Promise((resolve) => {
    const args = [
      ...(entry.flags ?? []),
      join(here, "case.mjs"),
      entry.lib,
      entry.case,
      JSON.stringify(entry.timing),
    ];
    const child = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk) => (stdout += chunk));
    child.stderr.on("data", (chunk) => (stderr += chunk));
    const timer = setTimeout(() => child.kill("SIGKILL"), CASE_TIMEOUT_MS);
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      const line = stdout.trim().split("\n").pop() ?? "";
      if (code === 0 && line.startsWith("{")) resolve(JSON.parse(line));
      else {
        const lines = stderr.trim().split("\n");
        const message = lines.find((l) => /Error/u.test(l)) ?? lines.slice(-3).join(" | ");
        resolve({ error: `exit ${code ?? signal}: ${message}` });
      }
    });
  });
}

async function runAll(cases) {
  const results = new Map();
  const concurrency = mode === "smoke" ? Math.max(1, cpus().length) : 1;
  const queue = [];
  for (let round = 0; round < rounds; round++) {
    // Alternate the order so that a slow stretch of the machine does not always hit the same cases.
    const ordered = round % 2 === 0 ? cases : [...cases].reverse();
    queue.push(...ordered);
  }
  let done = 0;
  const started = Date.now();
  const worker = async () => {
    while (queue.length > 0) {
      const entry = queue.shift();
      const key = `${entry.lib} ${entry.case}`;
      const result = await runChild(entry);
      done++;
      const slot = results.get(key) ?? { ...entry, runs: [], errors: [] };
      if (result.error) slot.errors.push(result.error);
      else slot.runs.push({ samples: result.samples, note: result.note, unit: result.unit });
      results.set(key, slot);
      if (process.stderr.isTTY) {
        const seconds = ((Date.now() - started) / 1000).toFixed(0);
        process.stderr.write(`\r[${seconds}s] ${done} cases done, ${queue.length} to go   `);
      }
      if (result.error) process.stderr.write(`\n${key}: ${result.error}\n`);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  if (process.stderr.isTTY) process.stderr.write("\n");
  return [...results.values()];
}

const cases = planCases(mode).filter(
  (entry) => only === undefined || only.test(`${entry.lib} ${entry.case}`),
);
const started = Date.now();
const results = await runAll(cases);
const report = buildReport(results, {
  commit: measuredCommit(),
  mode,
  rounds,
  timing: MODES[mode],
  seconds: (Date.now() - started) / 1000,
});
mkdirSync(outDir, { recursive: true });
writeResults(report);
const failed = results.filter((slot) => slot.errors.length > 0);
console.log(
  `bench: ${results.length} cases in ${report.environment.seconds.toFixed(0)}s, results in ${relative(process.cwd(), outDir) || "."}/in-process.{md,json,svg}`,
);
if (failed.length > 0) {
  console.error(
    `bench: ${failed.length} cases failed:\n${failed.map((slot) => `  ${slot.lib} ${slot.case}: ${slot.errors[0]}`).join("\n")}`,
  );
  process.exit(1);
}
