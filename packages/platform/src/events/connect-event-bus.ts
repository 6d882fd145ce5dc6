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
  /** natsStreamReplicas is how many servers of the NATS cluster keep each stream (default 1). */
  natsStreamReplicas?: number | undefined
  /** natsStreamMaxBytes bounds each stream the service makes (JetStream reserves it in its store). */
  natsStreamMaxBytes?: number | undefined
  /** natsStreamMaxAgeSeconds is how long each stream keeps an event. */
  natsStreamMaxAgeSeconds?: number | undefined
  /** broker is the all-in-one process's shared in-process broker. */
  broker?: InProcessBroker | undefined
  /** database keeps the service's dead letters, where an operator looks for them. */
  database: Database<DB>
  logger: Logger
  metrics?: Metrics | undefined
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
      streamLimits: {
        ...(options.natsStreamReplicas === undefined
          ? {}
          : { replicas: options.natsStreamReplicas }),
        ...(options.natsStreamMaxBytes === undefined
          ? {}
          : { maxBytes: options.natsStreamMaxBytes }),
        ...(options.natsStreamMaxAgeSeconds === undefined
          ? {}
          : { maxAgeMs: options.natsStreamMaxAgeSeconds * 1000 }),
      },
    })
  }
  if (options.broker) return new InProcessEventBus({ ...shared, broker: options.broker })
  throw new Error(
    `${options.service} needs NATS_URL to exchange events (or to run inside the all-in-one process, \`npm start\`).`,
  )
}
