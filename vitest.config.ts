import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          // test/fuzz/unit: property-based fuzzing that needs no services (fast-check, seed printed on failure).
          include: ['test/unit/**/*.test.ts', 'test/fuzz/unit/**/*.test.ts'],
          testTimeout: 60_000,
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts', 'test/fuzz/integration/**/*.test.ts'],
          globalSetup: ['test/integration/globalSetup.ts'],
          testTimeout: 180_000,
          hookTimeout: 240_000,
          // Integration tests share one broker and one database; run files one at a time
          // so that two rebalancing groups never fight for the 2 cores.
          fileParallelism: false,
        },
      },
      {
        test: {
          // Fault scenarios (rebalances, kill -9, broker restart, InfluxDB outage, poison): each
          // replays a known input and checks the exact set of windows written (npm run test:faults).
          name: 'faults',
          include: ['test/faults/**/*.test.ts'],
          globalSetup: ['test/integration/globalSetup.ts'],
          testTimeout: 300_000,
          hookTimeout: 240_000,
          fileParallelism: false,
          // After unit and integration when every project runs (npm test): each scenario needs
          // the 2 cores to itself to finish within its deadlines.
          sequence: { groupOrder: 1 },
        },
      },
    ],
  },
});
