/**
 * UpstreamSlots bounds the requests in flight to one upstream at its number of connections. A
 * request that finds every slot taken waits its turn, first come first served, but only until its
 * deadline: then it is told to come back later (503) instead of waiting behind an upstream that
 * is not keeping up.
 */
export class UpstreamSlots {
  private inFlight = 0
  private readonly waiting = new Set<() => void>()

  constructor(
    readonly limit: number,
    readonly queueTimeoutMs: number,
  ) {}

  /** acquire takes a slot: true when it has one, false when none came free before the deadline. */
  acquire(): Promise<boolean> {
    if (this.inFlight < this.limit) {
      this.inFlight++
      return Promise.resolve(true)
    }
    return new Promise((resolve) => {
      const admit = () => {
        clearTimeout(timer)
        this.waiting.delete(admit)
        resolve(true)
      }
      const timer = setTimeout(() => {
        this.waiting.delete(admit)
        resolve(false)
      }, this.queueTimeoutMs)
      this.waiting.add(admit)
    })
  }

  /** release gives a slot back: to the request that has waited longest, else to the pool. */
  release(): void {
    const next = this.waiting.values().next()
    if (next.done) this.inFlight--
    else next.value()
  }
}
