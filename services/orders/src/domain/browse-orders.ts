import { readableOwner, type Caller } from '@microshop/platform/auth/access-token-verifier'
import { notFound } from '@microshop/platform/errors'
import {
  decodePositionCursor,
  pageFrom,
  type Page,
  type Position,
} from '@microshop/platform/pagination'
import type { Order, OrderStatus } from './order.ts'
import type { OrdersContext } from './orders-context.ts'

/** getOrder reads an order for its owner, or for an admin; anyone else's is not found. */
export async function getOrder(ctx: OrdersContext, caller: Caller, id: string): Promise<Order> {
  const order = await ctx.store.orders.find(id, readableOwner(caller))
  if (!order) throw notFound(`No order with id ${id}.`)
  return order
}

/** listOrders pages through the caller's orders, newest first; an admin's list holds everyone's. */
export async function listOrders(
  ctx: OrdersContext,
  caller: Caller,
  options: { status?: OrderStatus | undefined; limit: number; cursor?: string | undefined },
): Promise<Page<Order>> {
  const after = options.cursor ? decodePositionCursor(options.cursor) : undefined
  const orders = await ctx.store.orders.list({
    userId: readableOwner(caller),
    status: options.status,
    after,
    limit: options.limit + 1,
  })
  return pageFrom(
    orders,
    options.limit,
    (order) => order,
    (order): Position => ({ createdAt: order.createdAt, id: order.id }),
  )
}
