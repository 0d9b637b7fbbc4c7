import { defineConfig } from 'vitest/config';

// Two projects: unit tests (pure, parallel) and integration tests (real kernel, as root).
// Integration suites compare host-wide counts (mounts, processes), so they run one file at
// a time, and never at the same time as each other.
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts', 'test/property/**/*.test.ts'],
          testTimeout: 60_000,
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          // Containers' cgroups go under husk-test-<pid>; the teardown checks none is left.
          globalSetup: ['test/integration/cgroup-setup.ts'],
          fileParallelism: false,
          testTimeout: 120_000,
          hookTimeout: 120_000,
        },
      },
    ],
  },
});
