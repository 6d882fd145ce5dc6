import type { Checkpoint, EventBus } from './event-bus.ts'

/**
 * consumptionWatermark follows how far a service's consumers have caught up. Each call checks
 * the checkpoint taken earlier: once the consumers have finished everything published before
 * it, its time becomes the watermark and a new checkpoint is taken. The watermark is then a
 * time before which no published event waits unhandled, so a deadline that passed before it
 * beats no answer still queued (undefined until the first checkpoint is caught up with).
 * `now` is the clock the watermark is read by.
 */
export function consumptionWatermark(
  bus: EventBus,
  now: () => Date = () => new Date(),
): () => Promise<Date | undefined> {
  let pending: Checkpoint | undefined
  let watermark: Date | undefined
  return async () => {
    if (pending && (await bus.caughtUp(pending))) {
      watermark = pending.at
      pending = undefined
    }
    // The checkpoint is timed by the caller's clock, the one its deadlines are set by.
    pending ??= { ...(await bus.checkpoint()), at: now() }
    return watermark
  }
}
