import { sql } from 'kysely'
import type { Database } from '../db/database.ts'
import type { DeadLetterSink } from './event-bus.ts'

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
