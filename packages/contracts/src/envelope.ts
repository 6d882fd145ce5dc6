import Type from 'typebox'

/**
 * CloudEvent is the CloudEvents 1.0 JSON envelope every event travels in. `subject` names the
 * aggregate the event is about (an order id, a product id): consumers keep events with the same
 * subject in order. `traceparent` is the CloudEvents distributed-tracing extension attribute
 * (W3C trace context), so a trace follows the event across services.
 */
export interface CloudEvent<Data = unknown> {
  specversion: '1.0'
  id: string
  source: string
  type: string
  time: string
  datacontenttype: 'application/json'
  subject?: string
  traceparent?: string
  data: Data
}

export const TRACEPARENT_PATTERN = '^00-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$'

/** CloudEventSchema checks the envelope; each event's definition checks its `data`. */
export const CloudEventSchema = Type.Object({
  specversion: Type.Literal('1.0'),
  id: Type.String({ format: 'uuid', description: 'Unique per event; the de-duplication key.' }),
  source: Type.String({ minLength: 1, description: 'The producing service, e.g. /orders.' }),
  type: Type.String({ minLength: 1, description: 'The event type with its version.' }),
  time: Type.String({ format: 'date-time', description: 'When the fact happened (UTC).' }),
  datacontenttype: Type.Literal('application/json'),
  subject: Type.Optional(
    Type.String({ minLength: 1, description: 'The aggregate id; events per subject keep order.' }),
  ),
  traceparent: Type.Optional(
    Type.String({ pattern: TRACEPARENT_PATTERN, description: 'W3C trace context.' }),
  ),
  data: Type.Unknown(),
})
