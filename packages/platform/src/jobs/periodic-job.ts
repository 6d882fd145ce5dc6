import { setTimeout as sleep } from 'node:timers/promises'
import type { Logger } from '../logger.ts'

/** PeriodicJob runs until stopped; stop waits for a run in progress. */
export interface PeriodicJob {
  stop(): Promise<void>
}

export interface PeriodicJobOptions {
  /** name says which job a log line is about. */
  name: string
  intervalMs: number
  /** firstRunAfterMs holds the first run; without it the job runs at once. */
  firstRunAfterMs?: number
  logger: Logger
  /** run does one round; `more: true` (a full batch) has the next round start at once. */
  run: () => Promise<{ more: boolean }>
}

/**
 * startPeriodicJob runs `run` every `intervalMs`, one run at a time, at once again when it says
 * there is more to do (a full batch). The first run is after `firstRunAfterMs`. A failed run is
 * logged and tried at the next interval. Every sweeper, reconciler and pruner runs on it; each
 * is safe on several replicas at once (they claim rows with SKIP LOCKED or delete idempotently).
 */
export function startPeriodicJob(options: PeriodicJobOptions): PeriodicJob {
  const stopping = new AbortController()
  const pause = (ms: number) =>
    sleep(ms, undefined, { signal: stopping.signal }).catch(() => undefined)
  const loop = (async () => {
    if (options.firstRunAfterMs) await pause(options.firstRunAfterMs)
    while (!stopping.signal.aborted) {
      let more = false
      try {
        ;({ more } = await options.run())
      } catch (error) {
        options.logger.warn({ err: error, job: options.name }, 'periodic job failed; will retry')
      }
      if (!more) await pause(options.intervalMs)
    }
  })()
  return {
    async stop() {
      stopping.abort()
      await loop
    },
  }
}
