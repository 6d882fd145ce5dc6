import { randomUUID } from 'node:crypto'
import { sql } from 'kysely'
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest'
import type { PaymentRequested } from '@microshop/contracts/orders-events'
import type { Database } from '@microshop/platform/db/database'
import { createStore } from '@microshop/platform/db/store'
import { createLogger } from '@microshop/platform/logger'
import {
  createTestDatabase,
  databaseKinds,
  type TestDatabase,
} from '@microshop/platform/testing/databases'
import { eventCauseForTest } from '@microshop/platform/testing/event-cause'
import { paymentsRepositories } from '../db/payments-repositories.ts'
import type { PaymentsTables } from '../db/tables.ts'
import { TransientProcessorError } from '../processor/payment-processor.ts'
import { SimulatedProcessor } from '../processor/simulated-processor.ts'
import { FaultyProcessor } from '../testing/faulty-processor.ts'
import { openPaymentsDatabase } from '../testing/payments-database.ts'
import { chargeForOrder } from './charge-payment.ts'
import { reconcilePayments } from './reconcile-payments.ts'
import { settleClosedOrder } from './settle-closed-order.ts'
import type { PaymentsContext } from './payments-context.ts'
import type { Cause } from './settle-payment.ts'

describe.each(databaseKinds)('settling payments on %s', (kind) => {
  let testDb: TestDatabase
  let database: Database<PaymentsTables>
  let processor: FaultyProcessor
  let deps: PaymentsContext

  beforeAll(async () => {
    testDb = await createTestDatabase(kind)
    database = await openPaymentsDatabase(testDb, { withProcessor: true })
    processor = new FaultyProcessor(SimulatedProcessor.in(database))
    deps = {
      store: createStore(database, paymentsRepositories),
      processor,
      settings: { reconcileAfterMs: 60_000 },
      logger: createLogger({ service: 'payments', level: 'silent' }),
      now: () => new Date(),
    }
  })
  afterAll(async () => {
    await database.close()
    await testDb.drop()
  })
  beforeEach(() => processor.reset())

  const request = (paymentMethod = 'pm_card_visa'): PaymentRequested => ({
    orderId: randomUUID(),
    userId: randomUUID(),
    paymentMethod,
    amount: { amount: 1250, currency: 'USD' },
  })
  const delivery = (lastAttempt = false): Cause => eventCauseForTest({ lastAttempt })
  const paymentOf = (orderId: string) =>
    database.db.selectFrom('payments').selectAll().where('orderId', '=', orderId).executeTakeFirst()
  const emitted = async (orderId: string) => {
    const { rows } = await sql<{ eventType: string }>`
      select event_type from outbox where subject = ${orderId} order by position`.execute(
      database.db,
    )
    return rows.map((row) => row.eventType.replace(/^payments\.payment\.|\.v1$/g, ''))
  }
  const chargesAtProcessor = async (paymentId: string) => {
    const { rows } = await sql<{ n: number }>`
      select count(*)::int as n from simulated_processor_charges
      where idempotency_key = ${paymentId}`.execute(database.db)
    return rows[0]?.n
  }

  const refundsAtProcessor = async (paymentId: string) => {
    const { rows } = await sql<{ n: number }>`
      select count(*)::int as n from simulated_processor_refunds
      where idempotency_key = ${`${paymentId}:refund`}`.execute(database.db)
    return rows[0]?.n
  }
  const handledTimes = async (eventId: string) => {
    const { rows } = await sql<{ n: number }>`
      select count(*)::int as n from inbox where event_id = ${eventId}`.execute(database.db)
    return rows[0]?.n
  }

  it('when the same payment request is delivered twice at once, then the order has one payment, charged once', async () => {
    const orders = Array.from({ length: 5 }, () => request())
    const causes = orders.map(() => delivery())
    await Promise.all(
      orders.flatMap((order, i) => [
        chargeForOrder(deps, order, causes[i] as Cause),
        chargeForOrder(deps, order, causes[i] as Cause),
      ]),
    )
    for (const [i, order] of orders.entries()) {
      const payments = await database.db
        .selectFrom('payments')
        .select(['id', 'status'])
        .where('orderId', '=', order.orderId)
        .execute()
      expect(payments.map((payment) => payment.status)).toEqual(['SUCCEEDED'])
      expect(await chargesAtProcessor(payments[0]?.id ?? '')).toBe(1)
      expect(await emitted(order.orderId)).toEqual(['succeeded'])
      expect(await handledTimes(causes[i]?.eventId ?? '')).toBe(1)
    }
  })

  it.each(['cancelled', 'rejected'] as const)(
    'when a payment request comes for an order already %s, then nothing is charged and the request is handled',
    async (closedBy) => {
      const order = request()
      await settleClosedOrder(deps, { orderId: order.orderId, closedBy }, delivery())
      const cause = delivery()
      await chargeForOrder(deps, order, cause)
      expect(await paymentOf(order.orderId)).toBeUndefined()
      expect(processor.charges).toEqual([])
      expect(await emitted(order.orderId)).toEqual([])
      expect(await handledTimes(cause.eventId ?? '')).toBe(1)
    },
  )

  it('when an order closes while its payment request is handled, then it ends with no net charge', async () => {
    const orders = Array.from({ length: 8 }, () => request())
    await Promise.all(
      orders.flatMap((order) => [
        chargeForOrder(deps, order, delivery()),
        settleClosedOrder(deps, { orderId: order.orderId, closedBy: 'cancelled' }, delivery()),
      ]),
    )
    for (const order of orders) {
      const payment = await paymentOf(order.orderId)
      if (!payment) continue
      const charged = (await chargesAtProcessor(payment.id)) ?? 0
      const refunded = (await refundsAtProcessor(payment.id)) ?? 0
      expect({ status: payment.status, net: charged - refunded }).toEqual({
        status: charged > 0 ? 'REFUNDED' : 'FAILED',
        net: 0,
      })
    }
  })

  it('when a refund is delivered twice, at once and again later, then the payment is refunded once', async () => {
    const order = request()
    await chargeForOrder(deps, order, delivery())
    const closure = { orderId: order.orderId, closedBy: 'cancelled' as const }
    const cancellation = delivery()
    await Promise.all([
      settleClosedOrder(deps, closure, cancellation),
      settleClosedOrder(deps, closure, cancellation),
    ])
    await settleClosedOrder(deps, closure, cancellation)
    const payment = await paymentOf(order.orderId)
    expect(payment?.status).toBe('REFUNDED')
    expect(await refundsAtProcessor(payment?.id ?? '')).toBe(1)
    expect(await emitted(order.orderId)).toEqual(['succeeded', 'refunded'])
    expect(await handledTimes(cancellation.eventId ?? '')).toBe(1)
  })

  it('when a card number comes instead of a token, then it is stored nowhere', async () => {
    const order = request('4000 0566 5566 5556')
    await chargeForOrder(deps, order, delivery())
    expect(await paymentOf(order.orderId)).toMatchObject({
      status: 'FAILED',
      failureReason: 'invalid_payment_method',
      paymentMethod: null,
    })
    expect(await emitted(order.orderId)).toEqual(['failed'])
    for (const table of ['payments', 'order_closures', 'outbox', 'inbox', 'dead_letters']) {
      const { rows } = await sql`select * from ${sql.table(table)}`.execute(database.db)
      expect(JSON.stringify(rows)).not.toMatch(/0566.?5566/)
    }
  })

  it('when a handled event is delivered again, then nothing is charged or emitted again', async () => {
    const order = request()
    const cause = delivery()
    await chargeForOrder(deps, order, cause)
    await chargeForOrder(deps, order, cause)
    expect(processor.charges).toHaveLength(1)
    expect(await emitted(order.orderId)).toEqual(['succeeded'])
  })

  it('when the order is rejected while its charge waits to be retried, then it fails without another charge', async () => {
    processor.failNextCharges('transient')
    const order = request()
    await expect(chargeForOrder(deps, order, delivery())).rejects.toBeInstanceOf(
      TransientProcessorError,
    )
    expect(await paymentOf(order.orderId)).toMatchObject({
      status: 'PENDING',
      chargeOutstanding: false,
    })
    await settleClosedOrder(deps, { orderId: order.orderId, closedBy: 'rejected' }, delivery())
    expect(await paymentOf(order.orderId)).toMatchObject({
      status: 'FAILED',
      failureReason: 'processing_error',
    })
    await chargeForOrder(deps, order, delivery())
    expect(processor.charges).toHaveLength(1)
    expect(await emitted(order.orderId)).toEqual(['failed'])
  })

  it('when the order closes while its charge fails transiently, then the payment fails at once instead of retrying', async () => {
    processor.failNextCharges('transient')
    const release = processor.hold()
    const order = request()
    const charging = chargeForOrder(deps, order, delivery())
    await vi.waitFor(() => expect(processor.charges).toHaveLength(1))
    await settleClosedOrder(deps, { orderId: order.orderId, closedBy: 'cancelled' }, delivery())
    release()
    await charging
    expect(await paymentOf(order.orderId)).toMatchObject({
      status: 'FAILED',
      failureReason: 'processing_error',
      chargeOutstanding: false,
    })
    expect(await emitted(order.orderId)).toEqual(['failed'])
  })

  it('when every delivery of a request lost the charge answer, then the reconciler settles it with the one charge', async () => {
    processor.failNextCharges('lost_answer', 'lost_answer')
    const order = request()
    await expect(chargeForOrder(deps, order, delivery())).rejects.toThrow(/answer was lost/)
    await expect(chargeForOrder(deps, order, delivery(true))).rejects.toThrow(/answer was lost/)
    const stuck = await paymentOf(order.orderId)
    expect(stuck).toMatchObject({ status: 'PENDING', chargeOutstanding: true })
    expect(await reconcilePayments(deps, 60_000)).toBe(0)

    expect(await reconcilePayments(deps, 0)).toBeGreaterThanOrEqual(1)
    expect(await paymentOf(order.orderId)).toMatchObject({ status: 'SUCCEEDED' })
    expect(await chargesAtProcessor(stuck?.id ?? '')).toBe(1)
    expect(await emitted(order.orderId)).toEqual(['succeeded'])
  })

  it('when a refund keeps failing, then the reconciler refunds the payment later, once', async () => {
    const order = request()
    await chargeForOrder(deps, order, delivery())
    processor.failNextRefunds('transient', 'lost_answer')
    const closure = { orderId: order.orderId, closedBy: 'cancelled' as const }
    await expect(settleClosedOrder(deps, closure, delivery())).rejects.toBeInstanceOf(
      TransientProcessorError,
    )
    await expect(settleClosedOrder(deps, closure, delivery(true))).rejects.toThrow(
      /answer was lost/,
    )
    expect(await paymentOf(order.orderId)).toMatchObject({ status: 'SUCCEEDED' })

    await reconcilePayments(deps, 0)
    expect(await paymentOf(order.orderId)).toMatchObject({ status: 'REFUNDED' })
    expect(processor.refunds.map((r) => r.idempotencyKey)).toEqual(
      Array.from({ length: 3 }, () => processor.refunds[0]?.idempotencyKey),
    )
    expect(await emitted(order.orderId)).toEqual(['succeeded', 'refunded'])
  })
})
