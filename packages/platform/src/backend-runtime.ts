import { fileURLToPath } from 'node:url'
import { openServiceDatabase, type Database, type ServiceDatabaseSettings } from './db/database.ts'
import { migrate, type MigrationSource } from './db/migrate.ts'
import { createStore, type Executor, type OutboxRecorder, type Store } from './db/store.ts'
import { connectEventBus } from './events/connect-event-bus.ts'
import type { Consumer } from './events/consumer.ts'
import type { EventBus, Subscription } from './events/event-bus.ts'
import { startOutboxRelay, type OutboxRelay } from './events/outbox.ts'
import { platformMigrations } from './events/platform-migrations.ts'
import type { HttpApp } from './http/app.ts'
import {
  runService,
  ServiceRuntime,
  type RunningService,
  type ServiceDeps,
  type ServiceSettings,
} from './service-runtime.ts'

/** BackendSettings are a service's settings with its database and the event bus. */
export interface BackendSettings extends ServiceSettings, Partial<ServiceDatabaseSettings> {
  NATS_URL?: string | undefined
  NATS_NAMESPACE?: string | undefined
  NATS_STREAM_REPLICAS?: number | undefined
  NATS_STREAM_MAX_BYTES?: number | undefined
  NATS_STREAM_MAX_AGE_SECONDS?: number | undefined
}

/**
 * BackendRuntime is the runtime of a service that keeps data and exchanges events (users,
 * catalog, orders, payments): besides what every service runs on, it opens, in the order such a
 * service needs them, its database with migrations, its event bus with the outbox relay and its
 * consumers. Its database closes last, after HTTP, the consumers and the relay.
 */
export class BackendRuntime extends ServiceRuntime<BackendSettings> {
  private relay: OutboxRelay | undefined
  /** subscriptions are the consumers this runtime subscribed, under the service's name. */
  readonly subscriptions: Subscription[] = []

  /**
   * openDatabase opens the service's own database (Postgres at DATABASE_URL, else PGlite in
   * DATA_DIR) and applies its migrations: the folder `migrations` (the service's own), after the
   * platform's outbox, inbox and dead-letter tables when the service exchanges `events`.
   */
  async openDatabase<DB>(options: {
    migrations: URL
    events: boolean
    more?: MigrationSource[]
  }): Promise<Database<DB>> {
    const { DATABASE_URL, DATA_DIR = '.data', DATABASE_POOL_SIZE = 10 } = this.settings
    const database = await openServiceDatabase<DB>(this.service, {
      DATABASE_URL,
      DATA_DIR,
      DATABASE_POOL_SIZE,
    })
    this.onClose(() => database.close())
    this.readiness.database = () => database.ping()
    await migrate(database, [
      ...(options.events ? [platformMigrations] : []),
      { name: this.service, directory: fileURLToPath(options.migrations) },
      ...(options.more ?? []),
    ])
    return database
  }

  /**
   * connectEventBus joins the event bus (NATS JetStream at NATS_URL, else the all-in-one
   * process's broker) and starts the relay that publishes the database's outbox on it.
   */
  async connectEventBus<DB>(database: Database<DB>): Promise<EventBus> {
    const { logger, metrics, settings } = this
    const bus = await connectEventBus({
      service: this.service,
      natsUrl: settings.NATS_URL,
      natsNamespace: settings.NATS_NAMESPACE,
      natsStreamReplicas: settings.NATS_STREAM_REPLICAS,
      natsStreamMaxBytes: settings.NATS_STREAM_MAX_BYTES,
      natsStreamMaxAgeSeconds: settings.NATS_STREAM_MAX_AGE_SECONDS,
      broker: this.deps.broker,
      database,
      logger,
      metrics,
    })
    this.onClose(() => bus.close())
    this.readiness.bus = () => bus.ping()
    // The relay stops before the bus it publishes on; what consumers add meanwhile waits in the outbox.
    const relay = await startOutboxRelay({ database, bus, logger, metrics, service: this.service })
    this.onClose(() => relay.stop())
    this.relay = relay
    return bus
  }

  /**
   * createStore gives the use cases their Store (platform/db/store.ts) over the service's
   * database; with an event bus connected, what a transaction adds to the outbox is handed to
   * the relay as it commits, and published at once.
   */
  createStore<DB, Repositories extends object>(
    database: Database<DB>,
    repositories: (db: Executor<DB>, outbox: OutboxRecorder) => Repositories,
  ): Store<Repositories> {
    const relay = this.relay
    return createStore(
      database,
      repositories,
      relay ? { committed: (e) => relay.committed(e) } : {},
    )
  }

  /** subscribe starts the service's consumers, as one consumer group its replicas share. */
  async subscribe(bus: EventBus, consumers: Consumer[]): Promise<void> {
    const subscriptions = consumers.map((consumer) => ({ ...consumer, service: this.service }))
    this.subscriptions.push(...subscriptions)
    await Promise.all(subscriptions.map((subscription) => bus.subscribe(subscription)))
  }
}

/**
 * startBackendService runs `start` on a new BackendRuntime and then listens on HOST:PORT, as
 * startService does for a service without a database.
 */
export function startBackendService<Started extends { app: HttpApp }>(
  service: string,
  settings: BackendSettings,
  deps: ServiceDeps,
  start: (runtime: BackendRuntime) => Promise<Started>,
): Promise<Started & RunningService> {
  return runService(new BackendRuntime(service, settings, deps), settings, start)
}
