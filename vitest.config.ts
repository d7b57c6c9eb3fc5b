import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["{proto,sdk,agent,controller}/src/**/*.test.ts", "test/**/*.test.ts"],
    exclude: ["**/node_modules/**", "**/dist/**"],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Integration tests start real processes; two cores, so keep the pool small.
    maxWorkers: 2,
  },
});
