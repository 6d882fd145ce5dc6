import { randomUUID } from 'node:crypto'
import { orderPlaced } from '@microshop/contracts/orders-events'
import type { Caller } from '@microshop/platform/auth/access-token-verifier'
import { AppError, unprocessable } from '@microshop/platform/errors'
import { cloudEventsOf } from './advance-order.ts'
import { emit } from './checkout-saga.ts'
import type { Order, OrderRecord } from './order.ts'
import {
  checkOrderRequest,
  requestHash,
  type OrderRequest,
  type RequestedLine,
} from './order-request.ts'
import type { OrdersContext, StoredResponse } from './orders-context.ts'
import { refuseOverHolding } from './pending-holds.ts'
import { priceLines, type CatalogProduct } from './product-prices.ts'

export interface PlaceOrderInput {
  caller: Caller
  request: OrderRequest
  /** idempotencyKey makes a retry of this request return the first response instead of a new order. */
  idempotencyKey?: string | undefined
  traceparent?: string | undefined
}

/** PlacedOrder is the answer to POST /orders: always a 202, since only those are stored for replay. */
export interface PlacedOrder {
  order: Order
  /** replayed is true when the response is the stored one of an earlier request with the key. */
  replayed: boolean
}

/** PLACED_STATUS is 202: the order is accepted, and the saga decides it later. */
export const PLACED_STATUS = 202

/**
 * placeOrder takes a customer's order: it checks the lines, prices them from the catalogue as it
 * is now (the quote holds for this order whatever the catalogue does next), and stores the order
 * PENDING with `orders.order.placed.v1`, which starts the saga.
 *
 * A customer's PENDING orders may hold only so much (refuseOverHolding): an order past that is
 * refused, and a retry once they settle is welcome.
 *
 * With an idempotency key, the key's response, the order and its event commit in one transaction:
 * a retry after a crash finds either all of them or none. A retry with the same body gets the
 * stored response; with another body, a 422; while the first is still in its transaction, a 409.
 * The key is looked at only inside that transaction: replays are rare, and a first request,
 * the common case, then costs no extra round trip.
 */
export async function placeOrder(ctx: OrdersContext, input: PlaceOrderInput): Promise<PlacedOrder> {
  const lines = checkOrderRequest(input.request)
  ctx.admission.admit()
  try {
    return await placeAdmitted(ctx, input, lines)
  } finally {
    ctx.admission.placementEnded()
  }
}

// placeAdmitted prices, quotes and stores an order that admission control let in.
async function placeAdmitted(
  ctx: OrdersContext,
  input: PlaceOrderInput,
  lines: readonly RequestedLine[],
): Promise<PlacedOrder> {
  const { caller } = input
  const idempotency =
    input.idempotencyKey === undefined
      ? undefined
      : { key: input.idempotencyKey, requestHash: requestHash(input.request) }
  const products = await priceLines(ctx, lines)
  const now = ctx.now()
  const record = quoteOrder({
    id: randomUUID(),
    userId: caller.userId,
    lines,
    products,
    paymentMethod: input.request.paymentMethod,
    now,
    stockStepTimeoutMs: ctx.settings.stockStepTimeoutMs,
  })
  const { order } = record
  const events = cloudEventsOf(
    [
      emit(orderPlaced, {
        orderId: order.id,
        userId: order.userId,
        lines: order.items.map(({ productId, quantity }) => ({ productId, quantity })),
        total: order.total,
        placedAt: order.createdAt,
      }),
    ],
    order.id,
    { time: now, traceparent: input.traceparent },
  )

  const placed = await ctx.store.transaction(async (tx) => {
    if (idempotency) {
      // Claimed or taken, the key comes with the customer's placement lock.
      const { key, requestHash } = idempotency
      const response = { requestHash, orderId: order.id, status: PLACED_STATUS, body: order }
      const claim = await tx.idempotencyKeys.claim(caller.userId, key, response)
      if (claim === 'in_flight') throw requestInFlight()
      if (claim === 'taken') {
        const earlier = await tx.idempotencyKeys.find(caller.userId, key)
        if (!earlier) throw requestInFlight()
        return replay(earlier, requestHash)
      }
    } else {
      await tx.orders.lockPlacementsOf(caller.userId)
    }
    // After the key: a replay of an order already placed is answered, not counted against it.
    // The order is written with what the customer's other PENDING orders hold, read by the same
    // statement; past a bound, the refusal rolls the order back with the transaction.
    const held = await tx.orders.insert(record, events)
    refuseOverHolding(ctx.settings.pendingHolds, held, lines)
    return { order, replayed: false }
  })
  if (placed.replayed) ctx.saga.replayed()
  else ctx.saga.placed(order.id)
  return placed
}

/** quoteOrder makes a new PENDING order from priced lines, waiting for the catalog's reservation. */
export function quoteOrder(input: {
  id: string
  userId: string
  lines: readonly RequestedLine[]
  products: ReadonlyMap<string, CatalogProduct>
  paymentMethod: string
  now: Date
  stockStepTimeoutMs: number
}): OrderRecord {
  const items = input.lines.map((line) => {
    const product = input.products.get(line.productId)
    if (!product) throw new Error(`No price for product ${line.productId}`)
    return {
      productId: product.id,
      sku: product.sku,
      name: product.name,
      unitPrice: product.price,
      quantity: line.quantity,
      lineTotal: { amount: product.price.amount * line.quantity, currency: product.price.currency },
    }
  })
  const currency = items[0]?.unitPrice.currency ?? 'USD'
  const total = { amount: items.reduce((sum, item) => sum + item.lineTotal.amount, 0), currency }
  const at = input.now.toISOString()
  return {
    order: {
      id: input.id,
      userId: input.userId,
      status: 'PENDING',
      items,
      total,
      paymentId: null,
      statusHistory: [{ status: 'PENDING', at, reason: 'placed' }],
      createdAt: at,
      updatedAt: at,
    },
    saga: {
      id: input.id,
      userId: input.userId,
      status: 'PENDING',
      step: 'awaiting_stock',
      stepDeadline: new Date(input.now.getTime() + input.stockStepTimeoutMs),
      total,
      paymentMethod: input.paymentMethod,
      paymentId: null,
      reservationId: null,
      placedAt: input.now,
      stepStartedAt: input.now,
    },
  }
}

function replay(earlier: StoredResponse, hash: string): PlacedOrder {
  if (earlier.requestHash !== hash) {
    throw unprocessable('This Idempotency-Key was already used with a different request.', [
      {
        pointer: '/header/idempotency-key',
        detail: 'was used with another body; use a new key for a new order',
      },
    ])
  }
  return { order: earlier.body as Order, replayed: true }
}

const requestInFlight = () =>
  new AppError('conflict', 'A request with this Idempotency-Key is still in progress.', {
    retryAfterSeconds: 1,
  })
