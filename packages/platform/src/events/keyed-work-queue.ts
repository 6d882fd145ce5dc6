/**
 * KeyedWorkQueue runs tasks with bounded concurrency, each after the earlier tasks with the
 * same key: events about one aggregate are handled in the order they arrived, events about
 * different aggregates side by side. Tasks handle their own errors.
 */
export class KeyedWorkQueue {
  private running = 0
  private readonly tails = new Map<string, Promise<void>>()
  private capacityWaiters: (() => void)[] = []
  private idleWaiters: (() => void)[] = []

  constructor(readonly concurrency: number) {
    if (!Number.isInteger(concurrency) || concurrency < 1) {
      throw new Error(`concurrency must be a positive integer, not ${concurrency}`)
    }
  }

  get hasCapacity(): boolean {
    return this.running < this.concurrency
  }

  get size(): number {
    return this.running
  }

  /** push starts `task` now, or after the running task with the same key; it counts against concurrency until done. */
  push(key: string | undefined, task: () => Promise<void>): void {
    this.running++
    const previous = key === undefined ? undefined : this.tails.get(key)
    const run = (previous ? previous.then(task) : task()).catch(() => undefined)
    const tail = run.finally(() => {
      if (key !== undefined && this.tails.get(key) === tail) this.tails.delete(key)
      this.running--
      this.capacityWaiters.shift()?.()
      if (this.running === 0) for (const resolve of this.idleWaiters.splice(0)) resolve()
    })
    if (key !== undefined) this.tails.set(key, tail)
  }

  /** whenCapacity resolves once another task may start. */
  whenCapacity(): Promise<void> {
    if (this.hasCapacity) return Promise.resolve()
    return new Promise((resolve) => this.capacityWaiters.push(resolve))
  }

  /** whenIdle resolves once every pushed task has finished. */
  whenIdle(): Promise<void> {
    if (this.running === 0) return Promise.resolve()
    return new Promise((resolve) => this.idleWaiters.push(resolve))
  }
}
