import { randomUUID } from 'node:crypto'
import { sql, type QueryExecutorProvider, type RawBuilder } from 'kysely'
import { Gauge } from 'prom-client'
import type { CloudEvent } from '@microshop/contracts/envelope'
import type { Database } from '../db/database.ts'
import type { Logger } from '../logger.ts'
import type { Metrics } from '../metrics.ts'
import type { EventBus } from './event-bus.ts'
import { publishSpan } from './event-spans.ts'

/** OutboxEntry is an event in the outbox: its row's position and the envelope. */
export interface OutboxEntry {
  position: string
  event: CloudEvent
}

/**
 * addToOutbox writes events into the outbox inside the caller's transaction, so they exist if
 * and only if the state change they describe commits, and returns them with their positions.
 * Lock the aggregate's row before adding (update it first): then two transactions on one
 * aggregate add their events in commit order, and they are published in that order.
 */
// addToOutbox takes any executor (a transaction of any service's database type) because it only
// runs raw SQL on the platform's own table.
export async function addToOutbox(
  trx: QueryExecutorProvider,
  ...events: CloudEvent[]
): Promise<OutboxEntry[]> {
  if (events.length === 0) return []
  const rows = events.map(
    (event) =>
      sql`(${event.id}, ${event.type}, ${event.subject ?? null}, ${JSON.stringify(event)}::jsonb)`,
  )
  const { rows: inserted } = await sql<{ position: string | number }>`
    insert into outbox (event_id, event_type, subject, envelope)
    values ${sql.join(rows)}
    returning position`.execute(trx)
  return events.map((event, i) => ({ position: String(inserted[i]?.position), event }))
}

/**
 * outboxRows is the outbox's columns and rows for `events`, for a statement that writes its
 * events itself (one round trip for a state change and its events):
 * `insert into outbox ${OUTBOX_COLUMNS} select * from ${outboxRows(events)} where ... returning position`.
 * The positions come back in the events' order.
 */
export function outboxRows(events: readonly CloudEvent[]): RawBuilder<unknown> {
  const rows = events.map(
    (event) =>
      sql`(${event.id}::uuid, ${event.type}::text, ${event.subject ?? null}::text, ${JSON.stringify(event)}::jsonb)`,
  )
  return sql`(values ${sql.join(rows)}) as new_event (event_id, event_type, subject, envelope)`
}

export const OUTBOX_COLUMNS = sql`outbox (event_id, event_type, subject, envelope)`

/**
 * outboxInsert is the statement of a CTE (name it `published`) that writes `events` to the
 * outbox when `condition` holds and returns their positions; with no events, one that returns no
 * row. PUBLISHED_POSITIONS reads those positions back, in the events' order.
 */
export function outboxInsert(
  events: readonly CloudEvent[],
  condition: RawBuilder<unknown> = sql`true`,
): RawBuilder<unknown> {
  return events.length === 0
    ? sql`select null::bigint as position where false`
    : sql`insert into ${OUTBOX_COLUMNS} select * from ${outboxRows(events)}
        where ${condition} returning position`
}

/**
 * publishedEntries pairs the events a statement wrote through `outboxInsert` with the positions
 * PUBLISHED_POSITIONS read back, for the repository to hand to its OutboxRecorder.
 */
export function publishedEntries(
  events: readonly CloudEvent[],
  positions: readonly (string | number)[],
): OutboxEntry[] {
  return events.map((event, i) => ({ position: String(positions[i]), event }))
}

/** PUBLISHED_POSITIONS are the positions of the events a `published` CTE wrote, in order ('{}' for none). */
export const PUBLISHED_POSITIONS = sql<(string | number)[]>`coalesce(
  (select array_agg(position order by position) from published), '{}')`

export interface OutboxRelayOptions<DB> {
  database: Database<DB>
  bus: Pick<EventBus, 'publish'>
  /** service names the publishing service on its spans (several share the embedded process). */
  service?: string | undefined
  logger: Logger
  /** metrics gets `outbox_lag_seconds`, the age of the oldest unpublished event. */
  metrics?: Pick<Metrics, 'registry'> | undefined
  /** batchSize is how many events one round publishes at once and deletes in one statement. */
  batchSize?: number
  /** pollIntervalMs is how often the lease holder looks for events nobody published (a crash). */
  pollIntervalMs?: number
  /** staleMs is how old an event must be before the lease holder publishes it for another process. */
  staleMs?: number
  /** leaseMs is how long the polling replica's lease lasts; another takes over this long after it dies. */
  leaseMs?: number
  /** retryMaxMs caps the backoff while the broker or the database is down. */
  retryMaxMs?: number
  /**
   * deleteDelayMs is how long published events wait, at most, to be deleted with others: one
   * delete (one commit) per this interval instead of one per published batch. It stays under
   * staleMs, so the lease holder does not take a published event for a forgotten one (and the
   * lease holder deletes what it published before it looks).
   */
  deleteDelayMs?: number
}

/** OutboxRelay publishes a service's outbox until stopped. */
export interface OutboxRelay {
  /** committed hands over the events of a transaction this process just committed: they go out at once. */
  committed(entries: readonly OutboxEntry[]): void
  /** leading is true while this replica holds the lease and publishes what others left behind. */
  readonly leading: boolean
  stop(): Promise<void>
}

const LEASE_NAME = 'outbox'
const RETRY_MIN_MS = 50

/**
 * startOutboxRelay publishes a service's outbox. The fast path takes no query: the process that
 * commits events hands them over (`committed`), the relay publishes them in commit order with
 * the broker's acks in flight together, and deletes their rows in bulk. The slow path reads the
 * table in position order: after a failed publish (until the table is empty, so that what waited
 * goes out before what comes next), and on the replica holding the lease, every
 * `pollIntervalMs`, for events older than `staleMs` that no process published (it crashed, or it
 * was not running). A crash between publish and delete publishes again: the broker drops
 * the duplicate by its id (and consumers' inboxes catch what the window misses).
 */
export async function startOutboxRelay<DB>(options: OutboxRelayOptions<DB>): Promise<OutboxRelay> {
  const relay = new OutboxRelayLoop(options)
  relay.start()
  return relay
}

class OutboxRelayLoop<DB> implements OutboxRelay {
  private readonly holder = randomUUID()
  private readonly batchSize: number
  private readonly pollIntervalMs: number
  private readonly staleMs: number
  private readonly leaseMs: number
  private readonly retryMaxMs: number
  private readonly deleteDelayMs: number
  // queue holds committed events in commit order until they are published.
  private queue: OutboxEntry[] = []
  // fromTable is set while the table must be read in full, after a failure; what it publishes
  // is noted in publishedFromTable, so the queue does not publish it again.
  private fromTable = false
  private readonly publishedFromTable = new Set<string>()
  private published: string[] = []
  private deleteTimer: NodeJS.Timeout | undefined
  private deleting: Promise<void> = Promise.resolve()
  private leaseRenewAt = 0
  private leaseValidUntil = 0
  private nextPollAt = 0
  private stopped = false
  private wakeUp: (() => void) | undefined
  private woken = false
  private loop: Promise<void> | undefined
  private lagGauge: Gauge | undefined

  constructor(private readonly options: OutboxRelayOptions<DB>) {
    this.batchSize = options.batchSize ?? 256
    this.pollIntervalMs = options.pollIntervalMs ?? 1_000
    this.staleMs = options.staleMs ?? 2_000
    this.leaseMs = options.leaseMs ?? 5_000
    this.retryMaxMs = options.retryMaxMs ?? 5_000
    this.deleteDelayMs = options.deleteDelayMs ?? 1_000
  }

  start() {
    this.registerLagGauge()
    this.loop = this.run()
  }

  get leading(): boolean {
    return !this.stopped && Date.now() < this.leaseValidUntil
  }

  committed(entries: readonly OutboxEntry[]) {
    if (this.stopped || entries.length === 0) return
    this.queue.push(...entries)
    this.wake()
  }

  private wake() {
    this.woken = true
    this.wakeUp?.()
  }

  async stop() {
    if (this.stopped) return
    this.stopped = true
    this.wakeUp?.()
    await this.loop
    await this.flushDeletes()
    if (this.lagGauge) {
      this.options.metrics?.registry.removeSingleMetric('outbox_lag_seconds')
      this.options.metrics?.registry.removeSingleMetric('outbox_pending_events')
    }
    if (this.leaseValidUntil > Date.now()) {
      // Handing the lease back lets another replica take over at once instead of after leaseMs.
      await sql`update outbox_relay_lease set expires_at = now()
                where name = ${LEASE_NAME} and holder = ${this.holder}`
        .execute(this.options.database.db)
        .catch(() => undefined)
    }
  }

  private async run() {
    let failures = 0
    // What is queued when stopping still goes out: it is committed, and publishing is quick.
    while (!this.stopped || (this.queue.length > 0 && !this.fromTable && failures === 0)) {
      let more: boolean
      try {
        more = this.fromTable ? await this.publishFromTable(false) : await this.publishQueued()
        if (!more && !this.stopped && Date.now() >= this.nextPollAt) {
          this.nextPollAt = Date.now() + this.pollIntervalMs
          more = (await this.holdLease()) && (await this.publishStale())
        }
        failures = 0
      } catch (error) {
        failures++
        // Everything queued is in the table too: read from there, in order, until it is empty.
        this.fromTable = true
        this.queue = []
        const delayMs = Math.min(this.retryMaxMs, RETRY_MIN_MS * 2 ** (failures - 1))
        this.options.logger.warn(
          { err: error, retryInMs: delayMs },
          'outbox relay failed; retrying',
        )
        await this.pause(delayMs)
        continue
      }
      if (!more) await this.pause(Math.max(0, this.nextPollAt - Date.now()))
    }
  }

  /** pause waits for `ms`, or less when stopped or woken. */
  private async pause(ms: number) {
    if (this.stopped) return
    if (this.woken) {
      this.woken = false
      return
    }
    // A timer and a resolver rather than an aborted sleep: the relay is woken for every committed
    // transaction, and each abort would build a DOMException with its stack.
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => this.wakeUp?.(), ms)
      this.wakeUp = () => {
        clearTimeout(timer)
        resolve()
      }
    })
    this.wakeUp = undefined
    this.woken = false
  }

  /** publishQueued publishes the oldest committed events held in memory; true when more wait. */
  private async publishQueued(): Promise<boolean> {
    const batch = this.queue.slice(0, this.batchSize)
    if (batch.length === 0) return false
    await this.publishAll(batch)
    this.queue.splice(0, batch.length)
    this.markPublished(batch)
    return this.queue.length > 0
  }

  /**
   * publishFromTable publishes the oldest events in the table (`stale`: only those older than
   * staleMs, which their own process should have published) and deletes them. When a full read
   * finds nothing left, the relay goes back to publishing from memory.
   */
  private async publishFromTable(stale: boolean): Promise<boolean> {
    const { db } = this.options.database
    const { rows } = await sql<{ position: string | number; envelope: CloudEvent }>`
      select position, envelope from outbox
      ${stale ? sql`where created_at < now() - ${this.staleMs} * interval '1 millisecond'` : sql``}
      order by position
      limit ${this.batchSize}`.execute(db)
    const entries = rows.map((row) => ({ position: String(row.position), event: row.envelope }))
    if (entries.length > 0) {
      await this.publishAll(entries)
      await this.deletePositions(entries.map((entry) => entry.position))
      if (!stale) for (const entry of entries) this.publishedFromTable.add(entry.position)
    }
    if (entries.length === this.batchSize) return true
    if (!stale) {
      this.fromTable = false
      this.queue = this.queue.filter((entry) => !this.publishedFromTable.has(entry.position))
      this.publishedFromTable.clear()
    }
    return !stale && this.queue.length > 0
  }

  /** publishStale publishes what other processes left behind, once its own published rows are gone. */
  private async publishStale(): Promise<boolean> {
    await this.flushDeletes()
    return this.publishFromTable(true)
  }

  /**
   * publishAll publishes events in order with their acks in flight together: they leave on one
   * connection in that order, so the broker stores them in it. All or nothing: a failure throws.
   */
  private async publishAll(entries: readonly OutboxEntry[]) {
    const results = await Promise.allSettled(
      entries.map((entry) =>
        publishSpan(entry.event, this.options.service, () => this.options.bus.publish(entry.event)),
      ),
    )
    const failure = results.find((result) => result.status === 'rejected')
    if (failure) throw failure.reason
  }

  // markPublished has the rows deleted soon, with others: one statement for many events.
  private markPublished(entries: readonly OutboxEntry[]) {
    for (const entry of entries) this.published.push(entry.position)
    if (this.published.length >= this.batchSize) void this.flushDeletes()
    else this.deleteTimer ??= setTimeout(() => void this.flushDeletes(), this.deleteDelayMs)
  }

  private flushDeletes(): Promise<void> {
    clearTimeout(this.deleteTimer)
    this.deleteTimer = undefined
    const positions = this.published.splice(0)
    if (positions.length === 0) return this.deleting
    this.deleting = this.deleting.then(() =>
      this.deletePositions(positions).catch((error: unknown) => {
        // The rows stay, and are published again later: the broker drops the duplicates.
        this.options.logger.warn({ err: error }, 'could not delete published outbox events')
      }),
    )
    return this.deleting
  }

  private async deletePositions(positions: readonly string[]) {
    await sql`delete from outbox where position = any(${positions}::bigint[])`.execute(
      this.options.database.db,
    )
  }

  /** holdLease takes or renews the polling lease, touching the database only a few times per lease. */
  private async holdLease(): Promise<boolean> {
    const now = Date.now()
    if (now < this.leaseRenewAt) return true
    const { rows } = await sql<{ holder: string }>`
      insert into outbox_relay_lease (name, holder, expires_at)
      values (${LEASE_NAME}, ${this.holder}, now() + ${this.leaseMs} * interval '1 millisecond')
      on conflict (name) do update
        set holder = excluded.holder, expires_at = excluded.expires_at
        where outbox_relay_lease.holder = excluded.holder
           or outbox_relay_lease.expires_at < now()
      returning holder`.execute(this.options.database.db)
    const held = rows.length > 0
    if (held) {
      if (this.leaseValidUntil <= now) this.options.logger.info('outbox relay took the lease')
      this.leaseRenewAt = now + this.leaseMs / 3
      this.leaseValidUntil = now + this.leaseMs
    } else {
      this.leaseRenewAt = 0
      this.leaseValidUntil = 0
    }
    return held
  }

  private registerLagGauge() {
    const registry = this.options.metrics?.registry
    if (!registry || registry.getSingleMetric('outbox_lag_seconds')) return
    const { database } = this.options
    this.lagGauge = new Gauge({
      name: 'outbox_lag_seconds',
      help: 'Age in seconds of the oldest outbox event not yet published (0 when none)',
      registers: [registry],
      async collect() {
        this.set(await outboxLagSeconds(database))
      },
    })
    new Gauge({
      name: 'outbox_pending_events',
      help: 'Events in the outbox not yet published',
      registers: [registry],
      async collect() {
        const { rows } = await sql<{ n: number | string }>`
          select count(*) as n from outbox`.execute(database.db)
        this.set(Number(rows[0]?.n ?? 0))
      },
    })
  }
}

/** outboxLagSeconds is the age of the oldest unpublished event, 0 when none: what the gauge reports. */
export async function outboxLagSeconds<DB>(database: Database<DB>): Promise<number> {
  const { rows } = await sql<{ lag: number | string | null }>`
    select extract(epoch from now() - min(created_at)) as lag from outbox`.execute(database.db)
  return Number(rows[0]?.lag ?? 0)
}
