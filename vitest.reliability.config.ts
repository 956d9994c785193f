import { defineConfig } from "vitest/config";

/**
 * `npm run reliability`: fuzzing, soak, chaos against real brokers, isolation and access, all of
 * test/reliability/. Slow files (`*.slow.test.ts`) run only here; the rest also in `npm test`.
 */
export default defineConfig({
  test: {
    include: ["test/reliability/**/*.test.ts"],
    reporters: ["default", "./test/reliability/_reporter.ts"],
    testTimeout: 120_000,
    hookTimeout: 60_000,
    // Brokers are killed and processes paused: files run one after the other, not against each other.
    fileParallelism: false,
  },
});
