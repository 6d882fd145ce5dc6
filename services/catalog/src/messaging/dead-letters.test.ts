import { randomUUID } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { orderConfirmed, orderPlaced } from '@microshop/contracts/orders-events'
import { InProcessBroker, InProcessEventBus } from '@microshop/platform/events/in-process-event-bus'
import { newEvent } from '@microshop/platform/events/new-event'
import { createLogger } from '@microshop/platform/logger'
import {
  startTestTokenIssuer,
  type TestTokenIssuer,
} from '@microshop/platform/testing/token-issuer'
import { waitFor } from '@microshop/platform/testing/wait-for'
import { loadCatalogConfig } from '../config.ts'
import { startCatalogService, type CatalogService } from '../service.ts'

interface Letter {
  id: number
  consumer: string
  eventId: string
  eventType: string
  reason: string
}

describe('dead letters of the catalog', () => {
  let issuer: TestTokenIssuer
  let catalog: CatalogService
  let orders: InProcessEventBus
  let admin: string

  beforeAll(async () => {
    issuer = await startTestTokenIssuer()
    const broker = new InProcessBroker()
    catalog = await startCatalogService(
      loadCatalogConfig({
        PORT: '0',
        HOST: '127.0.0.1',
        LOG_LEVEL: 'silent',
        DATA_DIR: 'memory://',
        SEED_DEMO_DATA: 'true',
        JWKS_URL: issuer.jwksUrl,
      }),
      { broker },
    )
    orders = new InProcessEventBus({
      broker,
      logger: createLogger({ service: 'orders', level: 'silent' }),
    })
    admin = `Bearer ${await issuer.tokenFor('admin')}`
  })
  afterAll(async () => {
    await orders.close()
    await catalog.close()
    await issuer.close()
  })

  const letters = async () =>
    (
      await catalog.app.inject({ url: '/admin/dead-letters', headers: { authorization: admin } })
    ).json<{ items: Letter[] }>().items

  it('when a parked event`s cause is fixed, then an admin replays it and it is handled once', async () => {
    const products = (await catalog.app.inject({ url: '/products?limit=1' })).json<{
      items: { id: string; stock: { available: number } }[]
    }>().items
    const product = products[0] as { id: string; stock: { available: number } }
    const orderId = randomUUID()
    // A confirmation before the order was ever placed: the catalog parks it.
    const confirmation = newEvent(orderConfirmed, {
      orderId,
      userId: randomUUID(),
      paymentId: randomUUID(),
    })
    await orders.publish(confirmation)
    await waitFor(async () => (await letters()).some((l) => l.eventId === confirmation.id))
    const letter = (await letters()).find((l) => l.eventId === confirmation.id) as Letter
    expect(letter).toMatchObject({ consumer: 'catalog', eventType: orderConfirmed.type })

    const customer = `Bearer ${await issuer.tokenFor('customer')}`
    const refused = await catalog.app.inject({
      method: 'POST',
      url: `/admin/dead-letters/${letter.id}/replay`,
      headers: { authorization: customer },
    })
    expect(refused.statusCode).toBe(403)

    // The order shows up after all: its stock is reserved, then the replay commits it.
    await orders.publish(
      newEvent(orderPlaced, {
        orderId,
        userId: randomUUID(),
        lines: [{ productId: product.id, quantity: 2 }],
        total: { amount: 100, currency: 'USD' },
        placedAt: new Date().toISOString(),
      }),
    )
    const available = async () =>
      (await catalog.app.inject({ url: `/products/${product.id}` })).json<{
        stock: { available: number }
      }>().stock.available
    await waitFor(async () => (await available()) === product.stock.available - 2)
    const replay = async () =>
      (
        await catalog.app.inject({
          method: 'POST',
          url: `/admin/dead-letters/${letter.id}/replay`,
          headers: { authorization: admin },
        })
      ).json<{ outcome?: string; status?: number }>()
    expect(await replay()).toEqual({ outcome: 'handled' })
    expect((await letters()).some((l) => l.id === letter.id)).toBe(false)
    expect(await available()).toBe(product.stock.available - 2)
    expect((await replay()).status).toBe(404)
  })
})
