import { performance } from 'node:perf_hooks'
import type { TSchema } from 'typebox'
import { Compile } from 'typebox/compile'
import { CloudEventSchema, type CloudEvent } from '@microshop/contracts/envelope'
import { isAppError } from '../errors.ts'
import { continueTrace } from '../http/trace-context.ts'
import type { Logger } from '../logger.ts'
import type { EventMetrics } from './event-metrics.ts'
import {
  DEFAULT_BACKOFF_MS,
  DEFAULT_CONCURRENCY,
  DEFAULT_MAX_DELIVER,
  type DeadLetterSink,
  type Subscription,
} from './event-bus.ts'

const envelopeValidator = Compile(CloudEventSchema)

/** ReceivedEvent is a delivery's body, parsed once: the adapters read the subject to keep per-aggregate order. */
export interface ReceivedEvent {
  raw: string
  value: unknown
  parseError?: string
  id?: string
  type?: string
  subject?: string
}

export function readEvent(raw: string): ReceivedEvent {
  let value: unknown
  try {
    value = JSON.parse(raw)
  } catch (error) {
    return { raw, value: undefined, parseError: (error as Error).message }
  }
  const fields = (typeof value === 'object' && value !== null ? value : {}) as Record<
    string,
    unknown
  >
  const text = (key: string) => (typeof fields[key] === 'string' ? fields[key] : undefined)
  return { raw, value, id: text('id'), type: text('type'), subject: text('subject') }
}

/** ResolvedSubscription is a subscription with its defaults filled in and checked. */
export type ResolvedSubscription = Required<Subscription<TSchema>>

export function resolveSubscription<Payload extends TSchema>(
  subscription: Subscription<Payload>,
): ResolvedSubscription {
  const resolved = {
    maxDeliver: DEFAULT_MAX_DELIVER,
    backoffMs: DEFAULT_BACKOFF_MS,
    concurrency: DEFAULT_CONCURRENCY,
    ...subscription,
  } as ResolvedSubscription
  if (!/^[a-z][a-z0-9-]*$/.test(resolved.service)) {
    throw new Error(`service ${resolved.service} must be lowercase letters, digits and dashes`)
  }
  if (!Number.isInteger(resolved.maxDeliver) || resolved.maxDeliver < 1) {
    throw new Error(`maxDeliver must be a positive integer, not ${resolved.maxDeliver}`)
  }
  if (resolved.backoffMs.length === 0 || resolved.backoffMs.some((ms) => !(ms >= 0))) {
    throw new Error('backoffMs needs at least one delay, none negative')
  }
  return resolved
}

/** DeliveryOutcome is what the adapter tells its broker: done, try again later, or never again. */
export type DeliveryOutcome =
  { action: 'ack' } | { action: 'retry'; delayMs: number } | { action: 'term' }

export interface DeliveryContext {
  subscription: ResolvedSubscription
  logger: Logger
  metrics: EventMetrics
  deadLetters: DeadLetterSink | undefined
}

/**
 * handleDelivery is the one consumer policy both adapters share: check the envelope and the
 * payload, run the handler, and decide. A bad event or an AppError of kind `invalid` is parked
 * at once (retrying cannot fix it); any other error is retried with backoff until `maxDeliver`
 * attempts, then parked. Parking writes a dead letter; if that write fails, the event is
 * retried and parked on its next delivery, without running the handler again.
 */
export async function handleDelivery(
  context: DeliveryContext,
  received: ReceivedEvent,
  attempt: number,
): Promise<DeliveryOutcome> {
  const { subscription, metrics } = context
  const consumer = subscription.service
  const eventType = subscription.event.type
  const labels = { type: eventType, consumer }
  const problem = invalidEvent(subscription, received)
  const traceparent = (received.value as Partial<CloudEvent> | null | undefined)?.traceparent
  const trace = continueTrace(typeof traceparent === 'string' ? traceparent : undefined)
  const logger = context.logger.child({
    eventId: received.id,
    eventType,
    traceId: trace.traceId,
    consumer,
    attempt,
  })
  if (attempt > 1) metrics.redelivered.inc(labels)
  if (problem) return park(context, received, attempt, `invalid event: ${problem}`, logger)
  if (attempt > subscription.maxDeliver) {
    return park(context, received, attempt, `gave up after ${attempt - 1} deliveries`, logger)
  }
  const started = performance.now()
  try {
    await subscription.handler(received.value as CloudEvent, {
      attempt,
      maxDeliver: subscription.maxDeliver,
      consumer,
      trace,
      logger,
    })
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error)
    if (isAppError(error) && error.kind === 'invalid') {
      return park(context, received, attempt, `rejected as invalid: ${message}`, logger, error)
    }
    if (attempt >= subscription.maxDeliver) {
      return park(context, received, attempt, `failed ${attempt} times: ${message}`, logger, error)
    }
    const delayMs = backoffAfter(subscription.backoffMs, attempt)
    logger.warn({ err: error, retryInMs: delayMs }, 'event handler failed; will retry')
    return { action: 'retry', delayMs }
  }
  const seconds = (performance.now() - started) / 1000
  metrics.consumed.inc(labels)
  metrics.handlerDuration.observe(labels, seconds)
  logger.info({ durationMs: Math.round(seconds * 10_000) / 10 }, 'event handled')
  return { action: 'ack' }
}

/** backoffAfter is the wait after the attempt-th failure; the last delay repeats. */
export function backoffAfter(backoffMs: readonly number[], attempt: number): number {
  return backoffMs[Math.min(attempt, backoffMs.length) - 1] ?? 0
}

function invalidEvent(subscription: ResolvedSubscription, received: ReceivedEvent) {
  if (received.parseError !== undefined) return `not JSON (${received.parseError})`
  if (!envelopeValidator.Check(received.value)) {
    return describe(
      envelopeValidator
        .Errors(received.value)
        .map((error) => ({ path: error.instancePath || '/', message: error.message })),
    )
  }
  if (received.type !== subscription.event.type) {
    return `type ${received.type} delivered to a consumer of ${subscription.event.type}`
  }
  const data = (received.value as CloudEvent).data
  if (!subscription.event.check(data)) {
    return describe(
      subscription.event.errors(data).map((error) => ({ ...error, path: `/data${error.path}` })),
    )
  }
  return undefined
}

const describe = (errors: { path: string; message: string }[]) =>
  errors
    .slice(0, 5)
    .map((error) => `${error.path} ${error.message}`)
    .join('; ')

async function park(
  context: DeliveryContext,
  received: ReceivedEvent,
  attempt: number,
  reason: string,
  logger: Logger,
  error?: unknown,
): Promise<DeliveryOutcome> {
  const { subscription } = context
  try {
    await context.deadLetters?.({
      consumer: subscription.service,
      eventId: received.id ?? 'unknown',
      eventType: subscription.event.type,
      event: received.raw,
      reason,
      attempts: attempt,
    })
  } catch (sinkError) {
    const delayMs = backoffAfter(subscription.backoffMs, subscription.backoffMs.length)
    logger.error({ err: sinkError, reason }, 'could not record a dead letter; will retry')
    return { action: 'retry', delayMs }
  }
  context.metrics.deadLettered.inc({
    type: subscription.event.type,
    consumer: subscription.service,
  })
  logger.error({ err: error, reason }, 'event dead-lettered')
  return { action: 'term' }
}
