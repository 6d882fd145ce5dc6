import { sql, type Kysely } from 'kysely'
import type { Payment } from '../domain/payment.ts'
import type { PaymentRow, PaymentsTable, PaymentsTables, PaymentsTransaction } from './tables.ts'

type Db = Kysely<PaymentsTables>

export function paymentFromRow(row: PaymentRow): Payment {
  const { amount, currency, ...rest } = row
  return { ...rest, amount: { amount, currency } }
}

function rowFromPayment(payment: Payment): PaymentsTable {
  const { amount, ...rest } = payment
  return { ...rest, amount: amount.amount, currency: amount.currency }
}

/**
 * lockOrder serializes, per order, the transactions that create its payment and that record it
 * closed: without it, a payment created while the closure commits would be charged unseen.
 */
export async function lockOrder(trx: PaymentsTransaction, orderId: string): Promise<void> {
  await sql`select pg_advisory_xact_lock(hashtext(${`payments:order:${orderId}`}))`.execute(trx)
}

/** lockPaymentOfOrder reads an order's payment FOR UPDATE: every change to a payment holds this lock. */
export async function lockPaymentOfOrder(
  trx: PaymentsTransaction,
  orderId: string,
): Promise<Payment | undefined> {
  const row = await trx
    .selectFrom('payments')
    .selectAll()
    .where('orderId', '=', orderId)
    .forUpdate()
    .executeTakeFirst()
  return row && paymentFromRow(row)
}

/** insertPayment adds a new payment; hold the order's lock (lockOrder) so that nobody else does. */
export async function insertPayment(trx: PaymentsTransaction, payment: Payment): Promise<void> {
  await trx.insertInto('payments').values(rowFromPayment(payment)).execute()
}

/** savePayment writes what can change on a payment; hold its lock (lockPaymentOfOrder) first. */
export async function savePayment(trx: PaymentsTransaction, payment: Payment): Promise<void> {
  await trx
    .updateTable('payments')
    .set({
      status: payment.status,
      failureReason: payment.failureReason,
      chargeOutstanding: payment.chargeOutstanding,
      chargeId: payment.chargeId,
      refundId: payment.refundId,
      orderClosedAt: payment.orderClosedAt,
      updatedAt: payment.updatedAt,
    })
    .where('id', '=', payment.id)
    .execute()
}

/** recordOrderClosure remembers that an order was cancelled or rejected; the first event counts. */
export async function recordOrderClosure(
  trx: PaymentsTransaction,
  orderId: string,
  closedBy: 'cancelled' | 'rejected',
  now: Date,
): Promise<void> {
  await trx
    .insertInto('orderClosures')
    .values({ orderId, closedBy, closedAt: now })
    .onConflict((oc) => oc.column('orderId').doNothing())
    .execute()
}

export async function isOrderClosed(trx: PaymentsTransaction, orderId: string): Promise<boolean> {
  const row = await trx
    .selectFrom('orderClosures')
    .select('orderId')
    .where('orderId', '=', orderId)
    .executeTakeFirst()
  return row !== undefined
}

export async function findPayment(db: Db, id: string): Promise<Payment | undefined> {
  const row = await db.selectFrom('payments').selectAll().where('id', '=', id).executeTakeFirst()
  return row && paymentFromRow(row)
}

/** PaymentPosition is where a page of payments, newest first, ended. */
export interface PaymentPosition {
  createdAt: Date
  id: string
}

/**
 * listPaymentRows pages through payments newest first: the user's own, or everyone's when
 * `userId` is undefined, optionally for one order only.
 */
export async function listPaymentRows(
  db: Db,
  options: {
    userId: string | undefined
    orderId: string | undefined
    after: PaymentPosition | undefined
    limit: number
  },
): Promise<Payment[]> {
  let select = db.selectFrom('payments').selectAll()
  if (options.userId !== undefined) select = select.where('userId', '=', options.userId)
  if (options.orderId !== undefined) select = select.where('orderId', '=', options.orderId)
  const { after } = options
  if (after) {
    select = select.where((eb) =>
      eb.or([
        eb('createdAt', '<', after.createdAt),
        eb.and([eb('createdAt', '=', after.createdAt), eb('id', '<', after.id)]),
      ]),
    )
  }
  const rows = await select
    .orderBy('createdAt', 'desc')
    .orderBy('id', 'desc')
    .limit(options.limit)
    .execute()
  return rows.map(paymentFromRow)
}

/**
 * claimUnsettledPayments picks payments that have waited since before `staleBefore` for a
 * charge's answer or for a refund, and touches them so that another replica's reconciler leaves
 * them alone for as long again. It returns their order ids.
 */
export async function claimUnsettledPayments(
  db: Db,
  options: { staleBefore: Date; now: Date; limit: number },
): Promise<string[]> {
  const { rows } = await sql<{ orderId: string }>`
    update payments set updated_at = ${options.now}
    where id in (
      select id from payments
      where (status = 'PENDING' or (status = 'SUCCEEDED' and order_closed_at is not null))
        and updated_at < ${options.staleBefore}
      order by updated_at
      limit ${options.limit}
      for update skip locked)
    returning order_id`.execute(db)
  return rows.map((row) => row.orderId)
}
