import type { Database } from '../db/database.ts'
import type { Logger } from '../logger.ts'
import type { Metrics } from '../metrics.ts'
import { recordDeadLetters } from './dead-letters.ts'
import type { EventBus } from './event-bus.ts'
import { InProcessEventBus, type InProcessBroker } from './in-process-event-bus.ts'
import { NatsEventBus } from './nats-event-bus.ts'

export interface ConnectEventBusOptions<DB> {
  service: string
  /** natsUrl selects NATS JetStream; without it the service joins the process's in-process broker. */
  natsUrl?: string | undefined
  natsNamespace?: string | undefined
  /** broker is the all-in-one process's shared in-process broker. */
  broker?: InProcessBroker | undefined
  /** database keeps the service's dead letters, where an operator looks for them. */
  database: Database<DB>
  logger: Logger
  metrics?: Metrics
}

/**
 * connectEventBus gives a service its event bus: NATS JetStream when NATS_URL is set, else the
 * in-process broker of the all-in-one process. A service running alone with neither cannot
 * exchange events with anyone, so that is a start-up error rather than a silent local bus.
 */
export async function connectEventBus<DB>(options: ConnectEventBusOptions<DB>): Promise<EventBus> {
  const shared = {
    logger: options.logger,
    metrics: options.metrics,
    deadLetters: recordDeadLetters(options.database),
  }
  if (options.natsUrl) {
    return NatsEventBus.connect({
      ...shared,
      servers: options.natsUrl,
      name: options.service,
      namespace: options.natsNamespace,
    })
  }
  if (options.broker) return new InProcessEventBus({ ...shared, broker: options.broker })
  throw new Error(
    `${options.service} needs NATS_URL to exchange events (or to run inside the all-in-one process, \`npm start\`).`,
  )
}
