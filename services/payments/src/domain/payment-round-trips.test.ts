import { randomUUID } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { PaymentRequested } from '@microshop/contracts/orders-events'
import type { Database } from '@microshop/platform/db/database'
import { createStore } from '@microshop/platform/db/store'
import { createLogger } from '@microshop/platform/logger'
import { createTestDatabase, type TestDatabase } from '@microshop/platform/testing/databases'
import { eventCauseForTest } from '@microshop/platform/testing/event-cause'
import { paymentsRepositories } from '../db/payments-repositories.ts'
import type { PaymentsTables } from '../db/tables.ts'
import { SimulatedProcessor } from '../processor/simulated-processor.ts'
import { openPaymentsDatabase } from '../testing/payments-database.ts'
import { openSimulatedProcessorDatabase } from '../testing/simulated-processor-database.ts'
import { chargeForOrder } from './charge-payment.ts'
import type { PaymentsContext } from './payments-context.ts'
import { settleClosedOrder } from './settle-closed-order.ts'

// The round trips each payment step makes to payments' database (every statement, BEGIN and
// COMMIT included): the cost issue #11 asks to bring down. On Postgres, where each is a trip over
// the network (PGlite's driver opens and ends transactions without a statement, and the other
// suites run the same steps there). The processor keeps its records in a database of its own
// here, so that its statements (an external system's) are not counted.
describe('round trips of the payment steps on postgres', () => {
  let testDb: TestDatabase
  let database: Database<PaymentsTables>
  let processorDb: Awaited<ReturnType<typeof openSimulatedProcessorDatabase>>
  let ctx: PaymentsContext
  const statements: string[] = []

  beforeAll(async () => {
    testDb = await createTestDatabase('postgres')
    database = await openPaymentsDatabase(testDb, {
      onStatement: (sql) => void statements.push(sql),
    })
    processorDb = await openSimulatedProcessorDatabase()
    ctx = {
      store: createStore(database, paymentsRepositories),
      processor: new SimulatedProcessor(processorDb.database.db),
      settings: { reconcileAfterMs: 60_000 },
      logger: createLogger({ service: 'payments', level: 'silent' }),
      now: () => new Date(),
    }
  })
  afterAll(async () => {
    await database.close()
    await processorDb.close()
    await testDb.drop()
  })

  /** roundTrips counts the statements `step` sends to payments' database. */
  const roundTrips = async (step: () => Promise<unknown>) => {
    statements.length = 0
    await step()
    return statements.length
  }
  const request = (): PaymentRequested => ({
    orderId: randomUUID(),
    userId: randomUUID(),
    paymentMethod: 'pm_card_visa',
    amount: { amount: 1999, currency: 'USD' },
  })
  const cancelled = (order: PaymentRequested) => ({
    orderId: order.orderId,
    closedBy: 'cancelled' as const,
  })

  it('counts the statements of each step', async () => {
    const paid = request()
    const paidRequest = eventCauseForTest()
    const charge = await roundTrips(() => chargeForOrder(ctx, paid, paidRequest))
    const redelivered = await roundTrips(() => chargeForOrder(ctx, paid, paidRequest))
    const refund = await roundTrips(() =>
      settleClosedOrder(ctx, cancelled(paid), eventCauseForTest()),
    )

    const unpaid = request()
    const closeUnpaid = await roundTrips(() =>
      settleClosedOrder(ctx, cancelled(unpaid), eventCauseForTest()),
    )
    const requestClosed = await roundTrips(() => chargeForOrder(ctx, unpaid, eventCauseForTest()))

    // Before each step was a statement of its own (#11): a charge 13 (two transactions: inbox
    // check, advisory lock, payment lock, closure check, insert; payment lock, save, outbox, inbox),
    // a redelivered request 3, a refund 13, a closure with no payment 7, a request for a closed
    // order 7.
    expect({ charge, redelivered, refund, closeUnpaid, requestClosed }).toEqual({
      // The payment created as charged-to-be; after the processor's answer, its record.
      charge: 2,
      // The inbox says the request was handled.
      redelivered: 1,
      // The closure recorded and the payment marked; after the refund, its record.
      refund: 2,
      // The closure, then a second look for a payment created unseen by the first.
      closeUnpaid: 2,
      // The closure found: the request recorded handled, nothing created.
      requestClosed: 1,
    })
  })
})
