import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { productChanged, stockReserved } from '@microshop/contracts/catalog-events'
import { orderPlaced, paymentRequested } from '@microshop/contracts/orders-events'
import { paymentSucceeded } from '@microshop/contracts/payments-events'
import { InProcessBroker, InProcessEventBus } from '@microshop/platform/events/in-process-event-bus'
import { NatsEventBus } from '@microshop/platform/events/nats-event-bus'
import { newEvent } from '@microshop/platform/events/new-event'
import { createLogger } from '@microshop/platform/logger'
import { createTestDatabase } from '@microshop/platform/testing/databases'
import { natsServerAvailable, startOwnNatsServer } from '@microshop/platform/testing/nats-server'
import {
  startTestTokenIssuer,
  type TestTokenIssuer,
} from '@microshop/platform/testing/token-issuer'
import { loadOrdersConfig } from './config.ts'
import { startOrdersService, type OrdersService } from './service.ts'
import { type OrderBody } from './testing/orders-harness.ts'
import { waitFor } from '@microshop/platform/testing/wait-for'

const logger = createLogger({ service: 'orders-test', level: 'silent' })
const productId = '0b8f4c1e-2d3a-4b5c-8d9e-0f1a2b3c4d5e'
const userId = '0b8f4c1e-2d3a-4b5c-8d9e-0f1a2b3c4d6f'

describe('startOrdersService in embedded mode', () => {
  let dataDir: string
  let issuer: TestTokenIssuer
  let service: OrdersService | undefined
  const broker = new InProcessBroker()
  const config = () =>
    loadOrdersConfig({
      HOST: '127.0.0.1',
      PORT: '0',
      LOG_LEVEL: 'silent',
      DATA_DIR: dataDir,
      JWKS_URL: issuer.jwksUrl,
      CATALOG_URL: 'http://127.0.0.1:9',
    })

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'orders-service-'))
    issuer = await startTestTokenIssuer()
  })
  afterAll(async () => {
    await service?.close()
    await issuer.close()
    await rm(dataDir, { recursive: true, force: true })
  })

  it('when there is neither NATS_URL nor an in-process broker, then it refuses to start and says why', async () => {
    await expect(startOrdersService(config(), { logger })).rejects.toThrow(/NATS_URL/)
  })

  it('when restarted on the same data folder, then its orders, read model and saga carry on', async () => {
    const peer = new InProcessEventBus({ broker, logger })
    const requested: string[] = []
    await peer.subscribe({
      service: 'payments-stand-in',
      event: paymentRequested,
      handler: async (event) => void requested.push(event.data.orderId),
    })
    service = await startOrdersService(config(), { logger, broker })
    await peer.publish(
      newEvent(
        productChanged,
        {
          productId,
          sku: 'KEEP-1',
          name: 'Kept',
          price: { amount: 300, currency: 'USD' },
          available: 5,
          version: 1,
        },
        { subject: productId },
      ),
    )
    const authorization = `Bearer ${await issuer.tokenFor('customer', userId)}`
    const place = () =>
      service?.app.inject({
        method: 'POST',
        url: '/orders',
        headers: { authorization },
        payload: { items: [{ productId, quantity: 1 }], paymentMethod: 'pm_card_visa' },
      })
    await waitFor(async () => {
      const known = await service?.database.db
        .selectFrom('catalogProducts')
        .select('id')
        .where('id', '=', productId)
        .executeTakeFirst()
      return known !== undefined
    })
    const placed = (await place())?.json<OrderBody>()
    await service.close()

    service = await startOrdersService(config(), { logger, broker })
    const read = await service.app.inject({
      url: `/orders/${placed?.id}`,
      headers: { authorization },
    })
    expect(read.json<OrderBody>()).toMatchObject({ status: 'PENDING', total: { amount: 300 } })
    expect((await place())?.statusCode).toBe(202)
    await peer.publish(
      newEvent(
        stockReserved,
        {
          orderId: placed?.id ?? '',
          reservationId: '0b8f4c1e-2d3a-4b5c-8d9e-0f1a2b3c4d70',
          lines: [
            {
              productId,
              sku: 'KEEP-1',
              name: 'Kept',
              unitPrice: { amount: 300, currency: 'USD' },
              quantity: 1,
            },
          ],
          expiresAt: new Date(Date.now() + 60_000).toISOString(),
        },
        { subject: placed?.id },
      ),
    )
    await waitFor(() => requested.includes(placed?.id ?? ''))
    await peer.close()
  })
})

describe.skipIf(!natsServerAvailable)('startOrdersService on NATS JetStream and Postgres', () => {
  it('when catalog and payments answer over JetStream, then an order is CONFIRMED', async () => {
    const nats = await startOwnNatsServer()
    const testDb = await createTestDatabase('postgres')
    const issuer = await startTestTokenIssuer()
    const peer = await NatsEventBus.connect({ servers: nats.url, logger })
    const service = await startOrdersService(
      loadOrdersConfig({
        HOST: '127.0.0.1',
        PORT: '0',
        LOG_LEVEL: 'silent',
        DATABASE_URL: testDb.url,
        NATS_URL: nats.url,
        JWKS_URL: issuer.jwksUrl,
      }),
      { logger },
    )
    try {
      const ready = await service.app.inject({ url: '/health/ready' })
      expect(ready.json()).toMatchObject({ checks: { database: 'ok', bus: 'ok' } })
      // The test answers as catalog and payments would: reserve what is placed, pay what is asked.
      await peer.subscribe({
        service: 'catalog-stand-in',
        event: orderPlaced,
        handler: (event) =>
          peer.publish(
            newEvent(
              stockReserved,
              {
                orderId: event.data.orderId,
                reservationId: '0b8f4c1e-2d3a-4b5c-8d9e-0f1a2b3c4d71',
                lines: event.data.lines.map((line) => ({
                  ...line,
                  sku: 'KEEP-1',
                  name: 'Kept',
                  unitPrice: { amount: 300, currency: 'USD' },
                })),
                expiresAt: new Date(Date.now() + 60_000).toISOString(),
              },
              { subject: event.data.orderId },
            ),
          ),
      })
      await peer.subscribe({
        service: 'payments-stand-in',
        event: paymentRequested,
        handler: (event) =>
          peer.publish(
            newEvent(
              paymentSucceeded,
              {
                paymentId: '0b8f4c1e-2d3a-4b5c-8d9e-0f1a2b3c4d72',
                orderId: event.data.orderId,
                userId: event.data.userId,
                amount: event.data.amount,
              },
              { subject: event.data.orderId },
            ),
          ),
      })
      await peer.publish(
        newEvent(
          productChanged,
          {
            productId,
            sku: 'KEEP-1',
            name: 'Kept',
            price: { amount: 300, currency: 'USD' },
            available: 5,
            version: 1,
          },
          { subject: productId },
        ),
      )
      await waitFor(async () => {
        const known = await service.database.db
          .selectFrom('catalogProducts')
          .select('id')
          .where('id', '=', productId)
          .executeTakeFirst()
        return known !== undefined
      })
      const authorization = `Bearer ${await issuer.tokenFor('customer', userId)}`
      const placed = await service.app.inject({
        method: 'POST',
        url: '/orders',
        headers: { authorization },
        payload: { items: [{ productId, quantity: 2 }], paymentMethod: 'pm_card_visa' },
      })
      expect(placed.statusCode).toBe(202)
      const { id } = placed.json<OrderBody>()
      await waitFor(async () => {
        const read = await service.app.inject({ url: `/orders/${id}`, headers: { authorization } })
        return read.json<OrderBody>().status === 'CONFIRMED'
      }, 10_000)
    } finally {
      await service.close()
      await peer.close()
      await issuer.close()
      await testDb.drop()
      await nats.dispose()
    }
  })
})
