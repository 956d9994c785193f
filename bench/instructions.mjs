#!/usr/bin/env node
/**
 * Instructions per operation, counted by valgrind's callgrind: a second view of the in-process
 * scenarios that the machine's load cannot move. Each case runs twice in a fresh process under
 * callgrind, with a small and a large number of operations; the difference, divided by the
 * difference in operations, is the cost of one operation with start-up, set-up and warm-up left
 * out. V8 runs single-threaded with a fixed heap-growing schedule (`--single-threaded --predictable
 * --predictable-gc-schedule`), so that a case counts the same whatever else the machine runs, but
 * for a rare stray count (docs/bench.md, Instruction counts). Writes bench/results/instructions.{json,md}.
 *
 *   node bench/instructions.mjs            every synchronous scenario and library (~20 minutes)
 *   node bench/instructions.mjs --smoke    one scenario, two libraries, few operations, temp dir
 *   options: --out <dir>  --only <regexp on "lib scenario">  --ops <small>,<large>
 *            --repeat <n>  count each of the two n times and keep the least (a stray count only adds)
 */

import { execFileSync, spawn } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { availableParallelism, tmpdir } from "node:os";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { adapterFor, adapters, knownIds, sketches } from "./_adapters.mjs";
import { benchArgs } from "./_args.mjs";
import { caseCommand } from "./_case-command.mjs";
import { measuredCommit } from "./_commit.mjs";
import { scenarios } from "./_scenarios.mjs";

const here = dirname(fileURLToPath(import.meta.url));
// emittery's subscribe + unsubscribe (~73,000 instructions an operation) took more than 10 minutes
// on a busy machine under callgrind.
const CASE_TIMEOUT_MS = 1_200_000;

const { values } = benchArgs({
  options: {
    smoke: { type: "boolean", default: false },
    out: { type: "string" },
    only: { type: "string" },
    ops: { type: "string" },
    repeat: { type: "string", default: "1" },
  },
});
const smoke = values.smoke;
const outDir = values.out ?? (smoke ? join(tmpdir(), "agent-bus-bench-instructions") : join(here, "results"));
const only = values.only === undefined ? undefined : new RegExp(values.only, "u");
// Smoke: the large run a million operations more, so that a stray count (~47 million instructions
// more in one process now and then, docs/bench.md) cannot make it count less than the small one.
const [smallOps, largeOps] = (values.ops ?? (smoke ? "2000,1002000" : "200000,1000000"))
  .split(",")
  .map(Number);
if (!(Number.isInteger(smallOps) && Number.isInteger(largeOps) && smallOps >= 0 && largeOps > smallOps)) {
  console.error(
    `bench:instructions: --ops must be two integers <small>,<large> with small < large, got ${values.ops}`,
  );
  process.exit(2);
}

const repeat = Number(values.repeat);
if (!(Number.isInteger(repeat) && repeat >= 1)) {
  console.error(`bench:instructions: --repeat must be a positive integer, got ${values.repeat}`);
  process.exit(2);
}

function valgrindVersion() {
  try {
    return execFileSync("valgrind", ["--version"], { encoding: "utf8" }).trim();
  } catch {
    return undefined;
  }
}

/** Instructions callgrind counted for one process running `ops` operations of a case. */
function countInstructions(lib, scenario, ops) {
  const args = ["--tool=callgrind", "--callgrind-out-file=/dev/null", ...caseCommand(lib, scenario, ops)];
  return new Promise((resolve, reject) => {
    const child = spawn("valgrind", args, { stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    child.stderr.on("data", (chunk) => (stderr += chunk));
    const timer = setTimeout(() => child.kill("SIGKILL"), CASE_TIMEOUT_MS);
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      const collected = /Collected : (\d+)/u.exec(stderr);
      if (code === 0 && collected !== null) resolve(Number(collected[1]));
      else {
        const lines = stderr.split("\n").filter((line) => !line.startsWith("=="));
        const message = lines.find((line) => /Error/u.test(line)) ?? lines.slice(-3).join(" | ");
        reject(new Error(`${lib} ${scenario}: exit ${code ?? signal}: ${message}`));
      }
    });
  });
}

/** The cases: every synchronous scenario with every library it applies to. */
function planCases() {
  const ids = smoke ? ["publish-1"] : Object.keys(scenarios);
  // A sketch runs only when --only is given (and then only where it matches).
  const sketchIds = only === undefined ? [] : Object.keys(sketches);
  const libs = smoke ? ["plain-loop", "agent-bus"] : [...Object.keys(adapters), ...sketchIds];
  const cases = [];
  for (const scenario of ids) {
    if (scenarios[scenario].kind === "async") continue;
    for (const lib of libs) {
      if (!scenarios[scenario].applies(adapterFor(lib), lib)) continue;
      if (only === undefined || only.test(`${lib} ${scenario}`)) cases.push({ lib, scenario });
    }
  }
  return cases;
}

async function runAll(cases) {
  // Counts do not depend on the load, so every core may run a case.
  const slots = cases.map((entry) => ({ ...entry }));
  // A process now and then counts tens of millions of instructions more than its twins (a
  // one-off in V8, in either count): with --repeat, the least of each count is kept.
  const jobs = slots.flatMap((slot) =>
    Array.from({ length: repeat }, () => [
      { slot, ops: smallOps, field: "small" },
      { slot, ops: largeOps, field: "large" },
    ]).flat(),
  );
  let done = 0;
  const worker = async () => {
    for (let job = jobs.shift(); job !== undefined; job = jobs.shift()) {
      const { slot } = job;
      try {
        const count = await countInstructions(slot.lib, slot.scenario, job.ops);
        slot[job.field] = Math.min(slot[job.field] ?? count, count);
      } catch (error) {
        slot.error ??= error.message;
        process.stderr.write(`\n${error.message}\n`);
      }
      done++;
      if (process.stderr.isTTY) process.stderr.write(`\r${done} of ${done + jobs.length} processes done   `);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, availableParallelism()) }, worker));
  if (process.stderr.isTTY) process.stderr.write("\n");
  return slots.map((slot) => ({
    ...slot,
    perOp:
      slot.error === undefined
        ? Math.round(((slot.large - slot.small) / (largeOps - smallOps)) * 10) / 10
        : null,
  }));
}

function renderMarkdown(report) {
  const libs = knownIds.filter((lib) => report.results.some((r) => r.lib === lib));
  const ids = Object.keys(scenarios).filter((id) => report.results.some((r) => r.scenario === id));
  const cell = (lib, id) => report.results.find((r) => r.lib === lib && r.scenario === id);
  const header = `| scenario | ${libs.map((lib) => adapterFor(lib).label).join(" | ")} |\n| --- |${" ---: |".repeat(libs.length)}`;
  const table = (format) =>
    ids
      .map((id) => `| ${scenarios[id].title} | ${libs.map((lib) => format(cell(lib, id), id)).join(" | ")} |`)
      .join("\n");
  const perOp = (r) => (r === undefined ? "—" : r.perOp === null ? "error" : r.perOp.toFixed(0));
  const ratio = (r, id) => {
    const loop = cell("plain-loop", id)?.perOp;
    if (r === undefined || !r.perOp || !loop) return "—";
    const text = (loop / r.perOp).toFixed(2);
    return r.lib === "agent-bus" ? `**${text}**` : text;
  };
  const env = report.environment;
  return `# agent-bus in-process benchmark: instructions per operation

${env.mode} run of agent-bus ${env.commit}, ${env.date.slice(0, 10)}: Node ${env.node} (V8 ${env.v8}), ${env.valgrind}, ${env.platform}.
Counted by callgrind, not timed: each case ran in a fresh \`node --single-threaded --predictable
--predictable-gc-schedule\` process under \`valgrind --tool=callgrind\`, once with ${env.ops[0].toLocaleString("en-US")} and once with ${env.ops[1].toLocaleString("en-US")} operations${env.repeat > 1 ? ` (each ${env.repeat} times, the least kept)` : ""}; the
difference in instructions over the difference in operations leaves start-up, set-up and warm-up
out. Counts barely move with the machine's load (a rare stray count is described in docs/bench.md:
run a surprising case again), so two builds can be compared here where their timings drown in noise. Instructions are not time: cache misses,
mispredicted branches and allocation cost differ per instruction, so read this beside
in-process.md, not instead of it. Generated by \`npm run bench:instructions\` (bench/instructions.mjs).

## Instructions per operation (lower is better)

${header}
${table(perOp)}

## Plain loop's instructions ÷ the library's (higher is better, like the speed ratios)

${header}
${table(ratio)}
`;
}

const version = valgrindVersion();
if (version === undefined) {
  console.error("bench:instructions needs valgrind on the PATH (Debian: apt-get install -y valgrind)");
  process.exit(1);
}
const cases = planCases();
const started = Date.now();
const results = await runAll(cases);
const report = {
  environment: {
    mode: smoke ? "smoke" : "full",
    commit: measuredCommit(),
    date: new Date().toISOString(),
    node: process.versions.node,
    v8: process.versions.v8,
    valgrind: version,
    platform: `${process.platform}-${process.arch}`,
    ops: [smallOps, largeOps],
    repeat,
    seconds: (Date.now() - started) / 1000,
  },
  results,
};
mkdirSync(outDir, { recursive: true });
writeFileSync(join(outDir, "instructions.json"), `${JSON.stringify(report, null, 2)}\n`);
writeFileSync(join(outDir, "instructions.md"), renderMarkdown(report));
const failed = results.filter((r) => r.error !== undefined);
console.log(
  `bench:instructions: ${results.length} cases in ${report.environment.seconds.toFixed(0)}s, results in ${relative(process.cwd(), outDir) || "."}/instructions.{md,json}`,
);
if (failed.length > 0) {
  console.error(`bench:instructions: ${failed.length} case(s) failed`);
  process.exit(1);
}
