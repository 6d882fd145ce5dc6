import { setTimeout as sleep } from 'node:timers/promises'
import { describe, expect, it } from 'vitest'
import { createLogger } from '../logger.ts'
import { waitFor } from '../testing/wait-for.ts'
import { startPeriodicJob } from './periodic-job.ts'

const logger = createLogger({ service: 'jobs-test', level: 'silent' })

describe('a periodic job', () => {
  it('when a run says there is more, then the next run starts at once; otherwise after the interval', async () => {
    let runs = 0
    // An interval far longer than the wait below: three runs can only come from `more`.
    const job = startPeriodicJob({
      name: 'test',
      intervalMs: 600_000,
      logger,
      run: async () => {
        runs++
        return { more: runs < 3 }
      },
    })
    await waitFor(() => runs === 3)
    await sleep(100)
    await job.stop()
    expect(runs).toBe(3)
  })

  it('when it has a start delay, then nothing runs before it', async () => {
    const started = Date.now()
    let firstRunAt: number | undefined
    const job = startPeriodicJob({
      name: 'test',
      intervalMs: 10,
      firstRunAfterMs: 300,
      logger,
      run: async () => {
        firstRunAt ??= Date.now()
        return { more: false }
      },
    })
    await waitFor(() => firstRunAt !== undefined)
    await job.stop()
    expect((firstRunAt as number) - started).toBeGreaterThanOrEqual(290)
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
