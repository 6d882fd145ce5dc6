import { sql } from 'kysely'
import type { Database } from '../db/database.ts'
import { conflict, notFound } from '../errors.ts'
import type { Logger } from '../logger.ts'
import type { Metrics } from '../metrics.ts'
import { eventMetrics } from './event-metrics.ts'
import type { DeadLetterSink, Subscription } from './event-bus.ts'
import { handleDelivery, readEvent, resolveSubscription } from './handle-delivery.ts'

/** DeadLetterRecord is one parked event in a service's `dead_letters` table. */
export interface DeadLetterRecord {
  id: number
  consumer: string
  eventId: string
  eventType: string
  event: string
  reason: string
  attempts: number
  deadLetteredAt: Date
}

/**
 * recordDeadLetters keeps a service's dead letters in its own database, where an operator looks
 * and from where one can be replayed. Parking the same event again updates its row.
 */
export function recordDeadLetters<DB>(database: Database<DB>): DeadLetterSink {
  return async (letter) => {
    await sql`
      insert into dead_letters (consumer, event_id, event_type, event, reason, attempts)
      values (${letter.consumer}, ${letter.eventId}, ${letter.eventType}, ${letter.event},
              ${letter.reason}, ${letter.attempts})
      on conflict (consumer, event_id) do update
        set reason = excluded.reason, attempts = excluded.attempts, event = excluded.event,
            dead_lettered_at = now()`.execute(database.db)
  }
}

/** listDeadLetters returns the newest dead letters first. */
export async function listDeadLetters<DB>(
  database: Database<DB>,
  options: { consumer?: string; limit?: number } = {},
): Promise<DeadLetterRecord[]> {
  const { rows } = await sql<DeadLetterRecord>`
    select id, consumer, event_id as "eventId", event_type as "eventType", event, reason, attempts,
           dead_lettered_at as "deadLetteredAt"
    from dead_letters
    where ${options.consumer === undefined ? sql`true` : sql`consumer = ${options.consumer}`}
    order by id desc
    limit ${options.limit ?? 100}`.execute(database.db)
  return rows
}

/** ReplayOutcome says what became of a replayed dead letter. */
export type ReplayOutcome = 'handled' | 'parked again'

/**
 * replayDeadLetter runs a parked event through its consumer's handler once more, after the cause
 * was fixed (a bug deployed away, data repaired): handled, its dead letter is deleted; failing
 * again, it stays parked with the new reason. The handler's inbox keeps a replay of an event
 * that was handled meanwhile from changing anything twice.
 */
export async function replayDeadLetter<DB>(
  database: Database<DB>,
  options: {
    id: number
    subscriptions: readonly Subscription[]
    logger: Logger
    metrics?: Pick<Metrics, 'registry'> | undefined
  },
): Promise<ReplayOutcome> {
  const { rows } = await sql<DeadLetterRecord>`
    select id, consumer, event_id as "eventId", event_type as "eventType", event, reason, attempts,
           dead_lettered_at as "deadLetteredAt"
    from dead_letters where id = ${options.id}`.execute(database.db)
  const [letter] = rows
  if (!letter) throw notFound(`There is no dead letter ${options.id}.`)
  const subscription = options.subscriptions.find(
    (candidate) =>
      candidate.service === letter.consumer && candidate.event.type === letter.eventType,
  )
  if (!subscription) {
    throw conflict(`No consumer ${letter.consumer} of ${letter.eventType} runs here to replay it.`)
  }
  let parkedAgain = false
  const outcome = await handleDelivery(
    {
      // One attempt: a replay that fails is parked again at once, not retried.
      subscription: resolveSubscription({ ...subscription, maxDeliver: 1 }),
      logger: options.logger,
      metrics: eventMetrics(options.metrics?.registry),
      deadLetters: async (again) => {
        parkedAgain = true
        await recordDeadLetters(database)(again)
      },
      stopping: new AbortController().signal,
    },
    readEvent(letter.event),
    1,
  )
  if (outcome.action === 'ack' && !parkedAgain) {
    await sql`delete from dead_letters where id = ${options.id}`.execute(database.db)
    return 'handled'
  }
  return 'parked again'
}
