import type { TSchema } from 'typebox'
import type { CloudEvent } from '@microshop/contracts/envelope'
import type { Logger } from '../logger.ts'
import type { Delivery, Subscription } from './event-bus.ts'

/**
 * Consumer is one of a service's subscriptions, as its `messaging/<event>.ts` declares it: which
 * event, what to do with it, and how to retry. The service runtime subscribes it under the
 * service's name, the consumer group its replicas share.
 */
export type Consumer<Payload extends TSchema = TSchema> = Omit<Subscription<Payload>, 'service'>

/**
 * EventCause is what a use case needs of the event it handles: who consumes it and its id (for
 * the inbox), the trace to carry on, whether a failure will be retried, and a logger that names
 * the event on every line.
 */
export interface EventCause {
  consumer: string
  eventId: string
  traceparent: string
  /** lastAttempt is true when no redelivery follows a failure of this attempt. */
  lastAttempt: boolean
  logger: Logger
}

/** causeOf reads a delivery as the cause of a use case's work. */
export function causeOf(event: CloudEvent, delivery: Delivery): EventCause {
  return {
    consumer: delivery.consumer,
    eventId: event.id,
    traceparent: delivery.trace.traceparent,
    lastAttempt: delivery.attempt >= delivery.maxDeliver,
    logger: delivery.logger,
  }
}
