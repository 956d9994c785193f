/** Which build a benchmark measured. */

import { execFileSync } from "node:child_process";
import { dirname } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));

/** The commit measured, with "+changes" when src/ differs from it; BENCH_COMMIT outside a checkout. */
export function measuredCommit() {
  try {
    const git = (...args) =>
      execFileSync("git", args, { cwd: here, encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim();
    return `${git("rev-parse", "--short", "HEAD")}${git("status", "--porcelain", "--", "../src") ? "+changes" : ""}`;
  } catch {
    return process.env.BENCH_COMMIT ?? "unknown";
  }
}
