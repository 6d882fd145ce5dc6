import { randomUUID } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import { sql, type QueryExecutorProvider } from 'kysely'
import { Gauge } from 'prom-client'
import type { CloudEvent } from '@microshop/contracts/envelope'
import type { Database } from '../db/database.ts'
import type { Logger } from '../logger.ts'
import type { Metrics } from '../metrics.ts'
import type { EventBus } from './event-bus.ts'

/**
 * addToOutbox writes events into the outbox inside the caller's transaction, so they exist if
 * and only if the state change they describe commits. Lock the aggregate's row before adding
 * (update it first): then two transactions on one aggregate add their events in commit order,
 * and the relay publishes them in that order.
 */
// addToOutbox takes any executor (a transaction of any service's database type) because it only
// runs raw SQL on the platform's own table.
export async function addToOutbox(
  trx: QueryExecutorProvider,
  ...events: CloudEvent[]
): Promise<void> {
  if (events.length === 0) return
  const rows = events.map(
    (event) =>
      sql`(${event.id}, ${event.type}, ${event.subject ?? null}, ${JSON.stringify(event)}::jsonb)`,
  )
  await sql`insert into outbox (event_id, event_type, subject, envelope)
            values ${sql.join(rows)}`.execute(trx)
}

export interface OutboxRelayOptions<DB> {
  database: Database<DB>
  bus: Pick<EventBus, 'publish'>
  logger: Logger
  /** metrics gets `outbox_lag_seconds`, the age of the oldest unsent event. */
  metrics?: Pick<Metrics, 'registry'>
  /** batchSize is how many events one round publishes at once and marks sent in one update. */
  batchSize?: number
  /** pollIntervalMs is the safety net behind LISTEN/NOTIFY: the longest an event waits when a notification is lost. */
  pollIntervalMs?: number
  /** leaseMs is how long the publishing replica's lease lasts; another takes over this long after it dies. */
  leaseMs?: number
  /** retryMaxMs caps the backoff while the broker or the database is down. */
  retryMaxMs?: number
  /** keepSentMs is how long sent events stay, for inspection, before pruning. */
  keepSentMs?: number
  pruneIntervalMs?: number
}

/** OutboxRelay publishes a service's outbox until stopped. */
export interface OutboxRelay {
  /** wake has the relay look for events now (a NOTIFY does the same). */
  wake(): void
  /** leading is true while this replica holds the lease and publishes. */
  readonly leading: boolean
  stop(): Promise<void>
}

const LEASE_NAME = 'outbox'
const RETRY_MIN_MS = 50

/**
 * startOutboxRelay publishes the events of a service's outbox, oldest first, and marks them
 * sent in batches. It wakes on the NOTIFY each commit sends (so an event leaves within
 * milliseconds), and polls as a safety net. Among replicas, the one holding the lease in
 * `outbox_relay_lease` publishes, so each row goes out once and in order; others wait to take
 * over. While the broker is down it retries with exponential backoff. A crash between publish
 * and marking sent publishes again on restart: the broker drops the duplicate by its id (and
 * consumers' inboxes catch what the window misses).
 */
export async function startOutboxRelay<DB>(options: OutboxRelayOptions<DB>): Promise<OutboxRelay> {
  const relay = new OutboxRelayLoop(options)
  await relay.start()
  return relay
}

class OutboxRelayLoop<DB> implements OutboxRelay {
  private readonly holder = randomUUID()
  private readonly batchSize: number
  private readonly pollIntervalMs: number
  private readonly leaseMs: number
  private readonly retryMaxMs: number
  private readonly keepSentMs: number
  private readonly pruneIntervalMs: number
  private leaseRenewAt = 0
  private leaseValidUntil = 0
  private nextPruneAt = 0
  private stopped = false
  private wakeRequested = false
  private wakeUp: (() => void) | undefined
  private loop: Promise<void> | undefined
  private unlisten: (() => Promise<void>) | undefined
  private lagGauge: Gauge | undefined

  constructor(private readonly options: OutboxRelayOptions<DB>) {
    this.batchSize = options.batchSize ?? 256
    this.pollIntervalMs = options.pollIntervalMs ?? 1_000
    this.leaseMs = options.leaseMs ?? 5_000
    this.retryMaxMs = options.retryMaxMs ?? 5_000
    this.keepSentMs = options.keepSentMs ?? 3_600_000
    this.pruneIntervalMs = options.pruneIntervalMs ?? 60_000
  }

  async start() {
    this.unlisten = await this.options.database.listen(
      'outbox',
      () => this.wake(),
      (error) => this.options.logger.warn({ err: error }, 'outbox listener failed; polling'),
    )
    this.registerLagGauge()
    this.loop = this.run()
  }

  get leading(): boolean {
    return !this.stopped && Date.now() < this.leaseValidUntil
  }

  wake() {
    this.wakeRequested = true
    this.wakeUp?.()
  }

  async stop() {
    if (this.stopped) return
    this.stopped = true
    this.wakeUp?.()
    await this.loop
    await this.unlisten?.()
    if (this.lagGauge) this.options.metrics?.registry.removeSingleMetric('outbox_lag_seconds')
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
    while (!this.stopped) {
      let more = false
      let leading = false
      try {
        leading = await this.holdLease()
        if (leading) {
          more = await this.publishBatch()
          await this.pruneWhenDue()
        }
        failures = 0
      } catch (error) {
        failures++
        const delayMs = Math.min(this.retryMaxMs, RETRY_MIN_MS * 2 ** (failures - 1))
        this.options.logger.warn(
          { err: error, retryInMs: delayMs },
          'outbox relay failed; retrying',
        )
        await this.pause(delayMs, false)
        continue
      }
      if (more) continue
      // A replica that does not hold the lease ignores notifications: only the leader publishes.
      await this.pause(leading ? this.pollIntervalMs : this.leaseMs / 2, leading)
    }
  }

  /** pause waits for `ms`, or less when stopped, or when woken if `wakeable`. */
  private async pause(ms: number, wakeable: boolean) {
    if (this.stopped) return
    if (wakeable && this.wakeRequested) {
      this.wakeRequested = false
      return
    }
    const controller = new AbortController()
    this.wakeUp = () => {
      if (this.stopped || wakeable) controller.abort()
    }
    await sleep(ms, undefined, { signal: controller.signal }).catch(() => undefined)
    this.wakeUp = undefined
    if (wakeable) this.wakeRequested = false
  }

  /** holdLease takes or renews the publishing lease, touching the database only a few times per lease. */
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

  /** publishBatch publishes the oldest pending events and marks the published ones sent; true when more may wait. */
  private async publishBatch(): Promise<boolean> {
    const { db } = this.options.database
    const { rows } = await sql<{ position: string | number; envelope: CloudEvent }>`
      select position, envelope from outbox
      where sent_at is null
      order by position
      limit ${this.batchSize}`.execute(db)
    if (rows.length === 0) return false
    // Publishes start in position order on one connection, so the broker stores them in order.
    const results = await Promise.allSettled(
      rows.map((row) => this.options.bus.publish(row.envelope)),
    )
    const sent = rows
      .filter((_, i) => results[i]?.status === 'fulfilled')
      .map((row) => row.position)
    if (sent.length > 0) {
      await sql`update outbox set sent_at = now()
                where position = any(${sent.map(String)}::bigint[])`.execute(db)
    }
    const failure = results.find((result) => result.status === 'rejected')
    if (failure) throw failure.reason
    return rows.length === this.batchSize
  }

  private async pruneWhenDue() {
    const now = Date.now()
    if (now < this.nextPruneAt) return
    this.nextPruneAt = now + this.pruneIntervalMs
    const result = await sql`
      delete from outbox where position in (
        select position from outbox
        where sent_at < now() - ${this.keepSentMs} * interval '1 millisecond'
        limit 10000)`.execute(this.options.database.db)
    const pruned = Number(result.numAffectedRows ?? 0)
    if (pruned > 0) this.options.logger.debug({ pruned }, 'pruned sent outbox events')
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
  }
}

/** outboxLagSeconds is the age of the oldest unsent event, 0 when none: what the gauge reports. */
export async function outboxLagSeconds<DB>(database: Database<DB>): Promise<number> {
  const { rows } = await sql<{ lag: number | string }>`
    select extract(epoch from now() - created_at) as lag from outbox
    where sent_at is null order by position limit 1`.execute(database.db)
  return Number(rows[0]?.lag ?? 0)
}
