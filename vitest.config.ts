import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['packages/*/src/**/*.test.ts', 'services/*/src/**/*.test.ts', 'tests/**/*.test.ts'],
    // Generous: a test waits for what the design guarantees, and a busy machine (a laptop, a
    // shared runner) may take many times longer than a quiet one. No test asserts on timing.
    testTimeout: 120_000,
    hookTimeout: 300_000,
    teardownTimeout: 60_000,
    pool: 'forks',
    reporters: ['default'],
  },
})
