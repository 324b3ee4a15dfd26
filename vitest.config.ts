import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts", "{config,core,federation,server,workers}/**/*.test.ts"],
    globalSetup: ["test/global-setup.ts"],
    setupFiles: ["test/setup.ts"],
    pool: "forks",
    // Two cores: two files at a time, each in its own database cloned from a migrated template.
    maxWorkers: 2,
    testTimeout: 30_000,
    hookTimeout: 120_000,
    expect: { requireAssertions: true },
    env: { NODE_ENV: "test" },
  },
});
