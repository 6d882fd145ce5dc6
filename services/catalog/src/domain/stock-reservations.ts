import { randomUUID } from 'node:crypto'
import type { Transaction } from 'kysely'
import type { OrderPlaced } from '@microshop/contracts/orders-events'
import {
  stockReleased,
  stockReservationFailed,
  stockReserved,
  type StockReservationFailed,
} from '@microshop/contracts/catalog-events'
import { invalid } from '@microshop/platform/errors'
import { addToOutbox } from '@microshop/platform/events/outbox'
import { newEvent } from '@microshop/platform/events/new-event'
import {
  adjustStock,
  findReservationForUpdate,
  insertReservation,
  lockExpiredReservations,
  lockProducts,
  reservationLines,
  setReservationStatus,
  type ReservedLine,
} from '../db/reservation-repository.ts'
import type { CatalogTables } from '../db/tables.ts'

type Trx = Transaction<CatalogTables>

/** EventContext is what the events a step emits carry on: the trace of the work that caused them. */
export interface EventContext {
  traceparent?: string | undefined
  now?: Date
}

const source = '/catalog'

/**
 * reserveStock holds stock for every line of a placed order, or for none: it locks the products,
 * checks them all, and answers with `stock.reserved` (prices from the catalogue) or
 * `stock.reservation-failed`. An order that already has a reservation (or a tombstone, because
 * it was closed first) is left alone.
 */
export async function reserveStock(
  trx: Trx,
  order: Pick<OrderPlaced, 'orderId' | 'lines'>,
  ttlSeconds: number,
  context: EventContext = {},
): Promise<void> {
  if (await findReservationForUpdate(trx, order.orderId)) return
  const now = context.now ?? new Date()
  const lines = mergeLines(order.lines)
  const products = new Map(
    (
      await lockProducts(
        trx,
        lines.map((l) => l.productId),
      )
    ).map((p) => [p.id, p]),
  )
  const emit = { source, subject: order.orderId, traceparent: context.traceparent, time: now }

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
    const reservation = {
      id: randomUUID(),
      orderId: order.orderId,
      status: 'FAILED' as const,
      expiresAt: now,
    }
    await insertReservation(trx, reservation, [])
    await addToOutbox(trx, newEvent(stockReservationFailed, failed, emit))
    return
  }

  const expiresAt = new Date(now.getTime() + ttlSeconds * 1000)
  const reservationId = randomUUID()
  await adjustStock(trx, lines, { onHand: 0, reserved: 1 })
  await insertReservation(
    trx,
    { id: reservationId, orderId: order.orderId, status: 'HELD', expiresAt },
    lines,
  )
  await addToOutbox(
    trx,
    newEvent(
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
    ),
  )
}

/**
 * commitReservation makes a confirmed order's reserved units leave stock for good. A reservation
 * that expired before the confirmation came takes its stock again if it is still there; if it
 * is not, the order was paid for stock that is gone, which needs a person: the event is parked.
 */
export async function commitReservation(trx: Trx, orderId: string): Promise<void> {
  const reservation = await findReservationForUpdate(trx, orderId)
  if (!reservation) throw invalid(`Order ${orderId} was confirmed without a stock reservation.`)
  const lines = await reservationLines(trx, reservation.id)
  if (reservation.status === 'HELD') {
    await adjustStock(trx, lines, { onHand: -1, reserved: -1 })
  } else if (reservation.status === 'EXPIRED') {
    const products = await lockProducts(
      trx,
      lines.map((l) => l.productId),
    )
    const gone = lines.filter((line) => {
      const product = products.find((p) => p.id === line.productId)
      return !product || product.stockOnHand - product.stockReserved < line.quantity
    })
    if (gone.length > 0) {
      throw invalid(
        `Order ${orderId} was confirmed after its reservation expired and the stock was sold.`,
      )
    }
    await adjustStock(trx, lines, { onHand: -1, reserved: 0 })
  } else {
    return
  }
  await setReservationStatus(trx, reservation.id, 'COMMITTED')
}

/**
 * releaseReservation gives back what a rejected or cancelled order held: reserved units while it
 * was pending, units taken from stock once it was confirmed. An order with no reservation yet
 * gets a tombstone, so its `order.placed`, if it is still on its way, holds nothing.
 */
export async function releaseReservation(
  trx: Trx,
  orderId: string,
  context: EventContext = {},
): Promise<void> {
  const reservation = await findReservationForUpdate(trx, orderId)
  const now = context.now ?? new Date()
  if (!reservation) {
    await insertReservation(
      trx,
      { id: randomUUID(), orderId, status: 'RELEASED', expiresAt: now },
      [],
    )
    return
  }
  let status: 'RELEASED' | 'RESTOCKED'
  if (reservation.status === 'HELD') {
    await adjustStock(trx, await reservationLines(trx, reservation.id), { onHand: 0, reserved: -1 })
    status = 'RELEASED'
  } else if (reservation.status === 'COMMITTED') {
    await adjustStock(trx, await reservationLines(trx, reservation.id), { onHand: 1, reserved: 0 })
    status = 'RESTOCKED'
  } else {
    return
  }
  await setReservationStatus(trx, reservation.id, status)
  await addToOutbox(
    trx,
    newEvent(
      stockReleased,
      { orderId, reservationId: reservation.id },
      { source, subject: orderId, traceparent: context.traceparent, time: now },
    ),
  )
}

/**
 * expireReservations releases held reservations past their expiry, a batch at a time, and
 * returns how many it released. Orders that are still alive time out on their own deadline
 * (shorter than the reservation's), so this only frees stock of orders that went missing.
 */
export async function expireReservations(trx: Trx, now: Date, limit: number): Promise<number> {
  const expired = await lockExpiredReservations(trx, now, limit)
  for (const reservation of expired) {
    await adjustStock(trx, await reservationLines(trx, reservation.id), { onHand: 0, reserved: -1 })
    await setReservationStatus(trx, reservation.id, 'EXPIRED')
    await addToOutbox(
      trx,
      newEvent(
        stockReleased,
        { orderId: reservation.orderId, reservationId: reservation.id },
        { source, subject: reservation.orderId, time: now },
      ),
    )
  }
  return expired.length
}

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
