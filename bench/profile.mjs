#!/usr/bin/env node
/**
 * Where the instructions of one in-process case go: `bench:instructions` gives the total per
 * operation, this splits it by function, V8's generated code included, and can print the machine
 * code of one optimized function with the count of each instruction. A tool for working on the
 * hot paths (every figure in docs/bench.md and docs/bench-history.md about where a cost came
 * from was found with it).
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

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { adapterFor, knownIds } from "./_adapters.mjs";
import { benchArgs } from "./_args.mjs";
import { callgrind, perOperation, readRun } from "./_callgrind.mjs";
import { caseCommand } from "./_case-command.mjs";
import { scenarios } from "./_scenarios.mjs";

const { values, positionals } = benchArgs({
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
if (adapterFor(lib) === undefined)
  usage(`unknown library ${JSON.stringify(lib)}; one of ${knownIds.join(", ")}`);
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
  const command = caseCommand(lib, scenario, ops, [
    "--perf-basic-prof",
    // Generated code that moves would leave the map naming the wrong addresses.
    "--no-compact-code-space",
    ...(code === undefined ? [] : ["--print-opt-code", `--print-opt-code-filter=${code}`]),
  ]);
  return callgrind(command, join(dir, `callgrind.${ops}`), `${lib} ${scenario} ${ops}`);
}

const dir = mkdtempSync(join(tmpdir(), "agent-bus-profile-"));
try {
  const runs = await Promise.all([
    // Both with the same flags: printing code costs instructions of its own.
    profileRun(smallOps, dir, values.code),
    profileRun(largeOps, dir, values.code),
  ]);
  const [small, large] = runs.map(readRun);
  const { rows, total } = perOperation(small, large, largeOps - smallOps);
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
