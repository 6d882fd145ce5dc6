import { setTimeout as sleep } from 'node:timers/promises'
import type { Logger } from '@microshop/platform/logger'

/** PeriodicJob runs until stopped; stop waits for a run in progress. */
export interface PeriodicJob {
  stop(): Promise<void>
}

/**
 * startPeriodicJob runs `run` every `intervalMs`, one run at a time, at once again when it says
 * there is more to do (a full batch). The first run is after `firstRunAfterMs`. A failed run is
 * logged and tried at the next interval.
 */
export function startPeriodicJob(options: {
  name: string
  intervalMs: number
  firstRunAfterMs?: number
  logger: Logger
  run: () => Promise<{ more: boolean }>
}): PeriodicJob {
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
