// The fault drill's own parts must do what the drill relies on: its backlog check sees an outbox
// row, a PENDING order and a message no consumer acknowledged (over real service databases and
// the machine's NATS), and its TCP proxy really cuts a NATS client off and lets it back.
import { randomBytes, randomUUID } from 'node:crypto'
import { fileURLToPath } from 'node:url'
import pg from 'pg'
import { connect } from '@nats-io/transport-node'
import { AckPolicy, jetstream, jetstreamManager } from '@nats-io/jetstream'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openDatabase } from '@microshop/platform/db/database'
import { migrate } from '@microshop/platform/db/migrate'
import { platformMigrations } from '@microshop/platform/events/platform-migrations'
import { adminUrl } from '@microshop/platform/testing/databases'
import { deleteStreamsOf, sharedNatsUrl } from '@microshop/platform/testing/nats-server'
import { waitFor } from '@microshop/platform/testing/wait-for'
import {
  backlogRows,
  isDrained,
  readBacklog,
  waitUntilDrained,
  type Backlog,
} from '../../drills/lib/fault-checks.ts'
import { startTcpProxy } from '../../drills/lib/tcp-proxy.ts'
import { createServiceDatabases, dropServiceDatabases } from '../../scripts/service-databases.ts'
import type { BackendService } from '../../scripts/shop-layout.ts'

const prefix = `fc_${randomBytes(4).toString('hex')}_`
const namespace = `fc${randomBytes(4).toString('hex')}`
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

describe("the fault drill's backlog check", () => {
  beforeAll(async () => {
    urls = await createServiceDatabases({ adminUrl, prefix })
    for (const service of ['catalog', 'orders', 'payments'] as const) {
      const database = await openDatabase<unknown>({ url: urls[service], dataDir: 'memory://' })
      try {
        await migrate(database, [
          platformMigrations,
          {
            name: service,
            directory: fileURLToPath(
              new URL(`../../services/${service}/migrations`, import.meta.url),
            ),
          },
        ])
      } finally {
        await database.close()
      }
    }
  })

  afterAll(async () => {
    await dropServiceDatabases({ adminUrl, prefix })
    await deleteStreamsOf(sharedNatsUrl, namespace)
  })

  it('when an outbox row, a PENDING order and an unacknowledged message are left, then each is reported, and nothing once they are gone', async () => {
    const read = () => readBacklog(urls, sharedNatsUrl, namespace)
    expect(isDrained(await read())).toBe(true)

    await sql(
      'payments',
      `insert into outbox (event_id, event_type, envelope) values ($1, 'payments.payment.succeeded.v1', '{}')`,
      [randomUUID()],
    )
    const orderId = randomUUID()
    await sql(
      'orders',
      `insert into orders (id, user_id, status, saga_step, step_deadline, total_amount, currency,
         payment_method, status_history, created_at, updated_at)
       values ($1, $2, 'PENDING', 'awaiting_stock', now(), 100, 'USD', 'pm_card_visa', '[]', now(), now())`,
      [orderId, randomUUID()],
    )
    const nc = await connect({ servers: sharedNatsUrl })
    try {
      const jsm = await jetstreamManager(nc)
      const stream = `${namespace.toUpperCase()}_THINGS`
      await jsm.streams.add({ name: stream, subjects: [`${namespace}.things.>`] })
      await jsm.consumers.add(stream, { durable_name: 'counter', ack_policy: AckPolicy.Explicit })
      await jetstream(nc).publish(`${namespace}.things.happened`, '{}')

      const backlog = await read()
      expect(backlog).toEqual({
        outbox: { catalog: 0, orders: 0, payments: 1 },
        consumers: { [`${stream}/counter`]: 1 },
        pendingOrders: 1,
        published: 1,
      })
      expect(isDrained(backlog)).toBe(false)
      expect(backlogRows(backlog).flatMap((row) => row.violations)).toEqual([
        'payments: 1 events not published',
        `${stream}/counter: 1 pending or unacknowledged`,
      ])

      // Delivered but not acknowledged still counts; acknowledged does not.
      const consumer = await jetstream(nc).consumers.get(stream, 'counter')
      const message = await consumer.next({ expires: 5_000 })
      expect((await read()).consumers).toEqual({ [`${stream}/counter`]: 1 })
      await message?.ackAck()
      await sql('payments', 'delete from outbox')
      await sql(
        'orders',
        `update orders set status = 'CONFIRMED', saga_step = null, step_deadline = null where id = $1`,
        [orderId],
      )
      expect(isDrained(await read())).toBe(true)
    } finally {
      await nc.close()
    }
  })
})

describe('waiting for the backlog to drain', () => {
  const empty = (published: number): Backlog => ({
    outbox: { catalog: 0, orders: 0, payments: 0 },
    consumers: {},
    pendingOrders: 0,
    published,
  })

  it('when an empty read is followed by a publication, then it waits until the backlog stays empty with nothing published', async () => {
    const reads = [
      empty(1),
      empty(2), // an event went out since the first read: that one proved nothing
      { ...empty(2), consumers: { 'ORDERS/catalog': 1 } },
      empty(3),
    ]
    let calls = 0
    const { backlog, drainedAt } = await waitUntilDrained(async () => {
      calls++
      return reads.shift() ?? empty(3)
    }, 30_000)
    expect(backlog).toEqual(empty(3))
    expect(drainedAt).toBeDefined()
    // The four scripted reads, then at least one more a second after the last change.
    expect(calls).toBeGreaterThan(4)
  })

  it('when the backlog never empties, then it gives up with what is left', async () => {
    const left = { ...empty(7), pendingOrders: 2 }
    const { backlog, drainedAt } = await waitUntilDrained(async () => left, 500)
    expect(drainedAt).toBeUndefined()
    expect(backlog).toEqual(left)
  })
})

describe("the fault drill's TCP proxy", () => {
  it('when it is cut, then a NATS client through it is disconnected and cannot reconnect until it is restored', async () => {
    const proxy = await startTcpProxy(Number(new URL(sharedNatsUrl).port))
    const nc = await connect({
      servers: proxy.url,
      reconnectTimeWait: 100,
      maxReconnectAttempts: -1,
    })
    const events: string[] = []
    void (async () => {
      for await (const status of nc.status()) events.push(status.type)
    })()
    try {
      await nc.flush()
      proxy.cut()
      await waitFor(() => events.includes('disconnect'))
      await expect(nc.flush()).rejects.toThrow()
      // Still cut off a while later: every reconnect is refused.
      await new Promise((resolve) => setTimeout(resolve, 500))
      expect(events).not.toContain('reconnect')

      proxy.restore()
      await waitFor(() => events.includes('reconnect'), 10_000)
      await nc.flush()
    } finally {
      await nc.close()
      await proxy.close()
    }
  })
})
