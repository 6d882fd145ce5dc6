import type { Kysely } from 'kysely'
import type { Caller } from '@microshop/platform/auth/access-token-verifier'
import { notFound } from '@microshop/platform/errors'
import { decodeCursor, pageFrom, type Page } from '@microshop/platform/pagination'
import { findPayment, listPaymentRows, type PaymentPosition } from '../db/payment-repository.ts'
import type { PaymentsTables } from '../db/tables.ts'
import { paymentView, type PaymentView } from './payment.ts'

/** getPayment shows a payment to its owner or an admin; to anyone else it does not exist. */
export async function getPayment(
  db: Kysely<PaymentsTables>,
  caller: Caller,
  id: string,
): Promise<PaymentView> {
  const payment = await findPayment(db, id)
  if (!payment || !mayRead(caller, payment.userId)) throw notFound(`No payment with id ${id}.`)
  return paymentView(payment)
}

/** listPayments pages through the caller's payments newest first (an admin's: everyone's), optionally for one order. */
export async function listPayments(
  db: Kysely<PaymentsTables>,
  caller: Caller,
  options: { orderId?: string | undefined; limit: number; cursor?: string | undefined },
): Promise<Page<PaymentView>> {
  const after = options.cursor ? decodeCursor(options.cursor, isPositionKey) : undefined
  const rows = await listPaymentRows(db, {
    userId: caller.role === 'admin' ? undefined : caller.userId,
    orderId: options.orderId,
    after: after && { createdAt: new Date(after[0]), id: after[1] },
    limit: options.limit + 1,
  })
  return pageFrom(rows, options.limit, paymentView, (payment): PositionKey => [
    payment.createdAt.toISOString(),
    payment.id,
  ])
}

const mayRead = (caller: Caller, ownerId: string) =>
  caller.role === 'admin' || caller.userId === ownerId

// PositionKey is a PaymentPosition as a cursor carries it: [createdAt ISO time, id].
type PositionKey = [string, PaymentPosition['id']]

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

function isPositionKey(value: unknown): value is PositionKey {
  return (
    Array.isArray(value) &&
    value.length === 2 &&
    typeof value[0] === 'string' &&
    !Number.isNaN(Date.parse(value[0])) &&
    typeof value[1] === 'string' &&
    UUID.test(value[1])
  )
}
