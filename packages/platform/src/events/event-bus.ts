import type { Static, TSchema } from 'typebox'
import type { CloudEvent } from '@microshop/contracts/envelope'
import type { EventDefinition } from '@microshop/contracts/define-event'
import type { TraceContext } from '../trace-context.ts'
import type { Logger } from '../logger.ts'
import type { Metrics } from '../metrics.ts'

/**
 * EventBus is how services exchange events, whatever carries them (NATS JetStream, or the
 * in-process bus of the all-in-one mode). Delivery is at least once per subscribing service:
 * handlers must be idempotent (see inbox.ts), and an event that keeps failing is parked as a
 * dead letter instead of being retried forever.
 */
export interface EventBus {
  /** publish resolves once the broker has durably accepted the event; an event id seen again within the de-duplication window is dropped. */
  publish(event: CloudEvent): Promise<void>
  /** subscribe starts delivering events of one type to a service's consumer group. */
  subscribe<Payload extends TSchema>(subscription: Subscription<Payload>): Promise<void>
  /** ping resolves when the broker answers: the readiness check. */
  ping(): Promise<void>
  /** checkpoint marks how far the streams this service consumes reach now (see caughtUp). */
  checkpoint(): Promise<Checkpoint>
  /**
   * caughtUp tells whether this service's consumers have finished every event published before
   * the checkpoint: handled, or parked. A deadline that passed before `checkpoint.at` then beats
   * no answer still waiting in a queue.
   */
  caughtUp(checkpoint: Checkpoint): Promise<boolean>
  /** close stops taking new deliveries, waits for the handlers in flight, then disconnects. */
  close(): Promise<void>
}

/** Checkpoint is where a service's streams stood at `at`: a position per stream. */
export interface Checkpoint {
  at: Date
  positions: Record<string, number>
}

/**
 * Subscription names who handles which event. Replicas of one service subscribe with the same
 * `service`, and share the work: each event is handled once per service, not once per replica.
 */
export interface Subscription<Payload extends TSchema = TSchema> {
  /** service is the consumer group (the durable consumer's name starts with it). */
  service: string
  event: EventDefinition<Payload>
  /**
   * handler does the work for one event; it throws to have the event retried (or parked, for
   * AppError kind `invalid`). A method, not a function property, so that subscriptions to
   * different events make one list, `Subscription[]`.
   */
  handler(event: CloudEvent<Static<Payload>>, delivery: Delivery): Promise<void>
  /** maxDeliver is how many times the handler may run for one event before it is dead-lettered. */
  maxDeliver?: number
  /** backoffMs[n - 1] is the wait after the n-th failed attempt; the last entry repeats. */
  backoffMs?: readonly number[]
  /** concurrency bounds the handlers running at once per replica; events with the same subject (aggregate) never run at once. */
  concurrency?: number
}

/** Delivery tells a handler which attempt this is and carries the event's trace onward. */
export interface Delivery {
  /** attempt is 1 on the first delivery. */
  attempt: number
  maxDeliver: number
  /** consumer is the subscribing service. */
  consumer: string
  /** trace continues the event's trace with a new span: pass `trace.traceparent` to the events this work produces. */
  trace: TraceContext
  /** logger carries the event id, type, trace id and consumer on every line. */
  logger: Logger
}

/** DeadLetter is an event a consumer gave up on, kept as it was received. */
export interface DeadLetter {
  consumer: string
  eventId: string
  eventType: string
  /** event is the envelope as received: it may not even be valid JSON. */
  event: string
  reason: string
  attempts: number
}

/** DeadLetterSink keeps dead letters where people look (see dead-letters.ts); a failure has the event retried. */
export type DeadLetterSink = (letter: DeadLetter) => Promise<void>

/** EventBusOptions is what both adapters take: where a service logs, counts and parks. */
export interface EventBusOptions {
  logger: Logger
  metrics?: Pick<Metrics, 'registry'> | undefined
  deadLetters?: DeadLetterSink | undefined
}

export const DEFAULT_MAX_DELIVER = 5
export const DEFAULT_BACKOFF_MS: readonly number[] = [100, 500, 2_000, 5_000]
export const DEFAULT_CONCURRENCY = 8
