import { setTimeout as sleep } from 'node:timers/promises'
import { describe, expect, it } from 'vitest'
import { createLogger } from '@microshop/platform/logger'
import { startPeriodicJob } from './periodic-job.ts'

const logger = createLogger({ service: 'orders-test', level: 'silent' })

describe('a periodic job', () => {
  it('when a run says there is more, then the next run starts at once; otherwise after the interval', async () => {
    const runs: number[] = []
    const started = Date.now()
    const job = startPeriodicJob({
      name: 'test',
      intervalMs: 10_000,
      logger,
      run: async () => {
        runs.push(Date.now() - started)
        return { more: runs.length < 3 }
      },
    })
    await sleep(200)
    await job.stop()
    expect(runs).toHaveLength(3)
    expect(runs.every((at) => at < 200)).toBe(true)
  })

  it('when it has a start delay, then nothing runs before it', async () => {
    let runs = 0
    const job = startPeriodicJob({
      name: 'test',
      intervalMs: 10,
      firstRunAfterMs: 300,
      logger,
      run: async () => {
        runs++
        return { more: false }
      },
    })
    await sleep(150)
    expect(runs).toBe(0)
    await sleep(300)
    expect(runs).toBeGreaterThan(0)
    await job.stop()
  })

  it('when a run fails, then the job carries on; stop waits for the run in progress', async () => {
    let runs = 0
    let finished = false
    const job = startPeriodicJob({
      name: 'test',
      intervalMs: 10,
      logger,
      run: async () => {
        runs++
        if (runs === 1) throw new Error('database restarting')
        await sleep(100)
        finished = true
        return { more: false }
      },
    })
    while (runs < 2) await sleep(5)
    await job.stop()
    expect(runs).toBe(2)
    expect(finished).toBe(true)
  })
})
