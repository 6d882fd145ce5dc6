import { setTimeout as sleep } from 'node:timers/promises'
import { sql } from 'kysely'
import Type from 'typebox'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { defineEvent } from '@microshop/contracts/define-event'
import { openDatabase, type Database } from '../db/database.ts'
import { createLogger } from '../logger.ts'
import {
  createTestDatabase,
  openMigratedDatabase,
  databaseKinds,
  type TestDatabase,
} from '../testing/databases.ts'
import { listDeadLetters, recordDeadLetters } from './dead-letters.ts'
import { InProcessBroker, InProcessEventBus } from './in-process-event-bus.ts'
import { consumeOnce, handleOnce, pruneInbox, wasHandled } from './inbox.ts'
import { newEvent } from './new-event.ts'
import { platformMigrations } from './platform-migrations.ts'
import { waitFor } from '../testing/wait-for.ts'

const pointsEarned = defineEvent({
  type: 'inboxtest.points.earned.v1',
  producer: 'inboxtest',
  description: 'A test event that adds points to an account.',
  payload: Type.Object({ account: Type.String(), points: Type.Integer() }),
})

const logger = createLogger({ service: 'inbox-test', level: 'silent' })

const earned = (account: string, points: number) =>
  newEvent(pointsEarned, { account, points }, { subject: account })

describe.each(databaseKinds)('inbox on %s', (kind) => {
  let testDb: TestDatabase
  let database: Database<unknown>
  const buses: InProcessEventBus[] = []

  const balance = async (account: string) => {
    const { rows } = await sql<{ points: number }>`
      select points from balances where account = ${account}`.execute(database.db)
    return rows[0]?.points ?? 0
  }
  /** addPoints is a consumer's effect: it must happen once per event. */
  const addPoints = (event: ReturnType<typeof earned>, consumer = 'rewards') =>
    consumeOnce(database, consumer, event, async (trx) => {
      await sql`insert into balances (account, points) values (${event.data.account}, ${event.data.points})
                on conflict (account) do update set points = balances.points + excluded.points`.execute(
        trx,
      )
    })

  beforeAll(async () => {
    testDb = await createTestDatabase(kind)
    database = await openMigratedDatabase(testDb, [platformMigrations])
    await sql`create table balances (account text primary key, points int not null)`.execute(
      database.db,
    )
  })

  afterAll(async () => {
    await database.close()
    await testDb.drop()
  })

  beforeEach(async () => {
    await sql`truncate inbox, dead_letters, balances`.execute(database.db)
  })

  afterEach(async () => {
    await Promise.all(buses.splice(0).map((bus) => bus.close()))
  })

  it('when the same event is consumed twice, then its effect happens once', async () => {
    const event = earned('ada', 10)
    expect(await addPoints(event)).toBe(true)
    expect(await addPoints(event)).toBe(false)
    expect(await balance('ada')).toBe(10)
  })

  it('when the work fails, then nothing is recorded and the redelivery applies it', async () => {
    const event = earned('bob', 5)
    await expect(
      consumeOnce(database, 'rewards', event, async (trx) => {
        await sql`insert into balances values ('bob', 5)`.execute(trx)
        throw new Error('lost the connection mid-way')
      }),
    ).rejects.toThrow('lost the connection')
    expect(await balance('bob')).toBe(0)
    expect(await addPoints(event)).toBe(true)
    expect(await balance('bob')).toBe(5)
  })

  it('when two consumers handle the same event, then each applies it once', async () => {
    const event = earned('cy', 3)
    expect(await addPoints(event, 'rewards')).toBe(true)
    expect(
      await database.db.transaction().execute((trx) => handleOnce(trx, 'analytics', event.id)),
    ).toBe(true)
    expect(await addPoints(event, 'rewards')).toBe(false)
    expect(await balance('cy')).toBe(3)
  })

  it('when a consumer has handled an event, then wasHandled says so for that consumer only', async () => {
    const event = earned('dee', 1)
    expect(await wasHandled(database.db, 'rewards', event.id)).toBe(false)
    await addPoints(event, 'rewards')
    expect(await wasHandled(database.db, 'rewards', event.id)).toBe(true)
    expect(await wasHandled(database.db, 'analytics', event.id)).toBe(false)
  })

  it('when an event is redelivered after its effect committed, then it is acknowledged and changes nothing', async () => {
    const bus = new InProcessEventBus({
      broker: new InProcessBroker(),
      logger,
      deadLetters: recordDeadLetters(database),
    })
    buses.push(bus)
    const attempts: { attempt: number; applied: boolean }[] = []
    await bus.subscribe({
      service: 'rewards',
      event: pointsEarned,
      backoffMs: [20],
      handler: async (event, delivery) => {
        const applied = await addPoints(event)
        attempts.push({ attempt: delivery.attempt, applied })
        // The ack is lost the first time (the process died right after the commit).
        if (delivery.attempt === 1) throw new Error('crashed before the ack')
      },
    })
    await bus.publish(earned('dee', 7))
    await waitFor(() => attempts.length === 2)
    await sleep(100)
    expect(attempts).toEqual([
      { attempt: 1, applied: true },
      { attempt: 2, applied: false },
    ])
    expect(await balance('dee')).toBe(7)
    expect(await listDeadLetters(database)).toEqual([])
  })

  it.runIf(kind === 'postgres')(
    'when two replicas handle the same event at once, then one applies it',
    async () => {
      const other = await openDatabase<unknown>({ url: testDb.url, dataDir: testDb.dataDir })
      try {
        const event = earned('eve', 4)
        const slowAdd = (replica: Database<unknown>) =>
          consumeOnce(replica, 'rewards', event, async (trx) => {
            await sleep(50)
            await sql`insert into balances values ('eve', 4)
                      on conflict (account) do update set points = balances.points + 4`.execute(trx)
          })
        const results = await Promise.all([slowAdd(database), slowAdd(other)])
        expect(results.sort()).toEqual([false, true])
        expect(await balance('eve')).toBe(4)
      } finally {
        await other.close()
      }
    },
  )

  it('when events were handled long ago, then pruneInbox forgets them and keeps recent ones', async () => {
    await addPoints(earned('fay', 1))
    await addPoints(earned('fay', 2))
    await sql`update inbox set handled_at = now() - interval '9 days'
              where event_id = (select event_id from inbox order by handled_at limit 1)`.execute(
      database.db,
    )
    expect(await pruneInbox(database, 8 * 24 * 3_600_000)).toBe(1)
    const { rows } = await sql<{ n: number }>`select count(*)::int as n from inbox`.execute(
      database.db,
    )
    expect(rows[0]?.n).toBe(1)
  })

  it('when a consumer gives up on an event, then it is kept in dead_letters with why and how often', async () => {
    const bus = new InProcessEventBus({
      broker: new InProcessBroker(),
      logger,
      deadLetters: recordDeadLetters(database),
    })
    buses.push(bus)
    await bus.subscribe({
      service: 'rewards',
      event: pointsEarned,
      maxDeliver: 2,
      backoffMs: [20],
      handler: async () => {
        throw new Error('ledger unavailable')
      },
    })
    const event = earned('gus', 1)
    await bus.publish(event)
    await waitFor(async () => (await listDeadLetters(database)).length === 1)
    const [letter] = await listDeadLetters(database, { consumer: 'rewards' })
    expect(letter).toMatchObject({
      consumer: 'rewards',
      eventId: event.id,
      eventType: pointsEarned.type,
      attempts: 2,
      reason: 'failed 2 times: ledger unavailable',
    })
    expect(JSON.parse(letter?.event ?? '')).toEqual(event)
    expect(letter?.deadLetteredAt).toBeInstanceOf(Date)
    // Parking it again (a redelivery after the term was lost) updates the same row.
    await recordDeadLetters(database)({
      consumer: 'rewards',
      eventId: event.id,
      eventType: pointsEarned.type,
      event: letter?.event ?? '',
      reason: 'gave up after 2 deliveries',
      attempts: 3,
    })
    expect(await listDeadLetters(database)).toEqual([
      expect.objectContaining({ attempts: 3, reason: 'gave up after 2 deliveries' }),
    ])
  })
})
