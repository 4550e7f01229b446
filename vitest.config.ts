import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    // temp files: one folder per run, one per test file, removed; a run that leaves any fails
    globalSetup: ['test/setup/temp-root.ts'],
    setupFiles: ['test/setup/temp-per-file.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // tfjs-wasm and ORT are heavy; 2 cores: two workers at most.
    pool: 'forks',
    poolOptions: { forks: { maxForks: 2, minForks: 1 } },
  },
});
