// drills/lib/fault-checks.ts: what must be true once a fault is over, beyond the spec's
// invariants on orders, stock and money (shop-invariants.ts): the event backbone is drained
// (nothing left in any outbox, no JetStream consumer with messages pending or unacknowledged),
// nothing was parked (no dead letter in any database, on the dead-letter stream or through each
// service's admin API), and what the API says agrees with the databases.
import { connect } from '@nats-io/transport-node'
import { jetstreamManager } from '@nats-io/jetstream'
import pg from 'pg'
import type { BackendService } from '../../scripts/shop-layout.ts'
import type { Gateways, Product } from './checkout-workload.ts'
import type { FaultCheckout } from './fault-workload.ts'
import type { InvariantRow } from './shop-invariants.ts'

/** EVENT_SERVICES are the services with an outbox, an inbox and dead letters. */
export const EVENT_SERVICES = ['catalog', 'orders', 'payments'] as const

/** Backlog is what the event backbone still holds: outbox rows and consumer messages, by name. */
export interface Backlog {
  outbox: Record<string, number>
  /** consumers maps `stream/consumer` to its pending + unacknowledged messages, when not zero. */
  consumers: Record<string, number>
  pendingOrders: number
  /** published is how many messages the shop's streams ever took (their last sequences, summed). */
  published: number
}

export const isDrained = (backlog: Backlog) =>
  backlog.pendingOrders === 0 &&
  Object.values(backlog.outbox).every((n) => n === 0) &&
  Object.keys(backlog.consumers).length === 0

/** readBacklog counts PENDING orders, outbox rows and JetStream consumers' pending messages. */
export async function readBacklog(
  databaseUrls: Record<BackendService, string>,
  natsUrl: string,
  namespace: string,
): Promise<Backlog> {
  const outbox: Record<string, number> = {}
  for (const service of EVENT_SERVICES) {
    outbox[service] = await count(databaseUrls[service], 'select count(*) as n from outbox')
  }
  const pendingOrders = await count(
    databaseUrls.orders,
    `select count(*) as n from orders where status = 'PENDING'`,
  )
  return { outbox, pendingOrders, ...(await streamBacklog(natsUrl, namespace)) }
}

async function streamBacklog(natsUrl: string, namespace: string) {
  const consumers: Record<string, number> = {}
  let published = 0
  const nc = await connect({ servers: natsUrl, timeout: 5_000 })
  try {
    const jsm = await jetstreamManager(nc)
    // Without a namespace the shop's streams are the server's own: every one counts.
    const prefix = namespace ? `${namespace.toUpperCase()}_` : ''
    for await (const stream of jsm.streams.list()) {
      const name = stream.config.name
      if (!name.startsWith(prefix)) continue
      published += stream.state.last_seq
      for await (const consumer of jsm.consumers.list(name)) {
        const n = consumer.num_pending + consumer.num_ack_pending
        if (n > 0) consumers[`${name}/${consumer.name}`] = n
      }
    }
  } finally {
    await nc.close()
  }
  return { consumers, published }
}

/** QUIET_MS is how long the backlog must stay empty, with nothing published, to count as drained. */
const QUIET_MS = 1_000

/**
 * waitUntilDrained polls the backlog until it is empty or `withinMs` passes, and returns the
 * last backlog read and when (performance.now()) it was first found empty. One empty read is not
 * enough: its counts are read one after the other, and an event can move from a part not yet
 * read to one already read (an order confirmed after the outboxes were counted, its event still
 * in the relay's hands when the consumers are). So the backlog must be found empty again QUIET_MS
 * later with no message published in between.
 */
export async function waitUntilDrained(
  read: () => Promise<Backlog>,
  withinMs: number,
): Promise<{ backlog: Backlog; drainedAt: number | undefined }> {
  const deadline = performance.now() + withinMs
  let empty: { at: number; published: number } | undefined
  for (;;) {
    const at = performance.now()
    const backlog = await read().catch((error: unknown): Backlog => ({
      outbox: { unreadable: 1 },
      consumers: { [String(error)]: 1 },
      pendingOrders: -1,
      published: -1,
    }))
    if (!isDrained(backlog)) empty = undefined
    else if (empty?.published !== backlog.published) empty = { at, published: backlog.published }
    else if (at - empty.at >= QUIET_MS) return { backlog, drainedAt: empty.at }
    if (performance.now() > deadline) return { backlog, drainedAt: undefined }
    await new Promise((resolve) => setTimeout(resolve, 200))
  }
}

/** backlogRows are the report's rows for an outbox and consumers that must be empty. */
export function backlogRows(backlog: Backlog): InvariantRow[] {
  return [
    {
      invariant: 'nothing left in any outbox',
      checked: EVENT_SERVICES.length,
      violations: Object.entries(backlog.outbox)
        .filter(([, n]) => n !== 0)
        .map(([service, n]) => `${service}: ${n} events not published`),
    },
    {
      invariant: 'no JetStream consumer with messages pending',
      checked: 1,
      violations: Object.entries(backlog.consumers).map(
        ([consumer, n]) => `${consumer}: ${n} pending or unacknowledged`,
      ),
    },
  ]
}

/**
 * deadLetterRow looks for dead letters where an operator would: each service's table and admin
 * API (`GET /admin/dead-letters` on the service itself), and the namespace's dead-letter stream.
 * `reported` holds what earlier drills found: each drill answers for its own.
 */
export async function deadLetterRow(
  databaseUrls: Record<BackendService, string>,
  serviceUrls: Record<string, string>,
  adminToken: string,
  natsUrl: string,
  namespace: string,
  reported: { database: Set<string>; api: number; stream: number },
): Promise<InvariantRow> {
  const violations: string[] = []
  let listed = 0
  for (const service of EVENT_SERVICES) {
    const rows = await withClient(databaseUrls[service], async (client) => {
      const { rows } = await client.query<{
        id: string
        consumer: string
        event_id: string
        event_type: string
        reason: string
        attempts: number
      }>(
        'select id, consumer, event_id, event_type, reason, attempts from dead_letters order by id',
      )
      return rows
    })
    for (const row of rows) {
      const key = `${service}/${row.id}`
      if (reported.database.has(key)) continue
      reported.database.add(key)
      violations.push(
        `${service} database: ${row.consumer} parked ${row.event_type} ${row.event_id} (${row.attempts} deliveries): ${row.reason}`,
      )
    }
    const response = await fetch(`${serviceUrls[service]}/admin/dead-letters`, {
      headers: { authorization: `Bearer ${adminToken}` },
      signal: AbortSignal.timeout(10_000),
    })
    const body = (await response.json()) as { items?: unknown[] }
    if (response.status !== 200)
      violations.push(`${service} API: GET /admin/dead-letters ${response.status}`)
    listed += body.items?.length ?? 0
  }
  if (listed > reported.api) violations.push(`admin APIs: ${listed - reported.api} more listed`)
  reported.api = listed
  const nc = await connect({ servers: natsUrl, timeout: 5_000 })
  try {
    const jsm = await jetstreamManager(nc)
    const stream = `${namespace.toUpperCase()}_DEADLETTER`
    const messages = await jsm.streams
      .info(stream)
      .then((info) => info.state.messages)
      .catch(() => 0)
    if (messages > reported.stream)
      violations.push(`${stream}: ${messages - reported.stream} more messages`)
    reported.stream = messages
  } finally {
    await nc.close()
  }
  return { invariant: 'no dead letter (databases, admin APIs, stream)', checked: 3, violations }
}

/**
 * apiRows read through the gateway what the databases say: each order's status as its owner
 * sees it, a CONFIRMED order's payment, each product's available stock, and that another shopper
 * sees neither the order nor its payment (invariant 5).
 */
export async function apiRows(
  gateways: Gateways,
  ordersUrl: string,
  catalogUrl: string,
  checkouts: FaultCheckout[],
  products: Product[],
): Promise<InvariantRow[]> {
  const accepted = checkouts.filter((checkout) => checkout.orderId)
  const statuses = await withClient(ordersUrl, async (client) => {
    const { rows } = await client.query<{ id: string; status: string; total_amount: string }>(
      'select id, status, total_amount from orders where id = any($1)',
      [accepted.map((checkout) => checkout.orderId)],
    )
    return new Map(rows.map((row) => [row.id, row]))
  })
  const agree: string[] = []
  const isolation: string[] = []
  const others = [...new Set(checkouts.map((checkout) => checkout.shopper))]
  for (const [position, checkout] of accepted.entries()) {
    const row = statuses.get(checkout.orderId as string)
    const token = checkout.shopper.token
    const order = await gateways.request('GET', `/api/orders/${checkout.orderId}`, { token })
    const status = (order.body as { status?: string } | undefined)?.status
    if (order.status !== 200 || status !== row?.status)
      agree.push(
        `order ${checkout.orderId}: API ${order.status} ${status}, database ${row?.status}`,
      )
    if (row?.status === 'CONFIRMED') {
      const payments = await gateways.request('GET', `/api/payments?orderId=${checkout.orderId}`, {
        token,
      })
      const items = (payments.body as { items?: { status: string; amount: { amount: number } }[] })
        .items
      const paid = items?.filter((payment) => payment.status === 'SUCCEEDED') ?? []
      if (paid.length !== 1 || paid[0]?.amount.amount !== Number(row.total_amount))
        agree.push(`order ${checkout.orderId}: API payments ${JSON.stringify(items)}`)
    }
    // Another shopper, every 10th order: a 404 for the order, nothing in their payments.
    const other = others[(others.indexOf(checkout.shopper) + 1) % others.length]
    if (position % 10 === 0 && other && other !== checkout.shopper) {
      const theirs = await gateways.request('GET', `/api/orders/${checkout.orderId}`, {
        token: other.token,
      })
      if (theirs.status !== 404)
        isolation.push(`another shopper read order ${checkout.orderId}: ${theirs.status}`)
      const cancel = await gateways.request('POST', `/api/orders/${checkout.orderId}/cancel`, {
        token: other.token,
        body: {},
      })
      if (cancel.status !== 404)
        isolation.push(`another shopper cancelled order ${checkout.orderId}: ${cancel.status}`)
      const payments = await gateways.request('GET', `/api/payments?orderId=${checkout.orderId}`, {
        token: other.token,
      })
      const items = (payments.body as { items?: unknown[] } | undefined)?.items
      if (payments.status !== 200 || (items?.length ?? 0) > 0)
        isolation.push(`another shopper listed order ${checkout.orderId}'s payments`)
    }
  }
  const stock = await withClient(catalogUrl, async (client) => {
    const { rows } = await client.query<{ id: string; available: number }>(
      'select id, stock_on_hand - stock_reserved as available from products where id = any($1)',
      [products.map((product) => product.id)],
    )
    return new Map(rows.map((row) => [row.id, row.available]))
  })
  for (const product of products) {
    const read = await gateways.request('GET', `/api/products/${product.id}`)
    const available = (read.body as { stock?: { available: number } } | undefined)?.stock?.available
    if (read.status !== 200 || available !== stock.get(product.id))
      agree.push(
        `${product.sku}: API ${read.status} ${available}, database ${stock.get(product.id)}`,
      )
  }
  return [
    {
      invariant: 'the API agrees with the databases (orders, payments, stock)',
      checked: accepted.length + products.length,
      violations: agree,
    },
    {
      invariant: "5 no shopper reads or cancels another's order or payments",
      checked: Math.ceil(accepted.length / 10),
      violations: isolation,
    },
  ]
}

/** clientRows judge what the shoppers were told: cancels, replays with another body, give-ups. */
export async function clientRows(
  ordersUrl: string,
  checkouts: FaultCheckout[],
): Promise<InvariantRow[]> {
  const statuses = await withClient(ordersUrl, async (client) => {
    const { rows } = await client.query<{ id: string; status: string }>(
      'select id, status from orders where id = any($1)',
      [checkouts.flatMap((checkout) => (checkout.orderId ? [checkout.orderId] : []))],
    )
    return new Map(rows.map((row) => [row.id, row.status]))
  })
  const accepted: string[] = []
  const cancels: string[] = []
  const otherBody: string[] = []
  for (const checkout of checkouts) {
    if (!checkout.orderId)
      accepted.push(
        `checkout ${checkout.key} gave up after ${checkout.tries} tries: ${checkout.failure}`,
      )
    for (const problem of checkout.problems) accepted.push(`checkout ${checkout.key}: ${problem}`)
    const final = checkout.orderId ? statuses.get(checkout.orderId) : undefined
    if (checkout.path === 'cancel-pending' && checkout.orderId) {
      if (checkout.cancelStatus === 200 && final !== 'CANCELLED')
        cancels.push(`order ${checkout.orderId}: cancel 200, ends ${final}`)
      else if (checkout.cancelStatus === 409 && final !== 'REJECTED')
        cancels.push(`order ${checkout.orderId}: cancel 409, ends ${final}`)
      else if (checkout.cancelStatus !== 200 && checkout.cancelStatus !== 409)
        cancels.push(`order ${checkout.orderId}: cancel answered ${checkout.cancelStatus}`)
    }
    if (checkout.path === 'cancel-confirmed' && checkout.orderId) {
      // An order can be REJECTED first (a saga step past its deadline during a long cut-off):
      // then there is nothing to cancel. One the client never saw settle is a violation.
      if (checkout.seenStatus === 'REJECTED') {
        if (final !== 'REJECTED')
          cancels.push(`order ${checkout.orderId}: seen REJECTED, ends ${final}`)
      } else if (checkout.seenStatus !== 'CONFIRMED')
        cancels.push(`order ${checkout.orderId}: seen ${checkout.seenStatus}, never settled`)
      else if (checkout.cancelStatus !== 200 || final !== 'CANCELLED')
        cancels.push(
          `order ${checkout.orderId}: CONFIRMED, cancel ${checkout.cancelStatus}, ends ${final}`,
        )
    }
    if (checkout.path === 'other-body' && checkout.orderId && checkout.otherBody !== 422)
      otherBody.push(`key ${checkout.key}: another body got ${checkout.otherBody}, not 422`)
  }
  const count = (path: string) =>
    checkouts.filter((checkout) => checkout.path === path && checkout.orderId).length
  return [
    {
      invariant: 'every checkout accepted (202) and read',
      checked: checkouts.length,
      violations: accepted,
    },
    {
      invariant: 'a cancel ends CANCELLED (409: already REJECTED)',
      checked: count('cancel-pending') + count('cancel-confirmed'),
      violations: cancels,
    },
    {
      invariant: '4 the same key with another body is a 422',
      checked: count('other-body'),
      violations: otherBody,
    },
  ]
}

async function count(url: string, sql: string): Promise<number> {
  return withClient(url, async (client) => {
    const { rows } = await client.query<{ n: string }>(sql)
    return Number(rows[0]?.n ?? 0)
  })
}

export async function withClient<T>(
  url: string,
  work: (client: pg.Client) => Promise<T>,
): Promise<T> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5_000 })
  await client.connect()
  try {
    return await work(client)
  } finally {
    await client.end()
  }
}
