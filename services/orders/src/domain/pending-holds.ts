import { AppError } from '@microshop/platform/errors'
import type { RequestedLine } from './order-request.ts'
import type { HeldLine } from './orders-context.ts'

/**
 * PendingHoldLimits bound what one customer may hold with orders that are not settled yet: a
 * PENDING order reserves stock until it is paid or given up, so without a bound one shopper could
 * hold a product's whole stock with orders that never pay.
 */
export interface PendingHoldLimits {
  /** maxOrders is how many PENDING orders one customer may have at once. */
  maxOrders: number
  /** maxUnitsPerProduct is how many units of one product one customer's PENDING orders may hold. */
  maxUnitsPerProduct: number
}

/** PENDING_HOLD_RETRY_SECONDS is when to try again: a PENDING order settles within seconds. */
const PENDING_HOLD_RETRY_SECONDS = 5

/**
 * refuseOverHolding refuses a new order that would take the customer past a PendingHoldLimits
 * bound: 429 when they have too many PENDING orders, 409 pointing at each line whose product
 * they would then hold too much of. `pending` are the lines of their other PENDING orders, read
 * in the placement's transaction under the customer's placement lock, so placements of one
 * customer that race are counted one after the other and cannot pass the bounds together.
 */
export function refuseOverHolding(
  limits: PendingHoldLimits,
  pending: readonly HeldLine[],
  lines: readonly RequestedLine[],
): void {
  const pendingOrders = new Set(pending.map((line) => line.orderId)).size
  if (pendingOrders >= limits.maxOrders) {
    throw new AppError(
      'rate_limited',
      `You have ${pendingOrders} orders still being processed, the most one customer may have; ` +
        'place this one when one of them is settled.',
      { retryAfterSeconds: PENDING_HOLD_RETRY_SECONDS },
    )
  }
  const held = new Map<string, number>()
  for (const line of pending) {
    held.set(line.productId, (held.get(line.productId) ?? 0) + line.quantity)
  }
  const errors = lines
    .filter((line) => (held.get(line.productId) ?? 0) + line.quantity > limits.maxUnitsPerProduct)
    .map((line) => ({
      pointer: `/body/items/${line.index}/quantity`,
      detail:
        `with the ${held.get(line.productId) ?? 0} your unsettled orders hold, this passes ` +
        `${limits.maxUnitsPerProduct}, the most of one product one customer may hold at once`,
    }))
  if (errors.length > 0) {
    throw new AppError(
      'conflict',
      'Your unsettled orders and this one would hold more of a product than one customer may.',
      { errors, retryAfterSeconds: PENDING_HOLD_RETRY_SECONDS },
    )
  }
}
