import { randomUUID } from 'node:crypto'
import { sql } from 'kysely'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { paymentSucceeded } from '@microshop/contracts/payments-events'
import { productChanged, stockReserved } from '@microshop/contracts/catalog-events'
import { parseAdmissionCapacity } from '@microshop/platform/http/admission-capacity'
import { databaseKinds } from '@microshop/platform/testing/databases'
import {
  startOrdersHarness,
  type Customer,
  type OrderBody,
  type OrdersHarness,
} from '../testing/orders-harness.ts'
import { waitFor } from '@microshop/platform/testing/wait-for'

interface PageBody {
  items: OrderBody[]
  nextCursor: string | null
}
interface ProblemBody {
  type: string
  status: number
  detail: string
  errors?: { pointer: string; detail: string }[]
}

describe.each(databaseKinds)('orders API on %s', (kind) => {
  let harness: OrdersHarness
  let lamp: string
  let chair: string

  beforeAll(async () => {
    harness = await startOrdersHarness(kind, { CUSTOMER_MAX_PENDING_ORDERS: '5' })
    lamp = await harness.addProduct({ sku: 'LAMP-1', amount: 1_999, name: 'Desk lamp' })
    chair = await harness.addProduct({ sku: 'CHAIR-1', amount: 4_500, name: 'Chair' })
  })
  afterAll(async () => {
    await harness.close()
  })

  const place = (customer: Customer, payload: unknown, headers: Record<string, string> = {}) =>
    harness.service.app.inject({
      method: 'POST',
      url: '/orders',
      headers: { authorization: customer.authorization, ...headers },
      payload: payload as Record<string, unknown>,
    })
  const order = (
    items: { productId: string; quantity: number }[] = [{ productId: lamp, quantity: 1 }],
  ) => ({
    items,
    paymentMethod: 'pm_card_visa',
  })
  const placeOk = async (customer: Customer, body = order()) => {
    const response = await place(customer, body)
    expect(response.statusCode).toBe(202)
    return response.json<OrderBody>()
  }
  const get = (customer: Customer, url: string) =>
    harness.service.app.inject({ url, headers: { authorization: customer.authorization } })
  const cancel = (customer: Customer, id: string) =>
    harness.service.app.inject({
      method: 'POST',
      url: `/orders/${id}/cancel`,
      headers: { authorization: customer.authorization },
    })
  const countOrders = async (userId: string) => {
    const { rows } = await sql<{ count: number }>`
      select count(*)::int as count from orders where user_id = ${userId}`.execute(
      harness.service.database.db,
    )
    return rows[0]?.count ?? 0
  }

  const expectProblem = async (
    response: Awaited<ReturnType<typeof place>>,
    status: number,
    pointers: string[],
  ) => {
    expect(response.statusCode).toBe(status)
    expect(response.headers['content-type']).toContain('application/problem+json')
    const body = response.json<ProblemBody>()
    expect(body.status).toBe(status)
    expect((body.errors ?? []).map((error) => error.pointer).sort()).toEqual([...pointers].sort())
    return body
  }

  describe('placing an order', () => {
    it('when a customer orders known products, then it is PENDING at the read model prices, with a Location to follow', async () => {
      const customer = await harness.signIn()
      const response = await place(
        customer,
        order([
          { productId: lamp, quantity: 2 },
          { productId: chair, quantity: 1 },
        ]),
      )
      expect(response.statusCode).toBe(202)
      const placed = response.json<OrderBody>()
      expect(response.headers.location).toBe(`/api/orders/${placed.id}`)
      expect(placed).toMatchObject({
        userId: customer.userId,
        status: 'PENDING',
        paymentId: null,
        total: { amount: 2 * 1_999 + 4_500, currency: 'USD' },
        items: [
          {
            productId: lamp,
            sku: 'LAMP-1',
            name: 'Desk lamp',
            unitPrice: { amount: 1_999, currency: 'USD' },
            quantity: 2,
            lineTotal: { amount: 3_998, currency: 'USD' },
          },
          { productId: chair, sku: 'CHAIR-1', quantity: 1, lineTotal: { amount: 4_500 } },
        ],
        statusHistory: [{ status: 'PENDING', reason: 'placed' }],
      })
      const read = await get(customer, `/orders/${placed.id}`)
      expect(read.statusCode).toBe(200)
      expect(read.json()).toEqual(placed)
    })

    it('when an order is placed, then orders.order.placed.v1 goes out with its lines and total', async () => {
      const customer = await harness.signIn()
      const placed = await placeOk(customer, order([{ productId: chair, quantity: 3 }]))
      await waitFor(() => harness.emittedFor(placed.id).length > 0)
      const [event] = harness.emittedFor(placed.id)
      expect(event).toMatchObject({
        type: 'orders.order.placed.v1',
        source: '/orders',
        subject: placed.id,
        data: {
          orderId: placed.id,
          userId: customer.userId,
          lines: [{ productId: chair, quantity: 3 }],
          total: { amount: 13_500, currency: 'USD' },
          placedAt: placed.createdAt,
        },
      })
      expect(event?.traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-0[01]$/)
    })

    it('when the request carries a traceparent, then the placed event continues that trace', async () => {
      const customer = await harness.signIn()
      const traceId = 'abcdef0123456789abcdef0123456789'
      const response = await place(customer, order(), {
        traceparent: `00-${traceId}-0123456789abcdef-01`,
      })
      const placed = response.json<OrderBody>()
      await waitFor(() => harness.emittedFor(placed.id).length > 0)
      expect(harness.emittedFor(placed.id)[0]?.traceparent).toContain(traceId)
    })

    it('when the catalogue changes a price, then new orders get the new price and placed ones keep theirs', async () => {
      const customer = await harness.signIn()
      const mug = await harness.addProduct({ sku: 'MUG-1', amount: 800 })
      const before = await placeOk(customer, order([{ productId: mug, quantity: 1 }]))
      await harness.publish(productChanged, {
        productId: mug,
        sku: 'MUG-1',
        name: 'Mug',
        price: { amount: 950, currency: 'USD' },
        available: 10,
        version: 2,
      })
      await waitFor(async () => {
        const row = await harness.service.database.db
          .selectFrom('catalogProducts')
          .select('version')
          .where('id', '=', mug)
          .executeTakeFirst()
        return row?.version === 2
      })
      const after = await placeOk(customer, order([{ productId: mug, quantity: 1 }]))
      expect(after.total.amount).toBe(950)
      const again = await get(customer, `/orders/${before.id}`)
      expect(again.json<OrderBody>().total.amount).toBe(800)
    })
  })

  describe('refusing bad orders', () => {
    it.each([
      ['no items', { items: [], paymentMethod: 'pm_card_visa' }, ['/body/items']],
      ['a zero quantity', 'quantity:0', ['/body/items/0/quantity']],
      ['a quantity over 100', 'quantity:101', ['/body/items/0/quantity']],
      ['a fractional quantity', 'quantity:1.5', ['/body/items/0/quantity']],
      ['a product id that is not a UUID', 'productId:lamp', ['/body/items/0/productId']],
      ['no payment method', { items: [] }, ['/body/items', '/body/paymentMethod']],
      ['an unknown field', 'extra', ['/body']],
    ] as const)(
      'when the body has %s, then a 400 points at it',
      async (_name, variant, pointers) => {
        const customer = await harness.signIn()
        const line: Record<string, unknown> = { productId: lamp, quantity: 1 }
        let body: unknown = variant
        if (typeof variant === 'string') {
          const [field, value] = variant.split(':')
          if (field === 'extra') body = { ...order(), coupon: 'FREE' }
          else {
            line[field as string] = field === 'quantity' ? Number(value) : value
            body = { items: [line], paymentMethod: 'pm_card_visa' }
          }
        }
        await expectProblem(await place(customer, body), 400, [...pointers])
        expect(await countOrders(customer.userId)).toBe(0)
      },
    )

    it.each([
      ['a quantity of true', true],
      ['a quantity of [5]', [5]],
      ['a quantity of "5"', '5'],
      ['a quantity of null', null],
    ] as const)(
      'when the body has %s, then it is a 400: JSON types are kept',
      async (_name, quantity) => {
        const customer = await harness.signIn()
        const body = { items: [{ productId: lamp, quantity }], paymentMethod: 'pm_card_visa' }
        await expectProblem(await place(customer, body), 400, ['/body/items/0/quantity'])
        expect(await countOrders(customer.userId)).toBe(0)
      },
    )

    it('when a product id is written urn:uuid:..., or the payment method holds a NUL, then it is a 400', async () => {
      const customer = await harness.signIn()
      const urn = {
        items: [{ productId: `urn:uuid:${lamp}`, quantity: 1 }],
        paymentMethod: 'pm_card_visa',
      }
      await expectProblem(await place(customer, urn), 400, ['/body/items/0/productId'])
      const nul = { ...order(), paymentMethod: 'pm_card_visa\u0000' }
      await expectProblem(await place(customer, nul), 400, ['/body/paymentMethod'])
      expect(await countOrders(customer.userId)).toBe(0)
    })

    it('when there are more than 50 lines, then it is a 400', async () => {
      const customer = await harness.signIn()
      const items = Array.from({ length: 51 }, () => ({ productId: randomUUID(), quantity: 1 }))
      await expectProblem(await place(customer, order(items)), 400, ['/body/items'])
    })

    it('when a product is on two lines, then a 400 points at the repeated line', async () => {
      const customer = await harness.signIn()
      const response = await place(
        customer,
        order([
          { productId: lamp, quantity: 1 },
          { productId: lamp, quantity: 2 },
        ]),
      )
      await expectProblem(response, 400, ['/body/items/1/productId'])
    })

    it('when a product is new to the read model and the catalog does not answer, then a 503 and no order', async () => {
      const customer = await harness.signIn()
      const response = await place(
        customer,
        order([
          { productId: lamp, quantity: 1 },
          { productId: randomUUID(), quantity: 1 },
        ]),
      )
      expect(response.statusCode).toBe(503)
      expect(response.json<ProblemBody>().detail).toContain('catalogue')
      expect(await countOrders(customer.userId)).toBe(0)
    })

    it('when the payment method is a card number, then a 400 says so and it is stored nowhere', async () => {
      const customer = await harness.signIn()
      const pan = '4242 4242 4242 4242'
      const response = await place(
        customer,
        { ...order(), paymentMethod: pan },
        { 'idempotency-key': 'card-number-attempt' },
      )
      const problem = await expectProblem(response, 400, ['/body/paymentMethod'])
      expect(problem.errors?.[0]?.detail).toContain('card number')
      // The number itself, with or without its spaces: random ids and times written by other
      // tests may contain "4242", but not a whole card number.
      const digits = pan.replaceAll(' ', '')
      expect(response.body).not.toContain(digits)
      expect(response.body).not.toContain(pan)
      const { rows } = await sql<{ found: boolean }>`
        select exists (select 1 from orders
                       where payment_method like ${`%${digits}%`} or payment_method like ${`%${pan}%`})
            or exists (select 1 from idempotency_keys
                       where response_body::text like ${`%${digits}%`}
                          or response_body::text like ${`%${pan}%`})
            or exists (select 1 from outbox
                       where envelope::text like ${`%${digits}%`} or envelope::text like ${`%${pan}%`})
            as found`.execute(harness.service.database.db)
      expect(rows[0]?.found).toBe(false)
      expect(await countOrders(customer.userId)).toBe(0)
    })

    it('when there is no access token, then it is a 401 with a Bearer challenge', async () => {
      const response = await harness.service.app.inject({
        method: 'POST',
        url: '/orders',
        payload: order(),
      })
      expect(response.statusCode).toBe(401)
      expect(response.headers['www-authenticate']).toBe('Bearer')
    })
  })

  describe('what one customer may hold in PENDING orders', () => {
    it('when a customer has 5 PENDING orders, then a sixth is a 429 until one of them settles', async () => {
      const customer = await harness.signIn()
      const placed = []
      for (let n = 0; n < 5; n++) placed.push(await placeOk(customer))
      const refused = await place(customer, order())
      expect(refused.statusCode).toBe(429)
      expect(refused.headers['retry-after']).toBe('5')
      expect(refused.json<ProblemBody>().type).toBe('/problems/too-many-requests')
      expect(await countOrders(customer.userId)).toBe(5)
      // Another customer is not held back by this one.
      await placeOk(await harness.signIn())
      expect((await cancel(customer, placed[0]!.id)).statusCode).toBe(200)
      await placeOk(customer)
    })

    it('when one customer places many orders at once, then no more than 5 get through', async () => {
      const customer = await harness.signIn()
      const answers = await Promise.all(Array.from({ length: 8 }, () => place(customer, order())))
      const statuses = answers.map((answer) => answer.statusCode).sort()
      expect(statuses).toEqual([202, 202, 202, 202, 202, 429, 429, 429])
      expect(await countOrders(customer.userId)).toBe(5)
    })

    it('when one customer places many orders at once, each with its own key, then no more than 5 get through', async () => {
      const customer = await harness.signIn()
      const answers = await Promise.all(
        Array.from({ length: 8 }, () =>
          place(customer, order(), { 'idempotency-key': randomUUID() }),
        ),
      )
      const statuses = answers.map((answer) => answer.statusCode).sort()
      expect(statuses).toEqual([202, 202, 202, 202, 202, 429, 429, 429])
      expect(await countOrders(customer.userId)).toBe(5)
    })

    it('when PENDING orders would hold more than 25 of one product, then a 409 points at the line', async () => {
      const customer = await harness.signIn()
      await placeOk(customer, order([{ productId: lamp, quantity: 20 }]))
      const refused = await place(
        customer,
        order([
          { productId: chair, quantity: 6 },
          { productId: lamp, quantity: 6 },
        ]),
      )
      await expectProblem(refused, 409, ['/body/items/1/quantity'])
      expect(refused.headers['retry-after']).toBe('5')
      await placeOk(customer, order([{ productId: lamp, quantity: 5 }]))
      await placeOk(customer, order([{ productId: chair, quantity: 25 }]))
      expect(await countOrders(customer.userId)).toBe(3)
    })

    it('when the order that reached the limit is replayed with its key, then it is the same order, not a 429', async () => {
      const customer = await harness.signIn()
      for (let n = 0; n < 4; n++) await placeOk(customer)
      const headers = { 'idempotency-key': randomUUID() }
      const fifth = await place(customer, order(), headers)
      expect(fifth.statusCode).toBe(202)
      const replay = await place(customer, order(), headers)
      expect(replay.statusCode).toBe(202)
      expect(replay.json<OrderBody>().id).toBe(fifth.json<OrderBody>().id)
      expect((await place(customer, order(), { 'idempotency-key': randomUUID() })).statusCode).toBe(
        429,
      )
    })
  })

  describe('idempotency keys', () => {
    it('when the same key comes with the same body, then the same order comes back and only one exists', async () => {
      const customer = await harness.signIn()
      const headers = { 'idempotency-key': `key-${randomUUID()}` }
      const first = await place(customer, order(), headers)
      const second = await place(customer, order(), headers)
      expect(first.statusCode).toBe(202)
      expect(second.statusCode).toBe(202)
      expect(second.json()).toEqual(first.json())
      expect(second.headers.location).toBe(first.headers.location)
      expect(second.headers['idempotent-replayed']).toBe('true')
      expect(first.headers['idempotent-replayed']).toBeUndefined()
      expect(await countOrders(customer.userId)).toBe(1)
    })

    it('when the order moved on meanwhile, then the replay is still the first response', async () => {
      const customer = await harness.signIn()
      const headers = { 'idempotency-key': `key-${randomUUID()}` }
      const first = (await place(customer, order(), headers)).json<OrderBody>()
      expect((await cancel(customer, first.id)).statusCode).toBe(200)
      const replay = await place(customer, order(), headers)
      expect(replay.json<OrderBody>()).toMatchObject({ id: first.id, status: 'PENDING' })
    })

    it('when the same key comes with another body, then it is a 422 and nothing is made', async () => {
      const customer = await harness.signIn()
      const headers = { 'idempotency-key': `key-${randomUUID()}` }
      expect((await place(customer, order(), headers)).statusCode).toBe(202)
      const other = await place(customer, order([{ productId: chair, quantity: 1 }]), headers)
      expect(other.statusCode).toBe(422)
      expect(other.json<ProblemBody>().errors?.[0]?.pointer).toBe('/header/idempotency-key')
      expect(await countOrders(customer.userId)).toBe(1)
    })

    it('when requests with one key race, then one order is made and each gets it or a 409', async () => {
      const customer = await harness.signIn()
      const headers = { 'idempotency-key': `key-${randomUUID()}` }
      const responses = await Promise.all(
        Array.from({ length: 8 }, () => place(customer, order(), headers)),
      )
      const placed = responses.filter((response) => response.statusCode === 202)
      const inFlight = responses.filter((response) => response.statusCode === 409)
      expect(placed.length + inFlight.length).toBe(responses.length)
      expect(placed.length).toBeGreaterThan(0)
      expect(new Set(placed.map((response) => response.json<OrderBody>().id)).size).toBe(1)
      for (const response of inFlight) expect(response.headers['retry-after']).toBe('1')
      expect(await countOrders(customer.userId)).toBe(1)
    })

    it('when two customers use the same key, then each gets an order of their own', async () => {
      const [ann, bob] = [await harness.signIn(), await harness.signIn()]
      const headers = { 'idempotency-key': 'cart-42' }
      const annOrder = (await place(ann, order(), headers)).json<OrderBody>()
      const bobOrder = (await place(bob, order(), headers)).json<OrderBody>()
      expect(annOrder.id).not.toBe(bobOrder.id)
      expect(bobOrder.userId).toBe(bob.userId)
    })

    it.each([
      ['empty', ''],
      ['too long', 'k'.repeat(256)],
      ['not printable', 'tab\there'],
    ])('when the key is %s, then it is a 400', async (_name, key) => {
      const customer = await harness.signIn()
      const response = await place(customer, order(), { 'idempotency-key': key })
      expect(response.statusCode).toBe(400)
      expect(await countOrders(customer.userId)).toBe(0)
    })
  })

  describe('order history', () => {
    it('when a customer lists orders, then they come newest first, by page, filtered by status', async () => {
      const customer = await harness.signIn()
      const ids: string[] = []
      for (let i = 0; i < 3; i++) {
        ids.push((await placeOk(customer)).id)
        harness.advanceClock(1_000)
      }
      expect((await cancel(customer, ids[1] as string)).statusCode).toBe(200)

      const first = await get(customer, '/orders?limit=2')
      expect(first.statusCode).toBe(200)
      const page1 = first.json<PageBody>()
      expect(page1.items.map((o) => o.id)).toEqual([ids[2], ids[1]])
      expect(page1.nextCursor).toEqual(expect.any(String))
      const page2 = (
        await get(customer, `/orders?limit=2&cursor=${page1.nextCursor}`)
      ).json<PageBody>()
      expect(page2.items.map((o) => o.id)).toEqual([ids[0]])
      expect(page2.nextCursor).toBeNull()
      expect(page1.items[0]?.items).toHaveLength(1)

      const cancelled = (await get(customer, '/orders?status=CANCELLED')).json<PageBody>()
      expect(cancelled.items.map((o) => o.id)).toEqual([ids[1]])
      const pending = (await get(customer, '/orders?status=PENDING')).json<PageBody>()
      expect(pending.items.map((o) => o.id)).toEqual([ids[2], ids[0]])
    })

    it('when the cursor or status is not one of ours, then it is a 400', async () => {
      const customer = await harness.signIn()
      expect((await get(customer, '/orders?cursor=bogus')).statusCode).toBe(400)
      expect((await get(customer, '/orders?status=SHIPPED')).statusCode).toBe(400)
    })

    it('when a cursor carries a time Postgres cannot store or an id that is no UUID, then it is a 400', async () => {
      const customer = await harness.signIn()
      const cursorOf = (key: unknown) => Buffer.from(JSON.stringify(key)).toString('base64url')
      for (const createdAt of ['+275760-09-13T00:00:00.000Z', '-000001-01-01T00:00:00.000Z', 'x']) {
        const cursor = cursorOf({ createdAt, id: randomUUID() })
        expect((await get(customer, `/orders?cursor=${cursor}`)).statusCode, createdAt).toBe(400)
      }
      const urn = cursorOf({ createdAt: new Date().toISOString(), id: `urn:uuid:${randomUUID()}` })
      expect((await get(customer, `/orders?cursor=${urn}`)).statusCode).toBe(400)
      const nul = cursorOf({ createdAt: new Date().toISOString(), id: `${randomUUID()}\u0000` })
      expect((await get(customer, `/orders?cursor=${nul}`)).statusCode).toBe(400)
    })
  })

  describe("other people's orders", () => {
    it('when a customer asks for, or cancels, an order of someone else, then it is a 404 and it is not in their list', async () => {
      const [owner, other] = [await harness.signIn(), await harness.signIn()]
      const placed = await placeOk(owner)
      const read = await get(other, `/orders/${placed.id}`)
      expect(read.statusCode).toBe(404)
      expect(read.json<ProblemBody>().type).toBe('/problems/not-found')
      expect((await cancel(other, placed.id)).statusCode).toBe(404)
      expect((await get(other, '/orders')).json<PageBody>().items).toEqual([])
      expect((await get(owner, `/orders/${placed.id}`)).json<OrderBody>().status).toBe('PENDING')
    })

    it('when an admin lists orders, then everyone’s are there, and the admin may read any', async () => {
      const [ann, bob, admin] = [
        await harness.signIn(),
        await harness.signIn(),
        await harness.signIn('admin'),
      ]
      const annOrder = await placeOk(ann)
      const bobOrder = await placeOk(bob)
      const all = (await get(admin, '/orders?limit=100')).json<PageBody>()
      const ids = all.items.map((o) => o.id)
      expect(ids).toEqual(expect.arrayContaining([annOrder.id, bobOrder.id]))
      expect(new Set(all.items.map((o) => o.userId)).size).toBeGreaterThan(1)
      expect((await get(admin, `/orders/${annOrder.id}`)).statusCode).toBe(200)
    })

    it('when the order id is not a UUID or no such order exists, then it is a 400 or a 404', async () => {
      const customer = await harness.signIn()
      expect((await get(customer, '/orders/42')).statusCode).toBe(400)
      const urn = await get(customer, `/orders/urn:uuid:${randomUUID()}`)
      expect(urn.statusCode).toBe(400)
      expect(urn.json<{ instance: string }>().instance).toMatch(/^\/api\/orders\/urn:uuid:/)
      expect((await cancel(customer, `urn:uuid:${randomUUID()}`)).statusCode).toBe(400)
      expect((await get(customer, `/orders/${randomUUID()}`)).statusCode).toBe(404)
      expect((await cancel(customer, randomUUID())).statusCode).toBe(404)
    })
  })

  describe('cancelling', () => {
    it('when a customer cancels a PENDING order, then it is CANCELLED and the others are told', async () => {
      const customer = await harness.signIn()
      const placed = await placeOk(customer)
      const response = await cancel(customer, placed.id)
      expect(response.statusCode).toBe(200)
      const cancelled = response.json<OrderBody>()
      expect(cancelled.status).toBe('CANCELLED')
      expect(cancelled.statusHistory.map((entry) => [entry.status, entry.reason])).toEqual([
        ['PENDING', 'placed'],
        ['CANCELLED', 'cancelled_by_customer'],
      ])
      await waitFor(() => harness.emittedFor(placed.id, 'orders.order.cancelled.v1').length > 0)
      expect(harness.emittedFor(placed.id, 'orders.order.cancelled.v1')[0]?.data).toEqual({
        orderId: placed.id,
        userId: customer.userId,
        previousStatus: 'PENDING',
      })
    })

    it('when a CONFIRMED order is cancelled, then the payment to refund is named; cancelling again answers it unchanged', async () => {
      const customer = await harness.signIn()
      const placed = await placeOk(customer)
      const paymentId = randomUUID()
      await harness.publish(stockReserved, {
        orderId: placed.id,
        reservationId: randomUUID(),
        lines: [
          {
            productId: lamp,
            sku: 'LAMP-1',
            name: 'Desk lamp',
            unitPrice: { amount: 1_999, currency: 'USD' },
            quantity: 1,
          },
        ],
        expiresAt: new Date(Date.now() + 900_000).toISOString(),
      })
      await waitFor(() => harness.emittedFor(placed.id, 'orders.payment.requested.v1').length > 0)
      await harness.publish(paymentSucceeded, {
        paymentId,
        orderId: placed.id,
        userId: customer.userId,
        amount: placed.total,
      })
      await waitFor(
        async () =>
          (await get(customer, `/orders/${placed.id}`)).json<OrderBody>().status === 'CONFIRMED',
      )

      const admin = await harness.signIn('admin')
      const response = await cancel(admin, placed.id)
      expect(response.statusCode).toBe(200)
      expect(response.json<OrderBody>()).toMatchObject({ status: 'CANCELLED', paymentId })
      await waitFor(() => harness.emittedFor(placed.id, 'orders.order.cancelled.v1').length > 0)
      expect(harness.emittedFor(placed.id, 'orders.order.cancelled.v1')[0]?.data).toEqual({
        orderId: placed.id,
        userId: customer.userId,
        previousStatus: 'CONFIRMED',
        paymentId,
      })

      // A retry of a cancel whose answer was lost: the same order, its history cancelled once.
      const again = await cancel(customer, placed.id)
      expect(again.statusCode).toBe(200)
      expect(again.json<OrderBody>()).toEqual(response.json<OrderBody>())
    })
  })

  it('when the service is up, then it is ready, with its database and bus', async () => {
    const response = await harness.service.app.inject({ url: '/health/ready' })
    expect(response.statusCode).toBe(200)
    expect(response.json()).toEqual({ status: 'ready', checks: { database: 'ok', bus: 'ok' } })
  })
})

describe.each(databaseKinds)('orders admission on %s', (kind) => {
  let harness: OrdersHarness

  beforeAll(async () => {
    harness = await startOrdersHarness(kind, {
      CHECKOUT_MAX_IN_FLIGHT: '2',
      CHECKOUT_MIN_IN_FLIGHT: '1',
    })
  })
  afterAll(async () => {
    await harness.close()
  })

  it('when the checkouts in flight fill every place, then the next is refused with 503, and each answer tells the room left', async () => {
    const lamp = await harness.addProduct({ sku: 'LAMP-ADMIT', amount: 999 })
    const customer = await harness.signIn()
    const place = () =>
      harness.service.app.inject({
        method: 'POST',
        url: '/orders',
        headers: { authorization: customer.authorization },
        payload: { items: [{ productId: lamp, quantity: 1 }], paymentMethod: 'pm_card_visa' },
      })

    const answers = [await place(), await place(), await place()]
    expect(answers.map((answer) => answer.statusCode)).toEqual([202, 202, 503])
    // As each left: one place free, then none (nothing has settled yet); none being placed.
    const rooms = answers.map((answer) =>
      parseAdmissionCapacity(answer.headers['admission-capacity'] as string),
    )
    expect(rooms.map((room) => [room?.free, room?.placing, room?.settlingPerSecond])).toEqual([
      [1, 0, 0],
      [0, 0, 0],
      [0, 0, 0],
    ])
    expect(new Set(rooms.map((room) => room?.replica)).size).toBe(1)
    const refused = answers[2]
    expect(refused?.headers['retry-after']).toBe('1')
    expect(refused?.json<ProblemBody>().detail).toContain('as many orders as it can settle')
    const { rows } = await sql<{ count: number }>`
      select count(*)::int as count from orders where user_id = ${customer.userId}`.execute(
      harness.service.database.db,
    )
    expect(rows[0]?.count).toBe(2)
  })
})
