/**
 * TurnBatch holds the sends a process asks for while it works through one event (an I/O
 * callback and the promise continuations it sets off) and makes them together when that work is
 * done, so that they leave in one socket write.
 *
 * A NATS client writes what it was given in one microtask, and a saga step's sends come in
 * different ones: its consumer acks the event it handled after the handler returns, its outbox
 * relay publishes what the step committed after it is woken, both set off by the commit's answer.
 * Each became its own write, and its own wake-up of the broker. Held until the microtask queue
 * is empty (`process.nextTick` asked from a microtask runs then, before Node goes back to its
 * event loop: no extra poll, unlike `setImmediate`), they go out as one.
 */
export class TurnBatch {
  private sends: (() => void)[] = []
  private scheduled = false

  /** onError hears what a send threw; the other sends of the turn are made all the same. */
  constructor(private readonly onError: (error: unknown) => void) {}

  /** later makes `send` when the turn ends, after the sends asked for before it. */
  later(send: () => void): void {
    this.sends.push(send)
    if (this.scheduled) return
    this.scheduled = true
    process.nextTick(this.flush)
  }

  /** flush makes every send held now, at once: closing calls it before the connection drains. */
  readonly flush = (): void => {
    this.scheduled = false
    const sends = this.sends
    this.sends = []
    for (const send of sends) {
      try {
        send()
      } catch (error) {
        this.onError(error)
      }
    }
  }
}
