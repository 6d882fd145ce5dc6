// drills/lib/shop-invariants.ts: the spec's invariants 1-4, checked where the truth is: each
// service's own database, read directly (orders, catalog, payments and its simulated processor),
// beside what the drill's clients were told. A drill prints the table and fails on any violation.
import pg from 'pg'
import type { BackendService } from '../../scripts/shop-layout.ts'
import type { Checkout, Product } from './checkout-workload.ts'

/** InvariantRow is one line of the report: what was checked, over how many, and what broke. */
export interface InvariantRow {
  invariant: string
  checked: number
  violations: string[]
}

export interface ShopExpectations {
  /** checkouts are every order the clients asked for, accepted or not. */
  checkouts: Checkout[]
  /** products are the drill's products with the stock they were created with. */
  products: Product[]
}

interface OrderRow {
  id: string
  status: string
  total_amount: string | number
}

/** pendingOrders counts the orders not yet CONFIRMED, REJECTED or CANCELLED. */
export async function pendingOrders(ordersUrl: string): Promise<number> {
  return withClient(ordersUrl, async (client) => {
    const { rows } = await client.query<{ n: string }>(
      `select count(*) as n from orders where status = 'PENDING'`,
    )
    return Number(rows[0]?.n ?? 0)
  })
}

/** waitUntilSettled polls the orders database until no order is PENDING, or `withinMs` passes. */
export async function waitUntilSettled(ordersUrl: string, withinMs: number): Promise<number> {
  const deadline = performance.now() + withinMs
  for (;;) {
    const pending = await pendingOrders(ordersUrl)
    if (pending === 0 || performance.now() > deadline) return pending
    await new Promise((resolve) => setTimeout(resolve, 500))
  }
}

/**
 * checkShopInvariants reads every service's database and returns one row per invariant:
 * 1. every order is CONFIRMED, REJECTED or CANCELLED, and every accepted checkout has its order;
 * 2. no stock is negative or left reserved, and each product's available stock is its initial
 *    stock less the quantities of CONFIRMED orders;
 * 3. a CONFIRMED order has exactly one succeeded payment of its total, charged once at the
 *    processor and not refunded; a REJECTED or CANCELLED order ends with no net charge;
 * 4. nothing was created twice: one order per Idempotency-Key (replays got the same order), one
 *    payment and one reservation per order, one processor charge per payment.
 */
export async function checkShopInvariants(
  databaseUrls: Record<BackendService, string>,
  expected: ShopExpectations,
): Promise<InvariantRow[]> {
  const orders = await withClient(databaseUrls.orders, async (client) => ({
    rows: (await client.query<OrderRow>('select id, status, total_amount from orders')).rows,
    lines: (
      await client.query<{ order_id: string; product_id: string; quantity: number }>(
        'select order_id, product_id, quantity from order_lines',
      )
    ).rows,
    keys: (
      await client.query<{ key: string; order_id: string }>(
        'select key, order_id from idempotency_keys',
      )
    ).rows,
  }))
  const catalog = await withClient(databaseUrls.catalog, async (client) => ({
    products: (
      await client.query<{ id: string; stock_on_hand: number; stock_reserved: number }>(
        'select id, stock_on_hand, stock_reserved from products',
      )
    ).rows,
    reservations: (
      await client.query<{ order_id: string; status: string }>(
        'select order_id, status from stock_reservations',
      )
    ).rows,
  }))
  const payments = await withClient(databaseUrls.payments, async (client) => ({
    payments: (
      await client.query<{ id: string; order_id: string; status: string; amount: number }>(
        'select id, order_id, status, amount from payments',
      )
    ).rows,
    charges: (
      await client.query<{
        idempotency_key: string
        charge_id: string
        status: string
        amount: number
      }>('select idempotency_key, charge_id, status, amount from simulated_processor_charges')
    ).rows,
    refunds: (
      await client.query<{ charge_id: string; amount: number }>(
        'select charge_id, amount from simulated_processor_refunds',
      )
    ).rows,
  }))

  const byId = new Map(orders.rows.map((order) => [order.id, order]))
  const accepted = expected.checkouts.filter((checkout) => checkout.orderId !== undefined)

  // 1. Every order terminal; every accepted checkout's order exists.
  const terminal: string[] = []
  for (const order of orders.rows) {
    if (!['CONFIRMED', 'REJECTED', 'CANCELLED'].includes(order.status))
      terminal.push(`order ${order.id} is ${order.status}`)
  }
  for (const checkout of accepted) {
    if (!byId.has(checkout.orderId as string))
      terminal.push(`checkout ${checkout.key} got ${checkout.orderId}, which orders does not have`)
  }

  // 2. Stock.
  const stock: string[] = []
  const confirmedQuantity = new Map<string, number>()
  for (const line of orders.lines) {
    if (byId.get(line.order_id)?.status !== 'CONFIRMED') continue
    confirmedQuantity.set(
      line.product_id,
      (confirmedQuantity.get(line.product_id) ?? 0) + line.quantity,
    )
  }
  const productRows = new Map(catalog.products.map((product) => [product.id, product]))
  for (const product of catalog.products) {
    if (product.stock_on_hand < 0 || product.stock_reserved < 0)
      stock.push(`product ${product.id} has negative stock`)
    if (product.stock_reserved !== 0)
      stock.push(`product ${product.id} still has ${product.stock_reserved} reserved`)
  }
  for (const product of expected.products) {
    const row = productRows.get(product.id)
    const available = row ? row.stock_on_hand - row.stock_reserved : undefined
    const want = product.stock - (confirmedQuantity.get(product.id) ?? 0)
    if (available !== want)
      stock.push(
        `${product.sku}: available ${available}, expected ${product.stock} - ${product.stock - want} confirmed = ${want}`,
      )
  }

  // 3. Payments.
  const money: string[] = []
  const paymentsByOrder = groupBy(payments.payments, (payment) => payment.order_id)
  const chargesByKey = groupBy(payments.charges, (charge) => charge.idempotency_key)
  const refundsByCharge = groupBy(payments.refunds, (refund) => refund.charge_id)
  const netCharge = (orderId: string) =>
    (paymentsByOrder.get(orderId) ?? []).reduce((sum, payment) => {
      const charged = (chargesByKey.get(payment.id) ?? []).filter(
        (charge) => charge.status === 'succeeded',
      )
      return (
        sum +
        charged.reduce(
          (total, charge) =>
            total +
            charge.amount -
            (refundsByCharge.get(charge.charge_id) ?? []).reduce(
              (r, refund) => r + refund.amount,
              0,
            ),
          0,
        )
      )
    }, 0)
  for (const order of orders.rows) {
    const orderPayments = paymentsByOrder.get(order.id) ?? []
    const net = netCharge(order.id)
    if (order.status === 'CONFIRMED') {
      const succeeded = orderPayments.filter((payment) => payment.status === 'SUCCEEDED')
      if (succeeded.length !== 1)
        money.push(`CONFIRMED order ${order.id} has ${succeeded.length} succeeded payments`)
      else if (succeeded[0]?.amount !== Number(order.total_amount))
        money.push(
          `CONFIRMED order ${order.id}: paid ${succeeded[0]?.amount}, total ${order.total_amount}`,
        )
      if (net !== Number(order.total_amount))
        money.push(`CONFIRMED order ${order.id}: net charge ${net}, total ${order.total_amount}`)
    } else if (net !== 0) {
      money.push(`${order.status} order ${order.id} ends with a net charge of ${net}`)
    }
  }

  // 4. Nothing twice.
  const twice: string[] = []
  const ordersByKey = groupBy(orders.keys, (key) => key.key)
  for (const checkout of accepted) {
    const stored = ordersByKey.get(checkout.key) ?? []
    if (stored.length !== 1 || stored[0]?.order_id !== checkout.orderId)
      twice.push(
        `key ${checkout.key}: ${stored.length} orders stored, client got ${checkout.orderId}`,
      )
    if (checkout.replay !== undefined && checkout.replay !== 'same order')
      twice.push(`key ${checkout.key}: ${checkout.replay}`)
  }
  // Every order answers one of the clients' keys (a checkout that gave up may still own one).
  const drillKeys = new Set(expected.checkouts.map((checkout) => checkout.key))
  const keyOf = new Map(orders.keys.map((key) => [key.order_id, key.key]))
  for (const order of orders.rows) {
    const key = keyOf.get(order.id)
    if (!key || !drillKeys.has(key)) twice.push(`order ${order.id} answers no key a client sent`)
  }
  for (const [orderId, rows] of paymentsByOrder)
    if (rows.length > 1) twice.push(`order ${orderId} has ${rows.length} payments`)
  for (const [orderId, rows] of groupBy(catalog.reservations, (r) => r.order_id)) {
    if (rows.length > 1) twice.push(`order ${orderId} has ${rows.length} reservations`)
  }
  for (const [key, rows] of chargesByKey)
    if (rows.length > 1) twice.push(`payment ${key} charged ${rows.length} times`)

  const replays = accepted.filter((checkout) => checkout.replay !== undefined).length
  return [
    {
      invariant: '1 every order CONFIRMED, REJECTED or CANCELLED',
      checked: orders.rows.length,
      violations: terminal,
    },
    {
      invariant: '2 stock never negative; available = initial - confirmed',
      checked: expected.products.length,
      violations: stock,
    },
    {
      invariant: '3 CONFIRMED paid once in full; others no net charge',
      checked: orders.rows.length,
      violations: money,
    },
    {
      invariant: `4 nothing created twice (${replays} replays)`,
      checked: accepted.length,
      violations: twice,
    },
  ]
}

/** formatInvariants prints the rows as a table, with the first violations of each under it. */
export function formatInvariants(rows: InvariantRow[]): string {
  const width = Math.max(...rows.map((row) => row.invariant.length))
  const lines = [`${'invariant'.padEnd(width)}  checked  violations`]
  for (const row of rows) {
    lines.push(
      `${row.invariant.padEnd(width)}  ${String(row.checked).padStart(7)}  ${String(row.violations.length).padStart(10)}`,
    )
    for (const violation of row.violations.slice(0, 5)) lines.push(`    ${violation}`)
    if (row.violations.length > 5) lines.push(`    ... and ${row.violations.length - 5} more`)
  }
  return lines.join('\n')
}

function groupBy<T>(items: T[], key: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>()
  for (const item of items) {
    const name = key(item)
    const group = groups.get(name)
    if (group) group.push(item)
    else groups.set(name, [item])
  }
  return groups
}

async function withClient<T>(url: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5_000 })
  await client.connect()
  try {
    return await work(client)
  } finally {
    await client.end()
  }
}
