// stop-on-signals.ts: how `npm start` and `npm run start:services` end.

/** DEV_ADMIN is the admin account of a local shop when ADMIN_EMAIL and ADMIN_PASSWORD are not set. */
export const DEV_ADMIN = { email: 'admin@microshop.local', password: 'microshop-admin' }

const CLOSE_TIMEOUT_MS = 15_000

/**
 * stopOnSignals closes the shop once on SIGINT or SIGTERM and exits 0, or 1 when closing fails
 * or takes longer than 15 s. A Ctrl-C reaches the process twice under npm (from the terminal and
 * from npm passing it on), so signals after the first are ignored while the shop closes. npm runs
 * scripts under `sh -c`, which does not pass a SIGTERM sent to npm on: when the shell is gone
 * the process is adopted by another, and closes rather than keep the shop's ports taken.
 */
export function stopOnSignals(close: () => Promise<void>, closingMessage: string): void {
  let closing = false
  const stop = (signal: NodeJS.Signals) => {
    if (closing) return
    closing = true
    console.error(`\n${signal}: ${closingMessage}`)
    setTimeout(() => {
      console.error(`closing took more than ${CLOSE_TIMEOUT_MS / 1000} s; exiting anyway`)
      process.exit(1)
    }, CLOSE_TIMEOUT_MS).unref()
    close().then(
      () => {
        console.error('microshop stopped.')
        process.exit(0)
      },
      (error: unknown) => {
        console.error('microshop did not close cleanly:', error)
        process.exit(1)
      },
    )
  }
  process.on('SIGINT', stop)
  process.on('SIGTERM', stop)
  const parentPid = process.ppid
  setInterval(() => {
    if (process.ppid !== parentPid) stop('SIGTERM')
  }, 500).unref()
}
