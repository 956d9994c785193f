/** The command that runs one instruction-count case under callgrind, shared by the count and the profile. */

import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));

/**
 * Node and its arguments for `_instructions-case.mjs`, after valgrind's own options. V8 runs
 * single-threaded with a fixed heap-growing schedule: it sizes its heap from the measured speed of
 * its collector and of the program, wall time, which a busy machine stretches, changing how many
 * collections a run makes.
 */
export function caseCommand(lib, scenario, ops, nodeFlags = []) {
  return [
    process.execPath,
    "--single-threaded",
    "--predictable",
    "--predictable-gc-schedule",
    ...nodeFlags,
    join(here, "_instructions-case.mjs"),
    lib,
    scenario,
    String(ops),
  ];
}
