// checkout-trace.ts: one checkout through the gateway, and what its trace must show, for every
// run mode (checkout-trace.test.ts): a single trace from the client's POST /api/orders through
// the gateway, orders, catalog's reservation, payments' charge and orders' confirmation, with
// each event's create, send and process spans in their services, parented and linked as the
// messaging conventions say; and no secret or personal data in any span attribute.
import { randomBytes, randomUUID } from 'node:crypto'
import { expect } from 'vitest'
import type { RecordedSpan } from '@microshop/platform/testing/recorded-spans'
import { waitFor } from '@microshop/platform/testing/wait-for'
import { shopClient } from '../compose/shop-client.ts'

export interface Checkout {
  orderId: string
  traceId: string
  /** clientSpanId is the span id the client put in its traceparent: the trace's root. */
  clientSpanId: string
  secrets: string[]
}

/** checkOut signs a new shopper up and in, and pays for one product with Visa, in a trace of the test's. */
export async function checkOut(gatewayUrl: string): Promise<Checkout> {
  const { call } = shopClient(gatewayUrl, 15_000)
  const email = `traced-${randomUUID()}@example.com`
  const password = 'trace secret password 42'
  expect(
    (await call('POST', '/api/auth/register', { body: { email, password, name: 'T' } })).status,
  ).toBe(201)
  const login = await call<{ accessToken: string; refreshToken: string }>(
    'POST',
    '/api/auth/login',
    { body: { email, password } },
  )
  expect(login.status).toBe(200)
  const token = login.body.accessToken
  const products = await call<{ items: { id: string; stock: { available: number } }[] }>(
    'GET',
    '/api/products?limit=20',
  )
  const product = products.body.items.find((item) => item.stock.available >= 1)
  expect(product).toBeDefined()
  const traceId = randomBytes(16).toString('hex')
  const clientSpanId = randomBytes(8).toString('hex')
  const placed = await call<{ id: string }>('POST', '/api/orders', {
    token,
    body: { items: [{ productId: product?.id, quantity: 1 }], paymentMethod: 'pm_card_visa' },
    headers: { traceparent: `00-${traceId}-${clientSpanId}-01` },
  })
  expect(placed.status).toBe(202)
  const orderId = placed.body.id
  await waitFor(
    async () =>
      (await call<{ status: string }>('GET', `/api/orders/${orderId}`, { token })).body.status ===
      'CONFIRMED',
    30_000,
  )
  return {
    orderId,
    traceId,
    clientSpanId,
    secrets: [email, password, token, login.body.refreshToken, 'pm_card_visa'],
  }
}

const byName = (spans: RecordedSpan[], name: string) => spans.filter((span) => span.name === name)

/** THE_FLOW is each event of a confirmed checkout: who creates it, who must process it. */
const THE_FLOW = [
  { type: 'orders.order.placed.v1', producer: 'orders', consumer: 'catalog' },
  { type: 'catalog.stock.reserved.v1', producer: 'catalog', consumer: 'orders' },
  { type: 'orders.payment.requested.v1', producer: 'orders', consumer: 'payments' },
  { type: 'payments.payment.succeeded.v1', producer: 'payments', consumer: 'orders' },
  { type: 'orders.order.confirmed.v1', producer: 'orders', consumer: 'catalog' },
] as const

/** checkoutTraceComplete is true once every span the checkout's trace must have has arrived. */
export function checkoutTraceComplete(all: RecordedSpan[], checkout: Checkout): boolean {
  const spans = all.filter((span) => span.traceId === checkout.traceId)
  return THE_FLOW.every(
    ({ type }) =>
      byName(spans, `process ${type}`).length > 0 && byName(spans, `send ${type}`).length > 0,
  )
}

/** expectOneCheckoutTrace checks the trace of `checkout` among `all` the spans recorded. */
export function expectOneCheckoutTrace(
  all: RecordedSpan[],
  checkout: Checkout,
  options: { postgres: boolean },
): void {
  const spans = all.filter((span) => span.traceId === checkout.traceId)
  const ids = new Set(spans.map((span) => span.spanId))

  // One tree: every span's parent is in the trace, but the gateway's, whose parent is the client.
  for (const span of spans) {
    if (span.parentSpanId === checkout.clientSpanId) {
      expect(span, 'the trace enters through the gateway').toMatchObject({
        service: 'gateway',
        kind: 'server',
      })
    } else {
      expect(
        ids.has(span.parentSpanId ?? ''),
        `${span.name} (${span.service}) has its parent`,
      ).toBe(true)
    }
  }
  // (users appears too when a service fetches its signing keys within the request.)
  const services = new Set(spans.map((span) => span.service))
  for (const service of ['gateway', 'orders', 'catalog', 'payments']) {
    expect(services.has(service), `${service} has spans in the trace`).toBe(true)
  }
  const parentOf = (span: RecordedSpan) => spans.find((other) => other.spanId === span.parentSpanId)

  // The gateway calls orders, which answers in a server span of its own.
  const ordersServer = spans.find(
    (span) => span.service === 'orders' && span.kind === 'server' && span.name === 'POST /orders',
  )
  expect(ordersServer).toBeDefined()
  expect(parentOf(ordersServer!)).toMatchObject({ service: 'gateway', kind: 'client' })

  // Each event: created by its producer, sent by its relay, processed by its consumer.
  for (const { type, producer, consumer } of THE_FLOW) {
    const created = byName(spans, `create ${type}`)
    expect(created, `one create span for ${type}`).toHaveLength(1)
    const create = created[0]!
    expect(create).toMatchObject({ kind: 'producer', service: producer })
    for (const send of byName(spans, `send ${type}`)) {
      expect(send).toMatchObject({ kind: 'producer', service: producer })
      expect(send.parentSpanId).toBe(create.spanId)
    }
    const processed = byName(spans, `process ${type}`).filter((span) => span.service === consumer)
    expect(processed.length, `${consumer} processed ${type}`).toBeGreaterThan(0)
    for (const process of processed) {
      expect(process.kind).toBe('consumer')
      expect(process.parentSpanId).toBe(create.spanId)
      expect(process.links).toContainEqual({ traceId: checkout.traceId, spanId: create.spanId })
    }
  }

  // The saga's steps, with what they did, and the events they caused inside them.
  const reserved = spans.find((span) => span.name === 'saga stock_reserved')
  const paid = spans.find((span) => span.name === 'saga payment_succeeded')
  expect(reserved?.attributes).toMatchObject({
    'microshop.order.id': checkout.orderId,
    'microshop.saga.step': 'awaiting_stock',
    'microshop.saga.outcome': 'changed',
  })
  expect(paid?.attributes).toMatchObject({
    'microshop.order.id': checkout.orderId,
    'microshop.saga.step': 'awaiting_payment',
    'microshop.saga.outcome': 'changed',
    'microshop.order.status': 'CONFIRMED',
    'microshop.saga.reason': 'payment_succeeded',
  })
  expect(parentOf(paid!)).toMatchObject({ name: 'process payments.payment.succeeded.v1' })
  expect(parentOf(byName(spans, 'create orders.order.confirmed.v1')[0]!)?.spanId).toBe(paid?.spanId)
  // Postgres statements (node-postgres; PGlite has no instrumentation) are traced inside the work.
  if (options.postgres) {
    expect(spans.some((span) => span.kind === 'client' && String(span.name).startsWith('pg'))).toBe(
      true,
    )
  }
}

/** SECRET_SHAPES are what must never be written in a span or a log line, whatever the values. */
const SECRET_SHAPES = [
  /[\w.+-]+@[\w-]+\.[\w.]+/, // an email
  /eyJ[\w-]{8,}\.[\w-]{8,}/, // a JWT
  /\bpm_card_\w+/, // a payment method token
  /bearer\s+\S+/i,
  /"password"\s*:\s*"(?!\[redacted\])/i,
]

/**
 * IDS are the random ids spans and log lines are full of (UUIDs, trace and span ids): their
 * digits can line up like a card number's by chance, so they are taken out before looking.
 */
const IDS =
  /\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b|\b00-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}\b|"(?:trace_?id|span_?id|parent_?span_?id)"\s*:\s*"[0-9a-f]+"/gi

/** cardNumbers are the runs of 13-19 digits (spaces or dashes between) that pass the Luhn check. */
function cardNumbers(text: string): string[] {
  return [...text.replace(IDS, '<id>').matchAll(/\b(?:\d[ -]?){12,18}\d\b/g)]
    .map((match) => match[0])
    .filter((candidate) => {
      const digits = candidate.replace(/\D/g, '')
      let sum = 0
      for (let i = 0; i < digits.length; i++) {
        let digit = Number(digits[digits.length - 1 - i])
        if (i % 2 === 1) digit = digit * 2 > 9 ? digit * 2 - 9 : digit * 2
        sum += digit
      }
      return sum % 10 === 0
    })
}

/** expectNoSecrets checks that none of `texts` (span attributes, log lines) holds a secret. */
export function expectNoSecrets(texts: string[], secrets: string[]): void {
  for (const text of texts) {
    for (const secret of secrets)
      expect(text.includes(secret), `${text} holds a secret`).toBe(false)
    for (const shape of SECRET_SHAPES) expect(text, `matches ${shape}`).not.toMatch(shape)
    expect(cardNumbers(text), `${text} holds a card number`).toEqual([])
  }
}

/** attributeTexts are every span's attributes as text, for expectNoSecrets. */
export const attributeTexts = (spans: RecordedSpan[]) =>
  spans.map((span) => `${span.name} ${JSON.stringify(span.attributes)}`)
