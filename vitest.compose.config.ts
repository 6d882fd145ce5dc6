// vitest.compose.config.ts: the suites against the shop in Docker (tests/compose), run by
// `npm run test:compose` once its compose project is up. Not part of `npm test`.
import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['tests/compose/**/*.compose.ts'],
    // One shop: a suite that stops or restarts a service must not overlap another's checks.
    fileParallelism: false,
    testTimeout: 30_000,
    hookTimeout: 300_000,
    reporters: ['default'],
  },
})
