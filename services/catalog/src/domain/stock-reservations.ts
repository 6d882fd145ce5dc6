import { randomUUID } from 'node:crypto'
import type { OrderPlaced } from '@microshop/contracts/orders-events'
import {
  stockReleased,
  stockReservationFailed,
  stockReserved,
  type StockReservationFailed,
} from '@microshop/contracts/catalog-events'
import { invalid } from '@microshop/platform/errors'
import type { EventCause } from '@microshop/platform/events/consumer'
import { newEvent } from '@microshop/platform/events/new-event'
import { newTrace } from '@microshop/platform/trace-context'
import type {
  CatalogContext,
  InboxEntry,
  ReservationTransition,
  ReservedLine,
} from './catalog-context.ts'

/**
 * reserveStock holds stock for every line of a placed order, or for none: it locks the products,
 * checks them all, and answers with `stock.reserved` (prices from the catalogue) or
 * `stock.reservation-failed`. An order that already has a reservation (or a tombstone, because
 * it was closed first) is left alone. Two statements in one transaction: the first records
 * `cause` in the inbox and locks and reads the products, the second writes the decision (stock,
 * reservation, event).
 */
export async function reserveStock(
  ctx: CatalogContext,
  order: Pick<OrderPlaced, 'orderId' | 'lines'>,
  cause: EventCause,
): Promise<void> {
  const lines = mergeLines(order.lines)
  await ctx.store.transaction(async (tx) => {
    const claim = await tx.reservations.claimProducts(
      order.orderId,
      lines.map((l) => l.productId),
      inboxEntryOf(cause),
    )
    if (claim.outcome !== 'claimed') return
    const now = ctx.now()
    const products = new Map(claim.products.map((p) => [p.id, p]))
    const emit = { subject: order.orderId, traceparent: cause.traceparent, time: now }

    const unknown = lines.filter((line) => !products.has(line.productId))
    const short = lines.filter((line) => {
      const product = products.get(line.productId)
      return product !== undefined && product.stockOnHand - product.stockReserved < line.quantity
    })
    if (unknown.length > 0 || short.length > 0) {
      const failed: StockReservationFailed = {
        orderId: order.orderId,
        reason: unknown.length > 0 ? 'unknown_product' : 'out_of_stock',
        lines: [...unknown, ...short].map((line) => {
          const product = products.get(line.productId)
          return {
            productId: line.productId,
            requested: line.quantity,
            available: product ? Math.max(0, product.stockOnHand - product.stockReserved) : 0,
          }
        }),
      }
      // A failed reservation holds nothing; it keeps a redelivered placement from trying again.
      const reservation = { id: randomUUID(), orderId: order.orderId, expiresAt: now }
      await tx.reservations.save(
        { ...reservation, status: 'FAILED' },
        [],
        [newEvent(stockReservationFailed, failed, emit)],
      )
      return
    }

    const expiresAt = new Date(now.getTime() + ctx.settings.reservationTtlSeconds * 1000)
    const reservationId = randomUUID()
    const reserved = newEvent(
      stockReserved,
      {
        orderId: order.orderId,
        reservationId,
        lines: lines.map((line) => {
          const product = products.get(line.productId)!
          return {
            productId: line.productId,
            sku: product.sku,
            name: product.name,
            unitPrice: { amount: product.priceAmount, currency: product.currency },
            quantity: line.quantity,
          }
        }),
        expiresAt: expiresAt.toISOString(),
      },
      emit,
    )
    await tx.reservations.save(
      { id: reservationId, orderId: order.orderId, status: 'HELD', expiresAt },
      lines,
      [reserved],
    )
  })
}

/**
 * COMMIT is what a confirmation does to a reservation: a held one's units leave stock for good;
 * one that expired before the confirmation came takes its units from stock again, which the
 * products' checks refuse when they were sold meanwhile. Any other status stays as it is.
 */
const COMMIT: readonly ReservationTransition[] = [
  { from: 'HELD', to: 'COMMITTED', stock: { onHand: -1, reserved: -1 } },
  { from: 'EXPIRED', to: 'COMMITTED', stock: { onHand: -1, reserved: 0 } },
]

/**
 * commitReservation makes a confirmed order's reserved units leave stock for good, in one
 * statement with the inbox record of `cause`. If the reservation expired and its stock is gone,
 * the order was paid for stock that is not there, which needs a person: the event is parked
 * (nothing recorded, so a replay once the stock is back commits it).
 */
export async function commitReservation(
  ctx: CatalogContext,
  orderId: string,
  cause: EventCause,
): Promise<void> {
  const result = await ctx.store.reservations.applyStep({
    orderId,
    inbox: inboxEntryOf(cause),
    transitions: COMMIT,
  })
  if (result.outcome === 'no_reservation') {
    throw invalid(`Order ${orderId} was confirmed without a stock reservation.`)
  }
  if (result.outcome === 'stock_short') {
    throw invalid(
      `Order ${orderId} was confirmed after its reservation expired and the stock was sold.`,
    )
  }
}

/**
 * RELEASE is what a rejection or cancellation does to a reservation: reserved units go back while
 * it was pending, units taken from stock once it was confirmed; either is announced. A released,
 * expired or failed reservation stays as it is.
 */
const RELEASE: readonly ReservationTransition[] = [
  { from: 'HELD', to: 'RELEASED', stock: { onHand: 0, reserved: -1 }, announce: true },
  { from: 'COMMITTED', to: 'RESTOCKED', stock: { onHand: 1, reserved: 0 }, announce: true },
]

/**
 * releaseReservation gives back what a rejected or cancelled order held, in one statement with
 * the inbox record of `cause`. An order with no reservation yet gets a tombstone, so its
 * `order.placed`, if it is still on its way, holds nothing.
 */
export async function releaseReservation(
  ctx: CatalogContext,
  orderId: string,
  cause: EventCause,
): Promise<void> {
  const now = ctx.now()
  await ctx.store.reservations.applyStep({
    orderId,
    inbox: inboxEntryOf(cause),
    transitions: RELEASE,
    tombstone: { id: randomUUID(), orderId, status: 'RELEASED', expiresAt: now },
    // The statement names the reservation it releases in the event (it alone knows its id).
    announcement: released(orderId, RESERVATION_OF_THE_STATEMENT, {
      traceparent: cause.traceparent,
      time: now,
    }),
  })
}

/**
 * expireReservations releases held reservations past their expiry, a batch at a time, and
 * returns how many it released: two statements in one transaction per batch (claim them, then
 * give their stock back with their events). Orders that are still alive time out on their own
 * deadline (shorter than the reservation's), so this only frees stock of orders that went missing.
 */
export async function expireReservations(ctx: CatalogContext, limit: number): Promise<number> {
  const now = ctx.now()
  const expired = await ctx.store.transaction(async (tx) => {
    const claimed = await tx.reservations.lockExpired(now, limit)
    // Each release starts its own trace: no request or event caused it but the clock.
    const events = claimed.map((reservation) =>
      released(reservation.orderId, reservation.id, {
        traceparent: newTrace('catalog.reservation.expired').traceparent,
        time: now,
      }),
    )
    await tx.reservations.expire(claimed, events)
    return claimed.length
  })
  if (expired > 0) ctx.logger.info({ released: expired }, 'expired stock reservations released')
  return expired
}

// RESERVATION_OF_THE_STATEMENT stands for the reservation a release's statement finds and writes
// into the event in its place.
const RESERVATION_OF_THE_STATEMENT = '00000000-0000-4000-8000-000000000000'

const released = (
  orderId: string,
  reservationId: string,
  options: { traceparent: string; time: Date },
) => newEvent(stockReleased, { orderId, reservationId }, { subject: orderId, ...options })

const inboxEntryOf = (cause: EventCause): InboxEntry => ({
  consumer: cause.consumer,
  eventId: cause.eventId,
})

/** mergeLines adds up lines for the same product and sorts them by product id (lock order). */
function mergeLines(lines: readonly ReservedLine[]): ReservedLine[] {
  const quantities = new Map<string, number>()
  for (const line of lines) {
    quantities.set(line.productId, (quantities.get(line.productId) ?? 0) + line.quantity)
  }
  return [...quantities]
    .map(([productId, quantity]) => ({ productId, quantity }))
    .sort((a, b) => (a.productId < b.productId ? -1 : 1))
}
