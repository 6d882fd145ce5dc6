// The drills' invariant checker (drills/lib/shop-invariants.ts) must see what it claims to check:
// over real service databases (their own migrations, on the machine's Postgres) a consistent
// shop passes, and each kind of broken state is reported under its invariant.
import { randomBytes, randomUUID } from 'node:crypto'
import { fileURLToPath } from 'node:url'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openDatabase } from '@microshop/platform/db/database'
import { migrate } from '@microshop/platform/db/migrate'
import { adminUrl } from '@microshop/platform/testing/databases'
import type { Checkout, Product } from '../../drills/lib/checkout-workload.ts'
import { checkShopInvariants, type InvariantRow } from '../../drills/lib/shop-invariants.ts'
import { createServiceDatabases, dropServiceDatabases } from '../../scripts/service-databases.ts'
import type { BackendService } from '../../scripts/shop-layout.ts'

const prefix = `inv_${randomBytes(4).toString('hex')}_`
const migrations = (path: string) =>
  fileURLToPath(new URL(`../../services/${path}`, import.meta.url))
const shopper = { email: 'a@example.com', password: 'x', token: 't' }
let urls: Record<BackendService, string>

async function sql(service: BackendService, text: string, values: unknown[] = []): Promise<void> {
  const client = new pg.Client({ connectionString: urls[service] })
  await client.connect()
  try {
    await client.query(text, values)
  } finally {
    await client.end()
  }
}

/** placeOrder writes an order as the shop would have: its line, its key, and what payments did. */
async function placeOrder(options: {
  product: Product
  quantity: number
  status: 'CONFIRMED' | 'REJECTED' | 'PENDING'
  charged?: number
  refunded?: number
}): Promise<Checkout> {
  const orderId = randomUUID()
  const key = randomUUID()
  const userId = randomUUID()
  const total = options.product.priceMinor * options.quantity
  const pending = options.status === 'PENDING'
  await sql(
    'orders',
    `insert into orders (id, user_id, status, saga_step, step_deadline, total_amount, currency,
       payment_method, status_history, created_at, updated_at)
     values ($1, $2, $3, $4, $5, $6, 'USD', 'pm_card_visa', '[]', now(), now())`,
    [
      orderId,
      userId,
      options.status,
      pending ? 'awaiting_payment' : null,
      pending ? new Date() : null,
      total,
    ],
  )
  await sql(
    'orders',
    `insert into order_lines (order_id, line_no, product_id, sku, name, unit_price_amount, quantity)
     values ($1, 1, $2, $3, 'x', $4, $5)`,
    [
      orderId,
      options.product.id,
      options.product.sku,
      options.product.priceMinor,
      options.quantity,
    ],
  )
  await sql(
    'orders',
    `insert into idempotency_keys (user_id, key, request_hash, order_id, response_status, response_body)
     values ($1, $2, 'h', $3, 202, '{}')`,
    [userId, key, orderId],
  )
  const paymentId = randomUUID()
  const succeeded = options.charged !== undefined
  await sql(
    'payments',
    `insert into payments (id, order_id, user_id, amount, currency, status, failure_reason, created_at, updated_at)
     values ($1, $2, $3, $4, 'USD', $5, $6, now(), now())`,
    [
      paymentId,
      orderId,
      userId,
      total,
      succeeded ? 'SUCCEEDED' : 'FAILED',
      succeeded ? null : 'card_declined',
    ],
  )
  if (succeeded) {
    const chargeId = `ch_${randomBytes(6).toString('hex')}`
    await sql(
      'payments',
      `insert into simulated_processor_charges (idempotency_key, request_hash, charge_id, status, amount, currency)
       values ($1, 'h', $2, 'succeeded', $3, 'USD')`,
      [paymentId, chargeId, options.charged],
    )
    if (options.refunded !== undefined) {
      await sql(
        'payments',
        `insert into simulated_processor_refunds (idempotency_key, refund_id, charge_id, amount, currency)
         values ($1, $2, $3, $4, 'USD')`,
        [`${paymentId}:refund`, `re_${chargeId}`, chargeId, options.refunded],
      )
    }
  }
  return {
    key,
    shopper,
    productId: options.product.id,
    quantity: options.quantity,
    card: 'pm_card_visa',
    scenario: 'paid',
    orderId,
    tries: 1,
  }
}

const violationsOf = (rows: InvariantRow[]) => rows.map((row) => row.violations.length)

describe('checkShopInvariants over the services databases', () => {
  const product: Product = { id: randomUUID(), sku: 'INV-1', priceMinor: 1_000, stock: 12 }
  const checkouts: Checkout[] = []

  beforeAll(async () => {
    urls = await createServiceDatabases({ adminUrl, prefix })
    for (const [service, sources] of [
      ['orders', [{ name: 'orders', directory: migrations('orders/migrations') }]],
      ['catalog', [{ name: 'catalog', directory: migrations('catalog/migrations') }]],
      [
        'payments',
        [
          { name: 'payments', directory: migrations('payments/migrations') },
          {
            name: 'simulated-processor',
            directory: migrations('payments/migrations/simulated-processor'),
          },
        ],
      ],
    ] as const) {
      const database = await openDatabase<unknown>({ url: urls[service], dataDir: 'memory://' })
      try {
        await migrate(database, [...sources])
      } finally {
        await database.close()
      }
    }
    // 12 units to begin with; an order of 2 confirmed, so 10 on hand.
    await sql(
      'catalog',
      `insert into products (id, sku, name, price_amount, stock_on_hand) values ($1, $2, 'x', $3, 10)`,
      [product.id, product.sku, product.priceMinor],
    )
    checkouts.push(await placeOrder({ product, quantity: 2, status: 'CONFIRMED', charged: 2_000 }))
    checkouts.push(await placeOrder({ product, quantity: 1, status: 'REJECTED' }))
    // Charged, then refunded in full: no net charge.
    checkouts.push(
      await placeOrder({
        product,
        quantity: 1,
        status: 'REJECTED',
        charged: 1_000,
        refunded: 1_000,
      }),
    )
  })

  afterAll(async () => {
    await dropServiceDatabases({ adminUrl, prefix })
  })

  it('when the shop is consistent, then every invariant holds', async () => {
    const rows = await checkShopInvariants(urls, { checkouts, products: [product] })
    expect(violationsOf(rows)).toEqual([0, 0, 0, 0])
    expect(rows.map((row) => row.checked)).toEqual([3, 1, 3, 3])
  })

  it('when orders hang, stock drifts, money is off and something is made twice, then each invariant says so', async () => {
    const broken = [...checkouts]
    broken.push(await placeOrder({ product, quantity: 1, status: 'PENDING' }))
    // A confirmed order charged less than its total, and a rejected one left charged.
    broken.push(await placeOrder({ product, quantity: 1, status: 'CONFIRMED', charged: 999 }))
    broken.push(await placeOrder({ product, quantity: 1, status: 'REJECTED', charged: 1_000 }))
    // A replay that got another order, and an order no client asked for.
    broken.push({ ...(checkouts[0] as Checkout), replay: 'replay got another order' })
    await placeOrder({ product, quantity: 1, status: 'REJECTED' })
    const rows = await checkShopInvariants(urls, { checkouts: broken, products: [product] })
    const [terminal, stock, money, twice] = rows as [
      InvariantRow,
      InvariantRow,
      InvariantRow,
      InvariantRow,
    ]
    expect(terminal.violations).toEqual([expect.stringMatching(/is PENDING$/)])
    // 12 - (2 + 1) confirmed = 9 expected; 10 are on hand.
    expect(stock.violations).toEqual([expect.stringMatching(/available 10, expected .* = 9$/)])
    // A CONFIRMED order with a net charge of 999 of its 1000, and a REJECTED one charged 1000.
    expect(money.violations).toHaveLength(2)
    expect(money.violations.join('\n')).toMatch(/CONFIRMED order .*: net charge 999, total 1000/)
    expect(money.violations.join('\n')).toMatch(/REJECTED order .* net charge of 1000/)
    expect(twice.violations.join('\n')).toMatch(/replay got another order/)
    expect(twice.violations.join('\n')).toMatch(/answers no key a client sent/)
  })
})
