import { randomUUID } from 'node:crypto'
import type { EventCause } from '../events/consumer.ts'
import { createLogger } from '../logger.ts'
import { newTrace } from '../trace-context.ts'

/**
 * eventCauseForTest is the cause of a use case as a consumer would hand it over: a fresh event
 * id each time (so the inbox never hides a second call), a trace, and a silent logger.
 */
export function eventCauseForTest(overrides: Partial<EventCause> = {}): EventCause {
  return {
    consumer: 'test',
    eventId: randomUUID(),
    traceparent: newTrace('test').traceparent,
    lastAttempt: false,
    logger: createLogger({ service: 'test', level: 'silent' }),
    ...overrides,
  }
}
