// start-up-memory.ts: a service gives back the memory that starting it took. Loading the bundle
// and compiling its schemas and serializers allocates fast enough that V8 grows the young
// generation to its largest (two semi-spaces of 8 MiB in Node 24) and then keeps it, and the
// pages of what start-up let go, while the service idles: ~14 MB of its resident memory (orders:
// 117 -> 103 MB). One full collection that returns memory to the system gives them back. Under
// load the young generation grows again as V8 sees fit, so the hot path pays nothing, unlike a
// smaller `--max-semi-space-size` (+1 ms of orders' CPU per checkout).
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'

/**
 * START_UP_SETTLE_MS is how long after it listens a service gives back its start-up memory: the
 * collection costs 60-130 ms of CPU, which services starting together on a small machine (all of
 * compose's at once) would otherwise take from each other's start.
 */
export const START_UP_SETTLE_MS = 3_000

/** releaseStartUpMemoryLater runs releaseStartUpMemory once start-up has settled. */
export function releaseStartUpMemoryLater(delayMs = START_UP_SETTLE_MS): void {
  setTimeout(releaseStartUpMemory, delayMs).unref()
}

type CollectGarbage = (options: { type: 'major'; flavor: 'last-resort' }) => void

/** releaseStartUpMemory runs one memory-reducing full collection (V8's last-resort one). */
export function releaseStartUpMemory(): void {
  // V8's gc() is installed only in contexts made while --expose-gc is set: one is made for it
  // (as Jest's leak detector does), so that no launcher has to pass the flag, and the flag is
  // unset again.
  setFlagsFromString('--expose-gc')
  let collect: CollectGarbage
  try {
    collect = runInNewContext('gc') as CollectGarbage
  } finally {
    setFlagsFromString('--no-expose-gc')
  }
  collect({ type: 'major', flavor: 'last-resort' })
}
