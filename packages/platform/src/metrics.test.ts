import { setTimeout as sleep } from 'node:timers/promises'
import { describe, expect, it } from 'vitest'
import { createMetrics } from './metrics.ts'

describe('createMetrics', () => {
  it('when the event loop stalls, then the lag figures show it, though the loop is sampled only every 100 ms', async () => {
    const { registry } = createMetrics('test')
    await sleep(250)
    const stalledUntil = Date.now() + 250
    while (Date.now() < stalledUntil) {
      // A synchronous stall: no timer can fire until it ends.
    }
    await sleep(50)
    // The lag figures are all set when any of them is collected, as a scrape does.
    const text = await registry.metrics()
    const max = Number(/^nodejs_eventloop_lag_max_seconds\{[^}]*\} (\S+)$/m.exec(text)?.[1])
    // A sample fell due inside the 250 ms stall and waited at least 150 ms of it.
    expect(max).toBeGreaterThanOrEqual(0.15)
  })
})
