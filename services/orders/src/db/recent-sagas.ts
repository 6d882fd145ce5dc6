import type { SagaOrder } from '../domain/order.ts'
import type { SagaState } from '../domain/orders-context.ts'

/**
 * RecentSagas remembers, in this process, the saga of the orders it placed or stepped last, with
 * their version: up to `capacity` orders, the least recently used forgotten first. A saga step
 * starts from what it remembers instead of reading the order; the step's write applies only at
 * that version, so a stale entry (another replica stepped the order, a transaction rolled back)
 * costs one write that answers with the order as it is. Nothing here is ever taken as the truth.
 */
export class RecentSagas {
  private readonly sagas = new Map<string, { order: SagaOrder; version: number }>()

  constructor(private readonly capacity = 10_000) {}

  /** get is the order's saga as last seen, if remembered; `handled` is for the write to find out. */
  get(id: string): SagaState | undefined {
    const seen = this.sagas.get(id)
    if (!seen) return undefined
    // Map keeps insertion order: moving the entry to the end keeps the least recent first.
    this.sagas.delete(id)
    this.sagas.set(id, seen)
    return { ...seen, handled: false }
  }

  remember(order: SagaOrder, version: number) {
    this.sagas.delete(order.id)
    this.sagas.set(order.id, { order, version })
    if (this.sagas.size > this.capacity) {
      const oldest = this.sagas.keys().next()
      if (!oldest.done) this.sagas.delete(oldest.value)
    }
  }

  forget(id: string) {
    this.sagas.delete(id)
  }
}
