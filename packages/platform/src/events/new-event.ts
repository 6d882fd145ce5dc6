import { randomUUID } from 'node:crypto'
import type { Static, TSchema } from 'typebox'
import type { CloudEvent } from '@microshop/contracts/envelope'
import type { EventDefinition } from '@microshop/contracts/define-event'

export interface NewEventOptions {
  /** source is the producing service, e.g. `/orders`. */
  source: string
  /** subject is the aggregate the event is about (an order id): consumers keep its events in order. */
  subject?: string
  /** traceparent is the W3C trace context of the work that produced the event. */
  traceparent?: string
  id?: string
  time?: Date
}

/**
 * newEvent builds the envelope for a fact, with a fresh UUID and the current time. It checks the
 * payload against the contract first: an event no consumer could accept is a bug to fail on
 * here, not a dead letter in another service.
 */
export function newEvent<Payload extends TSchema>(
  definition: EventDefinition<Payload>,
  data: Static<Payload>,
  options: NewEventOptions,
): CloudEvent<Static<Payload>> {
  if (!definition.check(data)) {
    const problems = definition.errors(data).map((error) => `${error.path} ${error.message}`)
    throw new Error(`Invalid ${definition.type} payload: ${problems.join('; ')}`)
  }
  return {
    specversion: '1.0',
    id: options.id ?? randomUUID(),
    source: options.source,
    type: definition.type,
    time: (options.time ?? new Date()).toISOString(),
    datacontenttype: 'application/json',
    ...(options.subject === undefined ? {} : { subject: options.subject }),
    ...(options.traceparent === undefined ? {} : { traceparent: options.traceparent }),
    data,
  }
}

/** traceIdOf reads the trace id from an event's traceparent, for log lines. */
export function traceIdOf(event: CloudEvent): string | undefined {
  return event.traceparent?.split('-')[1]
}
