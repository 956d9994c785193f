import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // Soak and chaos runs take minutes: `npm run reliability` runs them (vitest.reliability.config.ts).
    exclude: ["**/node_modules/**", "**/*.slow.test.ts"],
    // Type tests: *.test-d.ts files are checked by tsc through vitest's typecheck mode.
    typecheck: { enabled: true, include: ["test/**/*.test-d.ts"], tsconfig: "./tsconfig.json" },
    testTimeout: 20_000,
    hookTimeout: 30_000,
  },
});
