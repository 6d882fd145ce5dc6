import { randomUUID } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import type { EventDefinition } from '@microshop/contracts/define-event'
import type { CloudEvent } from '@microshop/contracts/envelope'
import { paymentRequested } from '@microshop/contracts/orders-events'
import { paymentFailed, paymentSucceeded } from '@microshop/contracts/payments-events'
import { InProcessBroker, InProcessEventBus } from '@microshop/platform/events/in-process-event-bus'
import { newEvent } from '@microshop/platform/events/new-event'
import { createLogger } from '@microshop/platform/logger'
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
import { startPaymentsService, type PaymentsService } from '../service.ts'

interface PaymentBody {
  id: string
  orderId: string
  status: string
}
interface PageBody {
  items: PaymentBody[]
  nextCursor: string | null
}

describe.each(databaseKinds)('payments API on %s', (kind) => {
  let testDb: TestDatabase
  let issuer: TestTokenIssuer
  let orders: InProcessEventBus
  let payments: PaymentsService
  const alice = { id: randomUUID(), token: '' }
  const bob = { id: randomUUID(), token: '' }
  let admin: string
  const answered = new Map<string, string>()
  // aliceOrders are in the order they were paid; bobOrder is paid last.
  const aliceOrders: string[] = []
  let bobOrder: string

  const pay = async (userId: string, paymentMethod = 'pm_card_visa') => {
    const orderId = randomUUID()
    await orders.publish(
      newEvent(
        paymentRequested,
        { orderId, userId, paymentMethod, amount: { amount: 1999, currency: 'USD' } },
        { subject: orderId },
      ),
    )
    await vi.waitFor(() => expect(answered.has(orderId)).toBe(true), { timeout: 10_000 })
    return orderId
  }
  const get = (url: string, authorization?: string) =>
    payments.app.inject({ url, headers: authorization ? { authorization } : {} })

  beforeAll(async () => {
    testDb = await createTestDatabase(kind)
    issuer = await startTestTokenIssuer()
    const broker = new InProcessBroker()
    payments = await startPaymentsService(
      loadPaymentsConfig({
        PORT: '0',
        HOST: '127.0.0.1',
        LOG_LEVEL: 'silent',
        DATABASE_URL: testDb.url,
        DATA_DIR: testDb.dataDir,
        JWKS_URL: issuer.jwksUrl,
      }),
      { broker },
    )
    orders = new InProcessEventBus({
      broker,
      logger: createLogger({ service: 'orders', level: 'silent' }),
    })
    const answers: EventDefinition[] = [paymentSucceeded, paymentFailed]
    for (const event of answers) {
      await orders.subscribe({
        service: 'orders',
        event,
        handler: async (answer: CloudEvent) => void answered.set(answer.subject ?? '', answer.type),
      })
    }
    alice.token = `Bearer ${await issuer.tokenFor('customer', alice.id)}`
    bob.token = `Bearer ${await issuer.tokenFor('customer', bob.id)}`
    admin = `Bearer ${await issuer.tokenFor('admin')}`
    aliceOrders.push(await pay(alice.id))
    aliceOrders.push(await pay(alice.id, 'pm_card_chargeDeclined'))
    aliceOrders.push(await pay(alice.id))
    bobOrder = await pay(bob.id)
  })
  afterAll(async () => {
    await payments.close()
    await orders.close()
    await issuer.close()
    await testDb.drop()
  })

  it('when the owner asks for a payment, then they see it with its amount and status', async () => {
    const { items } = (
      await get(`/payments?orderId=${aliceOrders[1]}`, alice.token)
    ).json<PageBody>()
    const response = await get(`/payments/${items[0]?.id}`, alice.token)
    expect(response.statusCode).toBe(200)
    const payment = response.json<Record<string, unknown>>()
    expect(Object.keys(payment).sort()).toEqual(
      ['amount', 'createdAt', 'failureReason', 'id', 'orderId', 'status', 'updatedAt'].sort(),
    )
    expect(payment).toMatchObject({
      orderId: aliceOrders[1],
      amount: { amount: 1999, currency: 'USD' },
      status: 'FAILED',
      failureReason: 'card_declined',
    })
  })

  it('when a customer lists payments, then they see only their own, newest first', async () => {
    const page = (await get('/payments', alice.token)).json<PageBody>()
    expect(page.items.map((p) => p.orderId)).toEqual([...aliceOrders].reverse())
    expect(page.nextCursor).toBeNull()
  })

  it("when someone asks for another user's payment, then it does not exist for them", async () => {
    const { items } = (await get(`/payments?orderId=${bobOrder}`, bob.token)).json<PageBody>()
    const bobsPayment = items[0]?.id
    expect(bobsPayment).toBeDefined()
    const byId = await get(`/payments/${bobsPayment}`, alice.token)
    expect(byId.statusCode).toBe(404)
    expect(byId.headers['content-type']).toContain('application/problem+json')
    const byOrder = (await get(`/payments?orderId=${bobOrder}`, alice.token)).json<PageBody>()
    expect(byOrder.items).toEqual([])
  })

  it('when an admin asks, then they see everyone`s payments', async () => {
    const { items } = (await get('/payments?limit=100', admin)).json<PageBody>()
    expect(items.map((p) => p.orderId)).toEqual(expect.arrayContaining([...aliceOrders, bobOrder]))
    const bobsPayment = items.find((p) => p.orderId === bobOrder)
    expect((await get(`/payments/${bobsPayment?.id}`, admin)).statusCode).toBe(200)
  })

  it('when paging with the cursor, then every payment comes exactly once, newest first', async () => {
    const seen: string[] = []
    let cursor: string | null = null
    do {
      const url: string = `/payments?limit=1${cursor ? `&cursor=${cursor}` : ''}`
      const page: PageBody = (await get(url, alice.token)).json<PageBody>()
      expect(page.items.length).toBeLessThanOrEqual(1)
      seen.push(...page.items.map((p) => p.orderId))
      cursor = page.nextCursor
    } while (cursor)
    expect(seen).toEqual([...aliceOrders].reverse())
  })

  it('when an id, an order id or a cursor is malformed, then it is a 400', async () => {
    expect((await get('/payments/not-a-uuid', alice.token)).statusCode).toBe(400)
    expect((await get('/payments?orderId=42', alice.token)).statusCode).toBe(400)
    expect((await get('/payments?cursor=bm9wZQ', alice.token)).statusCode).toBe(400)
    expect((await get('/payments?limit=0', alice.token)).statusCode).toBe(400)
  })

  it('when an id is written urn:uuid:... or a cursor carries what Postgres cannot take, then it is a 400, never a 500', async () => {
    const cursorOf = (key: unknown) => Buffer.from(JSON.stringify(key)).toString('base64url')
    const urls = [
      `/payments/urn:uuid:${randomUUID()}`,
      `/payments?orderId=urn:uuid:${randomUUID()}`,
      `/payments?orderId=${randomUUID()}%00`,
      `/payments?cursor=${cursorOf({ createdAt: '+275760-09-13T00:00:00.000Z', id: randomUUID() })}`,
      `/payments?cursor=${cursorOf({ createdAt: new Date().toISOString(), id: `urn:uuid:${randomUUID()}` })}`,
    ]
    for (const url of urls) {
      const response = await get(url, alice.token)
      expect(response.statusCode, url).toBe(400)
      expect(response.json(), url).toMatchObject({ type: '/problems/invalid-request' })
    }
  })

  it('when no valid token comes, then it is a 401 with a Bearer challenge', async () => {
    for (const url of ['/payments', `/payments/${randomUUID()}`]) {
      const response = await get(url)
      expect(response.statusCode).toBe(401)
      expect(response.headers['www-authenticate']).toBe('Bearer')
    }
    expect((await get('/payments', 'Bearer not.a.token')).statusCode).toBe(401)
  })

  it('when the service runs, then it is ready and documents its routes', async () => {
    const ready = await get('/health/ready')
    expect(ready.statusCode).toBe(200)
    expect(ready.json()).toEqual({ status: 'ready', checks: { database: 'ok', bus: 'ok' } })
    const openapi = (await get('/openapi.json')).json<{ paths: Record<string, unknown> }>()
    expect(Object.keys(openapi.paths)).toEqual(
      expect.arrayContaining(['/payments', '/payments/{id}']),
    )
  })
})
