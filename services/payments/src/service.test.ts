import { randomBytes, randomUUID } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import type { CloudEvent } from '@microshop/contracts/envelope'
import { paymentRequested } from '@microshop/contracts/orders-events'
import { paymentSucceeded } from '@microshop/contracts/payments-events'
import { NatsEventBus } from '@microshop/platform/events/nats-event-bus'
import { newEvent } from '@microshop/platform/events/new-event'
import { createLogger } from '@microshop/platform/logger'
import { createTestDatabase, type TestDatabase } from '@microshop/platform/testing/databases'
import { deleteStreamsOf, sharedNatsUrl } from '@microshop/platform/testing/nats-server'
import { loadPaymentsConfig } from './config.ts'
import { startPaymentsService } from './service.ts'

const logger = createLogger({ service: 'payments-test', level: 'silent' })

describe('startPaymentsService', () => {
  let testDb: TestDatabase
  const settings = () => ({
    PORT: '0',
    HOST: '127.0.0.1',
    LOG_LEVEL: 'silent',
    DATABASE_URL: testDb.url,
    DATA_DIR: testDb.dataDir,
  })

  beforeAll(async () => {
    testDb = await createTestDatabase('postgres')
  })
  afterAll(() => testDb.drop())

  it('when there is neither NATS_URL nor an in-process broker, then it refuses to start and says why', async () => {
    await expect(startPaymentsService(loadPaymentsConfig(settings()))).rejects.toThrow(/NATS_URL/)
  })

  it('when NATS_URL is set, then a payment request over JetStream is answered over JetStream', async () => {
    const namespace = `p${randomBytes(5).toString('hex')}`
    const payments = await startPaymentsService(
      loadPaymentsConfig({ ...settings(), NATS_URL: sharedNatsUrl, NATS_NAMESPACE: namespace }),
    )
    const orders = await NatsEventBus.connect({ servers: sharedNatsUrl, namespace, logger })
    try {
      const answers: CloudEvent[] = []
      await orders.subscribe({
        service: 'orders',
        event: paymentSucceeded,
        handler: async (event) => void answers.push(event),
      })
      const orderId = randomUUID()
      await orders.publish(
        newEvent(
          paymentRequested,
          {
            orderId,
            userId: randomUUID(),
            paymentMethod: 'pm_card_mastercard',
            amount: { amount: 700, currency: 'USD' },
          },
          { subject: orderId },
        ),
      )
      await vi.waitFor(() => expect(answers.map((a) => a.subject)).toEqual([orderId]), {
        timeout: 10_000,
      })
      const ready = await payments.app.inject({ url: '/health/ready' })
      expect(ready.json()).toMatchObject({ status: 'ready', checks: { bus: 'ok' } })
    } finally {
      await orders.close()
      await payments.close()
      await deleteStreamsOf(sharedNatsUrl, namespace)
    }
  })
})
