import { defineConfig } from "vitest/config";

// Four tiers, each runnable alone (`npm run test:unit` ...); `npm test` runs them all. A test file's tier is
// what it really needs (README, "Tests"):
const UNIT = ["test/unit/**/*.test.ts", "{config,core,federation,server,workers}/**/*.test.ts"];
const PROCESS = ["test/process/**/*.test.ts", "test/deploy/**/*.test.ts"];
const E2E = ["test/e2e/**/*.test.ts"];
const POSTGRES = "test/global-setup.ts";

export default defineConfig({
  test: {
    setupFiles: ["test/setup.ts"],
    pool: "forks",
    // Two cores: two files at a time over all projects, each in its own database cloned from a migrated template.
    maxWorkers: 2,
    testTimeout: 30_000,
    hookTimeout: 120_000,
    expect: { requireAssertions: true },
    env: { NODE_ENV: "test" },
    projects: [
      // In one process: no database, no program started.
      { extends: true, test: { name: "unit", include: UNIT } },
      // Real PostgreSQL (one server per run, a database per file), the app in the test's process, ffmpeg.
      { extends: true, test: { name: "integration", include: ["test/**/*.test.ts"], exclude: [...UNIT, ...PROCESS, ...E2E], globalSetup: [POSTGRES] } },
      // Spawned processes: our entry points (main.ts, cli.ts), nginx, PostgreSQL servers of their own.
      { extends: true, test: { name: "process", include: PROCESS, globalSetup: [POSTGRES] } },
      // The web UI in Chromium.
      { extends: true, test: { name: "e2e", include: E2E, globalSetup: [POSTGRES] } },
    ],
  },
});
