import { randomUUID } from 'node:crypto'
import type { Static, TSchema } from 'typebox'
import type { CloudEvent } from '@microshop/contracts/envelope'
import type { EventDefinition } from '@microshop/contracts/define-event'
import { createEventSpan } from './event-spans.ts'

export interface NewEventOptions {
  /** subject is the aggregate the event is about (an order id): consumers keep its events in order. */
  subject?: string | undefined
  /**
   * traceparent is the W3C trace context of the work that produced the event, when it is not the
   * work running now: the event's `create` span joins that trace, and the envelope carries it.
   */
  traceparent?: string | undefined
  id?: string
  time?: Date
}

/**
 * newEvent builds the envelope for a fact, with a fresh UUID and the current time; its `source`
 * is the event's producer (`/orders` for `orders.order.placed.v1`). It checks the
 * payload against the contract first: an event no consumer could accept is a bug to fail on
 * here, not a dead letter in another service. Its `traceparent` is the context of its `create`
 * span (events/event-spans.ts).
 */
export function newEvent<Payload extends TSchema>(
  definition: EventDefinition<Payload>,
  data: Static<Payload>,
  options: NewEventOptions = {},
): CloudEvent<Static<Payload>> {
  if (!definition.check(data)) {
    const problems = definition.errors(data).map((error) => `${error.path} ${error.message}`)
    throw new Error(`Invalid ${definition.type} payload: ${problems.join('; ')}`)
  }
  const id = options.id ?? randomUUID()
  const traceparent = createEventSpan(definition.type, id, options.traceparent)
  return {
    specversion: '1.0',
    id,
    source: `/${definition.producer}`,
    type: definition.type,
    time: (options.time ?? new Date()).toISOString(),
    datacontenttype: 'application/json',
    ...(options.subject === undefined ? {} : { subject: options.subject }),
    ...(traceparent ? { traceparent } : {}),
    data,
  }
}
