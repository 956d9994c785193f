#!/usr/bin/env node
/**
 * Where the instructions of one in-process case go: `bench:instructions` gives the total per
 * operation, this splits it by function, V8's generated code included, and can print the machine
 * code of one optimized function with the count of each instruction. A tool for working on the
 * hot paths (every figure in docs/bench.md about where a cost came from was found with it).
 *
 *   node bench/profile.mjs <library> <scenario>                 instructions per operation, by function
 *   node bench/profile.mjs <library> <scenario> --code <name>   and the optimized code of <name>, annotated
 *   options: --ops <small>,<large> (default 200000,1000000)  --top <n> (default 30)
 *            --min <instructions> (default 0.5: code lines run less often per operation are left out)
 *
 * Needs valgrind. The case runs twice under callgrind (`--dump-instr=yes`), as in
 * bench/instructions.mjs, with node's `--perf-basic-prof`, whose map of generated code names the
 * addresses callgrind cannot; the difference of the two runs, divided by the difference in
 * operations, is what one operation costs. Run `npm run build` first: this reads dist/.
 */

import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { adapters } from "./_adapters.mjs";
import { caseCommand } from "./_case-command.mjs";
import { scenarios } from "./_scenarios.mjs";

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    ops: { type: "string", default: "200000,1000000" },
    code: { type: "string" },
    top: { type: "string", default: "30" },
    min: { type: "string", default: "0.5" },
  },
});

function usage(message) {
  console.error(
    `bench/profile.mjs: ${message}\nusage: node bench/profile.mjs <library> <scenario> [--code <function>]`,
  );
  process.exit(2);
}

const [lib, scenario] = positionals;
if (adapters[lib] === undefined)
  usage(`unknown library ${JSON.stringify(lib)}; one of ${Object.keys(adapters).join(", ")}`);
if (scenarios[scenario] === undefined || scenarios[scenario].kind === "async")
  usage(`not a synchronous scenario: ${JSON.stringify(scenario)}`);
const [smallOps, largeOps] = values.ops.split(",").map(Number);
if (!(Number.isInteger(smallOps) && Number.isInteger(largeOps) && smallOps >= 0 && largeOps > smallOps))
  usage(`--ops must be two integers <small>,<large> with small < large, got ${values.ops}`);
const top = Number(values.top);
const min = Number(values.min);
if (values.code !== undefined && !/^[\w$.*]+$/u.test(values.code))
  usage(`--code takes a function name, got ${JSON.stringify(values.code)}`);

/** One process of the case under callgrind; resolves with its output files and stdout. */
function profileRun(ops, dir, code) {
  const out = join(dir, `callgrind.${ops}`);
  const args = [
    "--tool=callgrind",
    "--dump-instr=yes",
    "--compress-pos=no",
    "--compress-strings=no",
    `--callgrind-out-file=${out}`,
    ...caseCommand(lib, scenario, ops, [
      "--perf-basic-prof",
      // Generated code that moves would leave the map naming the wrong addresses.
      "--no-compact-code-space",
      ...(code === undefined ? [] : ["--print-opt-code", `--print-opt-code-filter=${code}`]),
    ]),
  ];
  return new Promise((resolve, reject) => {
    const child = spawn("valgrind", args, { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk) => (stdout += chunk));
    child.stderr.on("data", (chunk) => (stderr += chunk));
    child.on("error", (error) => reject(new Error(`valgrind: ${error.message} (is valgrind installed?)`)));
    child.on("close", (status) => {
      const pid = /^==(\d+)==/mu.exec(stderr)?.[1];
      if (status !== 0 || pid === undefined) {
        const lines = stderr.split("\n").filter((line) => !line.startsWith("=="));
        reject(new Error(`${lib} ${scenario} ${ops}: exit ${status}: ${lines.slice(-3).join(" | ")}`));
        return;
      }
      resolve({ out, perfMap: `/tmp/perf-${pid}.map`, stdout });
    });
  });
}

/** The generated code's address ranges and names, from node's --perf-basic-prof map, sorted. */
function readPerfMap(file) {
  const ranges = [];
  for (const line of readFileSync(file, "utf8").split("\n")) {
    const match = /^([0-9a-f]+) ([0-9a-f]+) (.*)$/u.exec(line);
    if (match === null) continue;
    const start = Number.parseInt(match[1], 16);
    ranges.push({ start, end: start + Number.parseInt(match[2], 16), name: match[3] });
  }
  return ranges.sort((a, b) => a.start - b.start);
}

/** The name of the generated code holding an address, if any (binary search). */
function nameAt(ranges, address) {
  let low = 0;
  let high = ranges.length - 1;
  while (low <= high) {
    const middle = (low + high) >> 1;
    const range = ranges[middle];
    if (address < range.start) high = middle - 1;
    else if (address >= range.end) low = middle + 1;
    else return range.name;
  }
  return undefined;
}

/**
 * Self cost by instruction address, and by function: callgrind's function name, or the
 * generated code's for an address the map names.
 */
function readCallgrind(file, ranges) {
  const byAddress = new Map();
  const byFunction = new Map();
  let fn = "?";
  let skipNext = false;
  for (const line of readFileSync(file, "utf8").split("\n")) {
    if (skipNext) {
      // The line after calls= is the inclusive cost of that call, not self cost.
      skipNext = false;
      continue;
    }
    if (line.startsWith("fn=")) fn = line.slice(3);
    else if (line.startsWith("calls=")) skipNext = true;
    else if (line.startsWith("0x")) {
      const [position, , cost] = line.split(" ");
      const address = Number.parseInt(position, 16);
      const count = Number(cost);
      byAddress.set(address, (byAddress.get(address) ?? 0) + count);
      const name = nameAt(ranges, address) ?? fn;
      byFunction.set(name, (byFunction.get(name) ?? 0) + count);
    }
  }
  return { byAddress, byFunction };
}

const dir = mkdtempSync(join(tmpdir(), "agent-bus-profile-"));
try {
  const runs = await Promise.all([
    // Both with the same flags: printing code costs instructions of its own.
    profileRun(smallOps, dir, values.code),
    profileRun(largeOps, dir, values.code),
  ]);
  const [small, large] = runs.map((run) => {
    const profile = readCallgrind(run.out, readPerfMap(run.perfMap));
    rmSync(run.perfMap, { force: true });
    return { ...run, ...profile };
  });
  const perOp = (a, b) => (b - a) / (largeOps - smallOps);
  const names = new Set([...small.byFunction.keys(), ...large.byFunction.keys()]);
  const rows = [...names]
    .map((name) => ({ name, cost: perOp(small.byFunction.get(name) ?? 0, large.byFunction.get(name) ?? 0) }))
    .sort((a, b) => Math.abs(b.cost) - Math.abs(a.cost));
  const total = rows.reduce((sum, row) => sum + row.cost, 0);
  console.log(
    `${lib} ${scenario}: ${total.toFixed(0)} instructions per operation (ops ${smallOps} and ${largeOps})`,
  );
  for (const row of rows.slice(0, top)) {
    if (Math.abs(row.cost) < min) break;
    console.log(`${row.cost.toFixed(1).padStart(9)}  ${row.name}`);
  }
  if (values.code !== undefined) {
    // Addresses in the listing are those of the large run, whose counts are divided by its ops
    // (start-up included: negligible for code run once per operation).
    console.log(`\noptimized code of ${values.code}, instructions run per operation (≥ ${min}):`);
    let shown = 0;
    for (const line of large.stdout.split("\n")) {
      const match = /^(0x[0-9a-f]+)\s/u.exec(line);
      if (match === null) {
        if (/^(--- |optimization_id|kind = )/u.test(line)) console.log(line);
        continue;
      }
      const count = (large.byAddress.get(Number.parseInt(match[1], 16)) ?? 0) / largeOps;
      if (count < min) continue;
      console.log(`${count.toFixed(2).padStart(7)}  ${line}`);
      shown++;
    }
    if (shown === 0) console.log(`(no optimized code of ${values.code} ran ${min} times per operation)`);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
