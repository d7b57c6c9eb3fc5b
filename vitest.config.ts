import { defineConfig } from "vitest/config";

const common = {
  testTimeout: 30_000,
  hookTimeout: 60_000,
  exclude: ["**/node_modules/**", "**/dist/**"],
};

export default defineConfig({
  test: {
    // Integration tests start real processes; two cores, so keep the pool small.
    maxWorkers: 2,
    projects: [
      {
        test: {
          ...common,
          name: "unit+integration",
          sequence: { groupOrder: 0 },
          include: ["{proto,sdk,agent,controller}/src/**/*.test.ts", "test/**/*.test.ts"],
          exclude: [...common.exclude, "test/kube/**"],
        },
      },
      {
        // The kube tier: one real control plane per run (test/kube/global-setup.ts), files run one at a time.
        test: {
          ...common,
          name: "kube",
          // After the other tiers, so the control plane's timings do not compete with them for 2 cores.
          sequence: { groupOrder: 1 },
          include: ["test/kube/**/*.test.ts"],
          globalSetup: ["test/kube/global-setup.ts"],
          testTimeout: 120_000,
          hookTimeout: 180_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
