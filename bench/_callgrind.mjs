/**
 * Running a command under callgrind and reading what it counted: self cost by instruction address
 * and by function, V8's generated code named from node's `--perf-basic-prof` map. Shared by
 * bench/profile.mjs (one in-process case) and bench/transports/count.mjs (a broker publisher).
 */

import { spawn } from "node:child_process";
import { readFileSync, rmSync } from "node:fs";

/**
 * Runs `command` (a program and its arguments) under callgrind, writing its counts to `out`;
 * resolves with them, the perf map node wrote (when run with --perf-basic-prof) and its stdout.
 * `what` names the run in an error.
 */
export function callgrind(command, out, what) {
  const args = [
    "--tool=callgrind",
    "--dump-instr=yes",
    "--compress-pos=no",
    "--compress-strings=no",
    `--callgrind-out-file=${out}`,
    ...command,
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
        reject(new Error(`${what}: exit ${status}: ${lines.slice(-3).join(" | ")}`));
        return;
      }
      resolve({ out, perfMap: `/tmp/perf-${pid}.map`, stdout });
    });
  });
}

/** The generated code's address ranges and names, from node's --perf-basic-prof map, sorted. */
export function readPerfMap(file) {
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
export function readCallgrind(file, ranges) {
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

/** A finished run's counts, by address and by function; its perf map is removed. */
export function readRun(run) {
  const profile = readCallgrind(run.out, readPerfMap(run.perfMap));
  rmSync(run.perfMap, { force: true });
  return { ...run, ...profile };
}

/**
 * What one operation costs, from two runs that differ only in how many they did (`extra` more in
 * the large one): by function, largest first, and in all.
 */
export function perOperation(small, large, extra) {
  const names = new Set([...small.byFunction.keys(), ...large.byFunction.keys()]);
  const rows = [...names]
    .map((name) => ({
      name,
      cost: ((large.byFunction.get(name) ?? 0) - (small.byFunction.get(name) ?? 0)) / extra,
    }))
    .sort((a, b) => Math.abs(b.cost) - Math.abs(a.cost));
  return { rows, total: rows.reduce((sum, row) => sum + row.cost, 0) };
}
