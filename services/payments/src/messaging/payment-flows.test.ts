import { randomUUID } from 'node:crypto'
import { pino } from 'pino'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import type { EventDefinition } from '@microshop/contracts/define-event'
import type { CloudEvent } from '@microshop/contracts/envelope'
import {
  orderCancelled,
  orderRejected,
  paymentRequested,
  type PaymentRequested,
} from '@microshop/contracts/orders-events'
import {
  paymentFailed,
  paymentRefunded,
  paymentSucceeded,
} from '@microshop/contracts/payments-events'
import type { Database } from '@microshop/platform/db/database'
import { InProcessBroker, InProcessEventBus } from '@microshop/platform/events/in-process-event-bus'
import { newEvent } from '@microshop/platform/events/new-event'
import { createLogger, loggerOptions } from '@microshop/platform/logger'
import { createMetrics, type Metrics } from '@microshop/platform/metrics'
import {
  createTestDatabase,
  databaseKinds,
  type TestDatabase,
} from '@microshop/platform/testing/databases'
import {
  startTestTokenIssuer,
  type TestTokenIssuer,
} from '@microshop/platform/testing/token-issuer'
import { loadPaymentsConfig } from '../config.ts'
import {
  SimulatedProcessor,
  type SimulatedProcessorTables,
} from '../processor/simulated-processor.ts'
import { startPaymentsService, type PaymentsService } from '../service.ts'
import { FaultyProcessor } from '../testing/faulty-processor.ts'
import { openSimulatedProcessorDatabase } from '../testing/simulated-processor-database.ts'
import { waitFor } from '@microshop/platform/testing/wait-for'

interface PaymentBody {
  id: string
  orderId: string
  amount: { amount: number; currency: string }
  status: string
  failureReason: string | null
}

const usd = (amount: number) => ({ amount, currency: 'USD' })
const MAX_ATTEMPTS = 3

describe.each(databaseKinds)('the payment step of the checkout saga on %s', (kind) => {
  let testDb: TestDatabase
  let processorDb: { database: Database<SimulatedProcessorTables>; close: () => Promise<void> }
  let issuer: TestTokenIssuer
  let orders: InProcessEventBus
  let metrics: Metrics
  let processor: FaultyProcessor
  let payments: PaymentsService
  let admin: string
  const observed: CloudEvent[] = []
  const logLines: string[] = []

  beforeAll(async () => {
    testDb = await createTestDatabase(kind)
    processorDb = await openSimulatedProcessorDatabase()
    processor = new FaultyProcessor(new SimulatedProcessor(processorDb.database.db))
    issuer = await startTestTokenIssuer()
    const broker = new InProcessBroker()
    metrics = createMetrics('payments')
    payments = await startPaymentsService(
      loadPaymentsConfig({
        PORT: '0',
        HOST: '127.0.0.1',
        DATABASE_URL: testDb.url,
        DATA_DIR: testDb.dataDir,
        JWKS_URL: issuer.jwksUrl,
        PROCESSOR_MAX_ATTEMPTS: String(MAX_ATTEMPTS),
        PROCESSOR_RETRY_BACKOFF_MS: '10,20',
      }),
      {
        broker,
        processor,
        metrics,
        // Every line the service logs is kept, to show that no card number is among them.
        logger: pino(loggerOptions({ service: 'payments', level: 'debug' }), {
          write: (line: string) => void logLines.push(line),
        }),
      },
    )
    // orders is the other side of the saga: it publishes the requests and hears the answers.
    orders = new InProcessEventBus({
      broker,
      logger: createLogger({ service: 'orders', level: 'silent' }),
    })
    const answerTypes: EventDefinition[] = [paymentSucceeded, paymentFailed, paymentRefunded]
    for (const event of answerTypes) {
      await orders.subscribe({
        service: 'orders',
        event,
        handler: async (received) => void observed.push(received),
      })
    }
    admin = `Bearer ${await issuer.tokenFor('admin')}`
  })
  afterAll(async () => {
    await payments.close()
    await orders.close()
    await processorDb.close()
    await issuer.close()
    await testDb.drop()
  })
  beforeEach(() => processor.reset())

  const requestPayment = async (overrides: Partial<PaymentRequested> = {}) => {
    const data: PaymentRequested = {
      orderId: randomUUID(),
      userId: randomUUID(),
      paymentMethod: 'pm_card_visa',
      amount: usd(2500),
      ...overrides,
    }
    await orders.publish(newEvent(paymentRequested, data, { subject: data.orderId }))
    return data
  }
  const cancelOrder = (order: PaymentRequested, previousStatus: 'PENDING' | 'CONFIRMED') =>
    orders.publish(
      newEvent(
        orderCancelled,
        { orderId: order.orderId, userId: order.userId, previousStatus },
        { subject: order.orderId },
      ),
    )
  const rejectOrder = (order: PaymentRequested, reason: string) =>
    orders.publish(
      newEvent(
        orderRejected,
        { orderId: order.orderId, userId: order.userId, reason },
        { subject: order.orderId },
      ),
    )
  /** answers are the payments events about an order, in the order they came. */
  const answers = (orderId: string) =>
    observed
      .filter((event) => event.subject === orderId)
      .map((event) => ({
        type: event.type.replace(/^payments\.payment\.|\.v1$/g, ''),
        data: event.data as Record<string, unknown>,
      }))
  const types = (orderId: string) => answers(orderId).map((answer) => answer.type)
  const answered = (orderId: string, type: string) => waitFor(() => types(orderId).includes(type))
  const paymentOf = async (orderId: string): Promise<PaymentBody | undefined> => {
    const response = await payments.app.inject({
      url: `/payments?orderId=${orderId}`,
      headers: { authorization: admin },
    })
    return response.json<{ items: PaymentBody[] }>().items[0]
  }
  /** handled counts the events of a type payments has finished with. */
  const handled = async (type: string) => {
    const counter = await metrics.registry.getSingleMetric('events_consumed_total')?.get()
    return (
      counter?.values.find((v) => v.labels.type === type && v.labels.consumer === 'payments')
        ?.value ?? 0
    )
  }
  /** settle waits until payments has finished with `count` more events of the type. */
  const handledAfter = async (type: string, count = 1) => {
    const before = await handled(type)
    return () => waitFor(async () => (await handled(type)) >= before + count)
  }

  it('when a visa payment is requested, then it is charged once and succeeds for the exact amount', async () => {
    const order = await requestPayment({ amount: usd(4321) })
    await answered(order.orderId, 'succeeded')
    const payment = await paymentOf(order.orderId)
    expect(payment).toMatchObject({ status: 'SUCCEEDED', amount: usd(4321), failureReason: null })
    expect(answers(order.orderId)).toEqual([
      {
        type: 'succeeded',
        data: {
          paymentId: payment?.id,
          orderId: order.orderId,
          userId: order.userId,
          amount: usd(4321),
        },
      },
    ])
    expect(processor.chargesFor(payment?.id ?? '')).toHaveLength(1)
  })

  it('when an answer is emitted, then it carries the trace of the request', async () => {
    const traceId = 'a'.repeat(32)
    const data = {
      orderId: randomUUID(),
      userId: randomUUID(),
      paymentMethod: 'pm_card_visa',
      amount: usd(1),
    }
    await orders.publish(
      newEvent(paymentRequested, data, {
        subject: data.orderId,
        traceparent: `00-${traceId}-${'b'.repeat(16)}-01`,
      }),
    )
    await answered(data.orderId, 'succeeded')
    const answer = observed.find((event) => event.subject === data.orderId)
    expect(answer?.traceparent?.split('-')[1]).toBe(traceId)
    expect(answer?.source).toBe('/payments')
  })

  it.each([
    ['pm_card_chargeDeclined', 'card_declined'],
    ['pm_card_chargeDeclinedInsufficientFunds', 'insufficient_funds'],
    ['pm_card_chargeDeclinedExpiredCard', 'expired_card'],
    ['pm_card_unknown', 'invalid_payment_method'],
  ])('when %s is declined, then the payment fails as %s', async (paymentMethod, reason) => {
    const order = await requestPayment({ paymentMethod })
    await answered(order.orderId, 'failed')
    expect(types(order.orderId)).toEqual(['failed'])
    expect(answers(order.orderId)[0]?.data).toMatchObject({ reason, orderId: order.orderId })
    expect(await paymentOf(order.orderId)).toMatchObject({
      status: 'FAILED',
      failureReason: reason,
    })
  })

  it('when a card number comes instead of a token, then the payment fails without reaching the processor or the logs', async () => {
    const order = await requestPayment({ paymentMethod: '4242 4242 4242 4242' })
    await answered(order.orderId, 'failed')
    expect(answers(order.orderId)[0]?.data.reason).toBe('invalid_payment_method')
    expect(processor.charges).toEqual([])
    expect(logLines.length).toBeGreaterThan(0)
    expect(logLines.join('\n')).not.toMatch(/4242.?4242/)
  })

  it('when the processor fails transiently, then the charge is retried with the same key and succeeds once', async () => {
    processor.failNextCharges('transient', 'transient')
    const order = await requestPayment()
    await answered(order.orderId, 'succeeded')
    const payment = await paymentOf(order.orderId)
    expect(processor.chargesFor(payment?.id ?? '')).toHaveLength(3)
    expect(types(order.orderId)).toEqual(['succeeded'])
  })

  it('when the processor keeps failing transiently, then after the last try the payment fails as processing_error', async () => {
    const order = await requestPayment({ paymentMethod: 'pm_card_chargeDeclinedProcessingError' })
    await answered(order.orderId, 'failed')
    const payment = await paymentOf(order.orderId)
    expect(payment).toMatchObject({ status: 'FAILED', failureReason: 'processing_error' })
    expect(processor.chargesFor(payment?.id ?? '')).toHaveLength(MAX_ATTEMPTS)
    expect(types(order.orderId)).toEqual(['failed'])
  })

  it('when payments crashes between the charge and its record, then the redelivery gets the same charge back and the card is charged once', async () => {
    processor.failNextCharges('lost_answer')
    const order = await requestPayment()
    await answered(order.orderId, 'succeeded')
    const payment = await paymentOf(order.orderId)
    const paymentId = payment?.id ?? ''
    expect(processor.chargesFor(paymentId).map((c) => c.idempotencyKey)).toEqual([
      paymentId,
      paymentId,
    ])
    const charged = await processorDb.database.db
      .selectFrom('simulatedProcessorCharges')
      .select('chargeId')
      .where('idempotencyKey', '=', paymentId)
      .execute()
    expect(charged).toHaveLength(1)
    expect(payment?.status).toBe('SUCCEEDED')
    expect(types(order.orderId)).toEqual(['succeeded'])
  })

  it('when the same order asks for payment twice, then it has one payment charged once', async () => {
    const settled = await handledAfter(paymentRequested.type, 2)
    const order = await requestPayment()
    await requestPayment(order)
    await settled()
    await answered(order.orderId, 'succeeded')
    const list = await payments.app.inject({
      url: `/payments?orderId=${order.orderId}`,
      headers: { authorization: admin },
    })
    const items = list.json<{ items: PaymentBody[] }>().items
    expect(items).toHaveLength(1)
    expect(processor.chargesFor(items[0]?.id ?? '')).toHaveLength(1)
    expect(types(order.orderId)).toEqual(['succeeded'])
  })

  it('when the order was cancelled before its payment request arrived, then nothing is charged', async () => {
    const order = { orderId: randomUUID(), userId: randomUUID() } as PaymentRequested
    const cancelled = await handledAfter(orderCancelled.type)
    await cancelOrder(order, 'PENDING')
    await cancelled()
    const requested = await handledAfter(paymentRequested.type)
    await requestPayment(order)
    await requested()
    expect(processor.charges).toEqual([])
    expect(await paymentOf(order.orderId)).toBeUndefined()
    expect(answers(order.orderId)).toEqual([])
  })

  it.each([
    ['cancelled', (order: PaymentRequested) => cancelOrder(order, 'CONFIRMED')],
    ['rejected', (order: PaymentRequested) => rejectOrder(order, 'payment_amount_mismatch')],
  ])(
    'when a paid order is %s, then the payment is refunded in full, once',
    async (_closed, close) => {
      const order = await requestPayment({ amount: usd(999) })
      await answered(order.orderId, 'succeeded')
      await close(order)
      await answered(order.orderId, 'refunded')
      const payment = await paymentOf(order.orderId)
      expect(payment?.status).toBe('REFUNDED')
      expect(answers(order.orderId)[1]).toEqual({
        type: 'refunded',
        data: {
          paymentId: payment?.id,
          orderId: order.orderId,
          userId: order.userId,
          amount: usd(999),
        },
      })
      expect(processor.refunds).toHaveLength(1)
    },
  )

  it('when the cancellation comes again and the order is rejected too, then there is still one refund', async () => {
    const order = await requestPayment()
    await answered(order.orderId, 'succeeded')
    await cancelOrder(order, 'CONFIRMED')
    await answered(order.orderId, 'refunded')
    const more = await handledAfter(orderCancelled.type)
    const rejected = await handledAfter(orderRejected.type)
    await cancelOrder(order, 'CONFIRMED')
    await rejectOrder(order, 'timeout')
    await more()
    await rejected()
    expect(types(order.orderId)).toEqual(['succeeded', 'refunded'])
    expect(processor.refunds).toHaveLength(1)
  })

  it('when the order is cancelled while its charge is in flight, then the charge is recorded and refunded', async () => {
    const release = processor.hold()
    const order = await requestPayment()
    await waitFor(() => processor.charges.length === 1)
    const cancelled = await handledAfter(orderCancelled.type)
    await cancelOrder(order, 'PENDING')
    await cancelled()
    expect(types(order.orderId)).toEqual([])
    release()
    await answered(order.orderId, 'refunded')
    expect(types(order.orderId)).toEqual(['succeeded', 'refunded'])
    expect((await paymentOf(order.orderId))?.status).toBe('REFUNDED')
  })
})
