import { sql, type Transaction } from 'kysely'
import type { CatalogTables, ReservationStatus } from './tables.ts'

type Trx = Transaction<CatalogTables>

export interface ReservedLine {
  productId: string
  quantity: number
}

/** findReservationForUpdate locks an order's reservation, so its status changes one at a time. */
export function findReservationForUpdate(trx: Trx, orderId: string) {
  return trx
    .selectFrom('stockReservations')
    .selectAll()
    .where('orderId', '=', orderId)
    .forUpdate()
    .executeTakeFirst()
}

export function reservationLines(trx: Trx, reservationId: string): Promise<ReservedLine[]> {
  return trx
    .selectFrom('stockReservationLines')
    .select(['productId', 'quantity'])
    .where('reservationId', '=', reservationId)
    .orderBy('productId')
    .execute()
}

/**
 * lockProducts reads products FOR UPDATE in id order: every reservation locks in the same order,
 * so two orders sharing products wait for each other instead of deadlocking.
 */
export function lockProducts(trx: Trx, productIds: string[]) {
  return trx
    .selectFrom('products')
    .selectAll()
    .where('id', 'in', productIds)
    .orderBy('id')
    .forUpdate()
    .execute()
}

/**
 * adjustStock moves stock for several lines in one statement: `onHand` and `reserved` say how
 * each line's quantity changes each column (+1, -1 or 0). The table's checks refuse any result
 * below zero or with more reserved than on hand, so a bug cannot oversell silently.
 */
export async function adjustStock(
  trx: Trx,
  lines: ReservedLine[],
  change: { onHand: -1 | 0 | 1; reserved: -1 | 0 | 1 },
): Promise<void> {
  if (lines.length === 0) return
  await sql`
    update products as p
    set stock_on_hand = p.stock_on_hand + ${change.onHand} * l.quantity,
        stock_reserved = p.stock_reserved + ${change.reserved} * l.quantity,
        updated_at = now()
    from unnest(${lines.map((l) => l.productId)}::uuid[], ${lines.map((l) => l.quantity)}::int[])
      as l(product_id, quantity)
    where p.id = l.product_id`.execute(trx)
}

export async function insertReservation(
  trx: Trx,
  reservation: { id: string; orderId: string; status: ReservationStatus; expiresAt: Date },
  lines: ReservedLine[],
): Promise<void> {
  await trx.insertInto('stockReservations').values(reservation).execute()
  if (lines.length > 0) {
    await trx
      .insertInto('stockReservationLines')
      .values(lines.map((line) => ({ reservationId: reservation.id, ...line })))
      .execute()
  }
}

export async function setReservationStatus(
  trx: Trx,
  id: string,
  status: ReservationStatus,
): Promise<void> {
  await trx
    .updateTable('stockReservations')
    .set({ status, updatedAt: new Date() })
    .where('id', '=', id)
    .execute()
}

/** lockExpiredReservations claims held reservations past their expiry; replicas skip each other's. */
export function lockExpiredReservations(trx: Trx, now: Date, limit: number) {
  return trx
    .selectFrom('stockReservations')
    .selectAll()
    .where('status', '=', 'HELD')
    .where('expiresAt', '<', now)
    .orderBy('expiresAt')
    .limit(limit)
    .forUpdate()
    .skipLocked()
    .execute()
}
