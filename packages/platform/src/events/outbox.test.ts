import { randomUUID } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import { sql } from 'kysely'
import { Registry } from 'prom-client'
import Type from 'typebox'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { defineEvent } from '@microshop/contracts/define-event'
import type { CloudEvent } from '@microshop/contracts/envelope'
import { openDatabase, type Database } from '../db/database.ts'
import { createStore } from '../db/store.ts'
import { createLogger } from '../logger.ts'
import {
  createTestDatabase,
  openMigratedDatabase,
  databaseKinds,
  type TestDatabase,
} from '../testing/databases.ts'
import {
  natsServerAvailable,
  startOwnNatsServer,
  type OwnNatsServer,
} from '../testing/nats-server.ts'
import type { EventBus } from './event-bus.ts'
import { InProcessBroker, InProcessEventBus } from './in-process-event-bus.ts'
import { NatsEventBus } from './nats-event-bus.ts'
import { newEvent } from './new-event.ts'
import { addToOutbox, outboxLagSeconds, startOutboxRelay, type OutboxRelay } from './outbox.ts'
import { platformMigrations } from './platform-migrations.ts'
import { waitFor } from '../testing/wait-for.ts'

const itemChanged = defineEvent({
  type: 'relaytest.item.changed.v1',
  producer: 'relaytest',
  description: 'A test event about an item.',
  payload: Type.Object({ itemId: Type.String(), version: Type.Integer() }),
})

const logger = createLogger({
  service: 'outbox-test',
  level: process.env.TEST_LOG_LEVEL ?? 'silent',
})

const changed = (itemId: string, version: number) =>
  newEvent(itemChanged, { itemId, version }, { subject: itemId })

describe.each(databaseKinds)('outbox on %s', (kind) => {
  let testDb: TestDatabase
  let database: Database<unknown>
  let broker: InProcessBroker
  const opened: Database<unknown>[] = []
  const relays: OutboxRelay[] = []
  const buses: EventBus[] = []

  const open = async () => {
    const replica = await openDatabase<unknown>({ url: testDb.url, dataDir: testDb.dataDir })
    opened.push(replica)
    return replica
  }
  // replica is another process's connection to the same database; PGlite has only the one.
  const replica = async () => (kind === 'pglite' ? database : open())
  const relay = async (options: Partial<Parameters<typeof startOutboxRelay>[0]> = {}) => {
    const started = await startOutboxRelay({
      database,
      bus: await inProcessBus(),
      logger,
      retryMaxMs: 200,
      ...options,
    })
    relays.push(started)
    return started
  }
  const inProcessBus = async () => {
    const bus = new InProcessEventBus({ broker, logger })
    buses.push(bus)
    return bus
  }
  /** consume records every item event the `reader` service handles, in order. */
  const consume = async (bus?: EventBus) => {
    const handled: CloudEvent<{ itemId: string; version: number }>[] = []
    await (bus ?? (await inProcessBus())).subscribe({
      service: 'reader',
      event: itemChanged,
      handler: async (event) => void handled.push(event),
    })
    return handled
  }
  /** commit is another process's transaction: its events reach a relay through the table only. */
  const commit = (...events: CloudEvent[]) =>
    database.db.transaction().execute((trx) => addToOutbox(trx, ...events))
  /** commitThrough is this process's transaction, through a store that hands its events to `to`. */
  const commitThrough = (to: OutboxRelay, ...events: CloudEvent[]) =>
    createStore(database, () => ({}), {
      committed: (entries) => to.committed(entries),
    }).transaction((tx) => tx.outbox.add(...events))
  /** pending counts the events in the outbox: those not yet published. */
  const pending = async () => {
    const { rows } = await sql<{ n: number }>`
      select count(*)::int as n from outbox`.execute(database.db)
    return rows[0]?.n ?? -1
  }

  // One database per kind keeps PGlite's start-up out of every test; each test starts empty.
  beforeAll(async () => {
    testDb = await createTestDatabase(kind)
    database = await openMigratedDatabase(testDb, [platformMigrations])
  })

  afterAll(async () => {
    await database.close()
    await testDb.drop()
  })

  beforeEach(async () => {
    await sql`truncate outbox, outbox_relay_lease`.execute(database.db)
    await sql`drop table if exists items`.execute(database.db)
    broker = new InProcessBroker()
  })

  afterEach(async () => {
    await Promise.all(relays.splice(0).map((r) => r.stop()))
    await Promise.all(buses.splice(0).map((b) => b.close()))
    await Promise.all(opened.splice(0).map((d) => d.close()))
  })

  it('when this process commits events, then its relay publishes them from memory and deletes their rows', async () => {
    const handled = await consume()
    // No poll comes in this test's time: only the hand-over from the commit can publish.
    const running = await relay({ pollIntervalMs: 600_000 })
    await waitFor(async () => (await pending()) === 0)
    const events = [changed(randomUUID(), 1), changed(randomUUID(), 1)]
    await commitThrough(running, ...events)
    await waitFor(() => handled.length === 2)
    expect(handled).toEqual(events)
    await waitFor(async () => (await pending()) === 0)
  })

  it('when the transaction rolls back, then its events are never published', async () => {
    const handled = await consume()
    const running = await relay()
    const lost = changed(randomUUID(), 1)
    const store = createStore(database, () => ({}), {
      committed: (entries) => running.committed(entries),
    })
    await expect(
      store.transaction(async (tx) => {
        await tx.outbox.add(lost)
        throw new Error('the state change failed')
      }),
    ).rejects.toThrow('the state change failed')
    const kept = changed(randomUUID(), 1)
    await commitThrough(running, kept)
    await waitFor(() => handled.length === 1)
    await sleep(100)
    expect(handled.map((e) => e.id)).toEqual([kept.id])
  })

  it('when the relay was down between commit and publish, then it publishes the events when it starts', async () => {
    const handled = await consume()
    const first = await relay()
    await first.stop()
    const events = [changed(randomUUID(), 1), changed(randomUUID(), 1), changed(randomUUID(), 1)]
    await commit(...events)
    await sleep(100)
    expect(handled).toEqual([])
    expect(await pending()).toBe(3)
    await relay()
    await waitFor(() => handled.length === 3)
    expect(handled.map((e) => e.id)).toEqual(events.map((e) => e.id))
    await waitFor(async () => (await pending()) === 0)
  })

  it('when the relay fails after publishing but before deleting, then it publishes again and consumers see each event once', async () => {
    const handled = await consume()
    const bus = await inProcessBus()
    const published: string[] = []
    let crashes = 1
    const running = await relay({
      bus: {
        publish: async (event) => {
          await bus.publish(event)
          published.push(event.id)
          if (crashes > 0) {
            crashes--
            throw new Error('the broker acknowledged, but the answer was lost')
          }
        },
      },
    })
    const event = changed(randomUUID(), 1)
    await commitThrough(running, event)
    await waitFor(async () => (await pending()) === 0)
    await sleep(100)
    expect(published).toEqual([event.id, event.id])
    expect(handled.map((e) => e.id)).toEqual([event.id])
  })

  it('when several transactions change the same aggregates at once, then each aggregate`s events are published in commit order', async () => {
    await sql`create table items (id text primary key, version int not null)`.execute(database.db)
    const items = Array.from({ length: 4 }, () => randomUUID())
    for (const id of items) await sql`insert into items values (${id}, 0)`.execute(database.db)
    const handled = await consume()
    // The writers are other processes: the relay finds their events in the table.
    await relay({ batchSize: 16, staleMs: 0, pollIntervalMs: 20 })
    const writers = await Promise.all([replica(), replica(), replica()])
    await Promise.all(
      Array.from({ length: 60 }, (_, n) =>
        (writers[n % writers.length] as Database<unknown>).db.transaction().execute(async (trx) => {
          const itemId = items[n % items.length] as string
          // The update locks the item first, so a second writer adds its event after this one commits.
          const { rows } = await sql<{ version: number }>`
              update items set version = version + 1 where id = ${itemId}
              returning version`.execute(trx)
          await addToOutbox(trx, changed(itemId, rows[0]?.version ?? -1))
        }),
      ),
    )
    await waitFor(() => handled.length === 60)
    for (const itemId of items) {
      expect(handled.filter((e) => e.data.itemId === itemId).map((e) => e.data.version)).toEqual(
        Array.from({ length: 15 }, (_, n) => n + 1),
      )
    }
  })

  it('when several relays run at once, then each event is published once, and another takes over when one stops', async () => {
    const handled = await consume()
    const bus = await inProcessBus()
    const publishes = new Map<string, number>()
    const counting = {
      publish: async (event: CloudEvent) => {
        publishes.set(event.id, (publishes.get(event.id) ?? 0) + 1)
        await bus.publish(event)
      },
    }
    const replicas = await Promise.all([replica(), replica(), replica()])
    const running = await Promise.all(
      replicas.map((replica) =>
        relay({ database: replica, bus: counting, leaseMs: 400, pollIntervalMs: 100, staleMs: 0 }),
      ),
    )
    for (let batch = 0; batch < 10; batch++) {
      await commit(...Array.from({ length: 10 }, () => changed(randomUUID(), 1)))
    }
    await waitFor(() => handled.length === 100)
    await sleep(200)
    expect(publishes.size).toBe(100)
    expect([...publishes.values()].every((count) => count === 1)).toBe(true)

    const leaders = running.filter((r) => r.leading)
    expect(leaders).toHaveLength(1)
    await leaders[0]?.stop()
    await commit(changed(randomUUID(), 1))
    await waitFor(() => handled.length === 101, 5_000)
    expect(running.filter((r) => r.leading)).toHaveLength(1)
    expect([...publishes.values()].every((count) => count === 1)).toBe(true)
  })

  it('when events wait in the table, then only the lease holder publishes them, once they are older than staleMs', async () => {
    const handled = await consume()
    const bus = await inProcessBus()
    const publishes: string[] = []
    const counting = {
      publish: async (event: CloudEvent) => {
        publishes.push(event.id)
        await bus.publish(event)
      },
    }
    const replicas = await Promise.all([replica(), replica()])
    await Promise.all(
      replicas.map((replica) =>
        relay({ database: replica, bus: counting, pollIntervalMs: 50, staleMs: 1_000 }),
      ),
    )
    await waitFor(async () => (await pending()) === 0)
    const event = changed(randomUUID(), 1)
    const committedAt = Date.now()
    await commit(event)
    await waitFor(() => handled.length === 1)
    expect(Date.now() - committedAt).toBeGreaterThanOrEqual(900)
    await waitFor(async () => (await pending()) === 0)
    expect(publishes).toEqual([event.id])
  })

  describe('with a NATS server of its own', () => {
    let server: OwnNatsServer | undefined
    afterEach(async () => {
      await Promise.all(relays.splice(0).map((r) => r.stop()))
      await Promise.all(buses.splice(0).map((b) => b.close()))
      await server?.dispose()
      server = undefined
    })

    it.skipIf(!natsServerAvailable)(
      'when the broker is down, then the relay retries with backoff, the lag grows, and everything goes out once it is back',
      async () => {
        server = await startOwnNatsServer()
        const connectBus = async () => {
          const bus = await NatsEventBus.connect({
            servers: (server as OwnNatsServer).url,
            producers: ['relaytest'],
            reconnectWaitMs: 100,
            publishTimeoutMs: 500,
            logger,
          })
          buses.push(bus)
          return bus
        }
        const bus = await connectBus()
        const handled = await consume(await connectBus())
        const registry = new Registry()
        const running = await relay({ bus, metrics: { registry } })
        await server.stop('SIGKILL')
        const events = Array.from({ length: 5 }, (_, n) => changed(randomUUID(), n + 1))
        await commitThrough(running, ...events)
        await sleep(1_200)
        expect(await pending()).toBe(5)
        const lag = await registry.getSingleMetric('outbox_lag_seconds')?.get()
        expect(lag?.values[0]?.value).toBeGreaterThan(1)
        await server.start()
        await waitFor(() => handled.length === 5, 20_000)
        expect(handled.map((e) => e.id)).toEqual(events.map((e) => e.id))
        await waitFor(async () => (await pending()) === 0)
        expect(await outboxLagSeconds(database)).toBe(0)
      },
    )
  })
})
