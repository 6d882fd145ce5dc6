import type { Caller } from '@microshop/platform/auth/access-token-verifier'
import { conflict, notFound } from '@microshop/platform/errors'
import { advanceLockedOrder } from './advance-order.ts'
import type { Order } from './order.ts'
import type { OrdersContext } from './orders-context.ts'

/**
 * cancelOrder cancels a PENDING or CONFIRMED order for its owner or an admin. The cancellation
 * event makes the others undo their steps: catalog releases or restocks, payments voids or
 * refunds. Someone else's order is not found, as if it did not exist.
 */
export async function cancelOrder(
  ctx: OrdersContext,
  caller: Caller,
  orderId: string,
  traceparent?: string,
): Promise<Order> {
  return ctx.store.transaction(async (tx) => {
    const order = await tx.orders.lockForSaga(orderId)
    if (!order || (caller.role !== 'admin' && order.userId !== caller.userId)) {
      throw noSuchOrder(orderId)
    }
    const by = caller.role === 'admin' ? 'admin' : 'customer'
    const outcome = await advanceLockedOrder(ctx, tx, order, { type: 'cancel', by }, traceparent)
    if (outcome.outcome === 'refused') throw conflict(`${outcome.reason} It cannot be cancelled.`)
    const cancelled = await tx.orders.find(orderId)
    if (!cancelled) throw noSuchOrder(orderId)
    return cancelled
  })
}

const noSuchOrder = (id: string) => notFound(`No order with id ${id}.`)
