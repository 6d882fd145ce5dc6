import { fileURLToPath } from 'node:url'
import { openServiceDatabase, type Database, type ServiceDatabaseSettings } from './db/database.ts'
import { migrate, type MigrationSource } from './db/migrate.ts'
import { createStore, type Executor, type OutboxRecorder, type Store } from './db/store.ts'
import { connectEventBus } from './events/connect-event-bus.ts'
import type { Consumer } from './events/consumer.ts'
import type { EventBus, Subscription } from './events/event-bus.ts'
import type { InProcessBroker } from './events/in-process-event-bus.ts'
import { startOutboxRelay, type OutboxRelay } from './events/outbox.ts'
import { platformMigrations } from './events/platform-migrations.ts'
import { trustedProxies } from './config.ts'
import { createHttpApp, type HttpApp, type HttpAppOptions } from './http/app.ts'
import { registerHealthRoutes, type ReadinessCheck } from './http/health.ts'
import { startMetricsListener, type MetricsListener } from './http/metrics-listener.ts'
import { startPeriodicJob, type PeriodicJobOptions } from './jobs/periodic-job.ts'
import { createLogger, type Logger } from './logger.ts'
import { createMetrics, type Metrics } from './metrics.ts'
import { ensureTelemetry, registerServicePort, withService } from './telemetry.ts'

/** ServiceSettings are the settings of serviceEnv that the runtime reads. */
export interface ServiceSettings extends Partial<ServiceDatabaseSettings> {
  HOST: string
  PORT: number
  LOG_LEVEL: string
  NATS_URL?: string | undefined
  NATS_NAMESPACE?: string | undefined
  NATS_STREAM_REPLICAS?: number | undefined
  NATS_STREAM_MAX_BYTES?: number | undefined
  NATS_STREAM_MAX_AGE_SECONDS?: number | undefined
  METRICS_PORT?: number | undefined
  REQUEST_TIMEOUT_MS?: number | undefined
  BODY_LIMIT_BYTES?: number | undefined
  TRUST_PROXY?: string | undefined
  PUBLIC_BASE_PATH?: string | undefined
}

/**
 * ServiceDeps are what a caller may hand a service instead of letting it make its own: the
 * all-in-one process's in-process broker, a shared logger or metrics registry, a test's clock.
 */
export interface ServiceDeps {
  logger?: Logger
  metrics?: Metrics
  /** broker is the all-in-one process's in-process broker, used when NATS_URL is not set. */
  broker?: InProcessBroker
  /** now is the clock of the use cases and jobs; tests move it. */
  now?: () => Date
  /**
   * processMetrics is false for a service sharing its process with another that reports the
   * process's CPU, memory and event loop (the embedded mode: the gateway).
   */
  processMetrics?: boolean
}

/**
 * ServiceRuntime opens what a service runs on, in the order a service needs it: its database
 * with migrations, its event bus with the outbox relay, its consumers, its periodic jobs and
 * its HTTP app with health. Each thing it opens registers its closer; `close()` runs them once,
 * in reverse, so HTTP stops first and the database closes last.
 */
export class ServiceRuntime {
  readonly logger: Logger
  readonly metrics: Metrics
  readonly now: () => Date
  private readonly closers: (() => Promise<void>)[] = []
  private readonly readiness: Record<string, ReadinessCheck> = {}
  private relay: OutboxRelay | undefined
  /** subscriptions are the consumers this runtime subscribed, under the service's name. */
  readonly subscriptions: Subscription[] = []
  private closing: Promise<void> | undefined
  /** metricsListener is the port of its own that serves /metrics, when METRICS_PORT is set. */
  metricsListener: MetricsListener | undefined

  constructor(
    readonly service: string,
    private readonly settings: ServiceSettings,
    private readonly deps: ServiceDeps = {},
  ) {
    ensureTelemetry(service)
    this.logger = deps.logger ?? createLogger({ service, level: settings.LOG_LEVEL })
    this.metrics =
      deps.metrics ?? createMetrics(service, { processMetrics: deps.processMetrics ?? true })
    this.now = deps.now ?? (() => new Date())
  }

  /** onClose registers something to close when the service closes, before what was opened earlier. */
  onClose(closer: () => Promise<void>): void {
    this.closers.push(closer)
  }

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
    const { logger, metrics } = this
    const bus = await connectEventBus({
      service: this.service,
      natsUrl: this.settings.NATS_URL,
      natsNamespace: this.settings.NATS_NAMESPACE,
      natsStreamReplicas: this.settings.NATS_STREAM_REPLICAS,
      natsStreamMaxBytes: this.settings.NATS_STREAM_MAX_BYTES,
      natsStreamMaxAgeSeconds: this.settings.NATS_STREAM_MAX_AGE_SECONDS,
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

  /** startJob runs a periodic job (a sweeper, a reconciler, a pruner) until the service closes. */
  startJob(options: Omit<PeriodicJobOptions, 'logger'>): void {
    const job = startPeriodicJob({
      ...options,
      run: () => withService(this.service, options.run),
      logger: this.logger,
    })
    this.onClose(() => job.stop())
  }

  /**
   * createHttpApp builds the service's HTTP app (see platform/http/app.ts) from the settings
   * every service shares (request deadline, body limit, trusted proxies, public base path), with
   * its health routes: ready when the database and the bus this runtime opened answer, and
   * `readiness`. With METRICS_PORT, /metrics is served there instead; a public app
   * (`servesPublic`: the gateway) serves it nowhere else.
   */
  async createHttpApp(
    options: Omit<HttpAppOptions, 'service' | 'logger' | 'metrics' | 'serveMetrics'> & {
      readiness?: Record<string, ReadinessCheck>
      servesPublic?: boolean
    },
  ): Promise<HttpApp> {
    const { readiness, servesPublic = false, ...appOptions } = options
    const { METRICS_PORT, REQUEST_TIMEOUT_MS, BODY_LIMIT_BYTES, TRUST_PROXY, PUBLIC_BASE_PATH } =
      this.settings
    if (METRICS_PORT !== undefined) {
      this.metricsListener = await startMetricsListener({
        host: this.settings.HOST,
        port: METRICS_PORT,
        metrics: this.metrics,
      })
      const listener = this.metricsListener
      this.onClose(() => listener.close())
    }
    const app = await createHttpApp({
      ...(REQUEST_TIMEOUT_MS === undefined ? {} : { requestTimeoutMs: REQUEST_TIMEOUT_MS }),
      ...(BODY_LIMIT_BYTES === undefined ? {} : { bodyLimitBytes: BODY_LIMIT_BYTES }),
      ...(TRUST_PROXY === undefined ? {} : { trustProxy: trustedProxies(TRUST_PROXY) ?? false }),
      ...(PUBLIC_BASE_PATH === undefined || PUBLIC_BASE_PATH === '/'
        ? {}
        : { publicBasePath: PUBLIC_BASE_PATH }),
      ...appOptions,
      serveMetrics: METRICS_PORT === undefined && !servesPublic,
      service: this.service,
      logger: this.logger,
      metrics: this.metrics,
    })
    this.onClose(() => app.close())
    registerHealthRoutes(app, { ...this.readiness, ...readiness })
    return app
  }

  /** close runs every closer once, the last opened first; a failing one does not stop the rest. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      const failures: unknown[] = []
      for (const closer of this.closers.reverse()) {
        await closer().catch((error: unknown) => failures.push(error))
      }
      if (failures.length > 0) throw new AggregateError(failures, `closing ${this.service} failed`)
    })()
    return this.closing
  }
}

/** RunningService is a started service: its HTTP app, and close(). */
export interface RunningService {
  app: HttpApp
  close(): Promise<void>
}

/**
 * startService runs `start` on a new runtime and then listens on HOST:PORT. If anything fails
 * on the way, what was opened is closed again and the error thrown.
 */
export async function startService<Started extends { app: HttpApp }>(
  service: string,
  settings: ServiceSettings,
  deps: ServiceDeps,
  start: (runtime: ServiceRuntime) => Promise<Started>,
): Promise<Started & RunningService> {
  const runtime = new ServiceRuntime(service, settings, deps)
  try {
    const started = await start(runtime)
    await started.app.listen({ host: settings.HOST, port: settings.PORT })
    const address = started.app.server.address()
    if (address && typeof address === 'object') registerServicePort(service, address.port)
    return { ...started, close: () => runtime.close() }
  } catch (error) {
    await runtime.close().catch(() => undefined)
    throw error
  }
}
