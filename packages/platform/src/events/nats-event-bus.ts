import { setTimeout as sleep } from 'node:timers/promises'
import type { TSchema } from 'typebox'
import {
  connect,
  headers as natsHeaders,
  nanos,
  type NatsConnection,
} from '@nats-io/transport-node'
import {
  AckPolicy,
  DeliverPolicy,
  DiscardPolicy,
  JetStreamApiCodes,
  JetStreamApiError,
  jetstream,
  jetstreamManager,
  ReplayPolicy,
  RetentionPolicy,
  StorageType,
  type ConsumerConfig,
  type ConsumerMessages,
  type JetStreamClient,
  type JetStreamManager,
  type JsMsg,
  type StreamConfig,
} from '@nats-io/jetstream'
import { producers as contractProducers } from '@microshop/contracts/all-events'
import type { CloudEvent } from '@microshop/contracts/envelope'
import type { Logger } from '../logger.ts'
import { eventMetrics, type EventMetrics } from './event-metrics.ts'
import type {
  Checkpoint,
  DeadLetter,
  DeadLetterSink,
  EventBus,
  EventBusOptions,
  Subscription,
} from './event-bus.ts'
import {
  handleDelivery,
  readEvent,
  resolveSubscription,
  type DeliveryContext,
  type ResolvedSubscription,
} from './handle-delivery.ts'
import { whileClusterBusy, type SetUpStep } from './jetstream-set-up.ts'
import { KeyedWorkQueue } from './keyed-work-queue.ts'

/** StreamLimits bound each producer's stream: JetStream keeps events until the first limit is hit. */
export interface StreamLimits {
  maxAgeMs: number
  maxBytes: number
  maxMessageBytes: number
  /** duplicateWindowMs is how long JetStream remembers a Nats-Msg-Id to drop a republish. */
  duplicateWindowMs: number
  replicas: number
}

export const DEFAULT_STREAM_LIMITS: StreamLimits = {
  maxAgeMs: 7 * 24 * 3_600_000,
  maxBytes: 1024 ** 3,
  maxMessageBytes: 1024 ** 2,
  duplicateWindowMs: 120_000,
  replicas: 1,
}

export interface NatsEventBusOptions extends EventBusOptions {
  servers: string | string[]
  /** name is the connection's name on the server, e.g. `orders`. */
  name?: string
  /** namespace prefixes streams and subjects, so tests can share a server; production leaves it empty. */
  namespace?: string | undefined
  /** producers whose streams are created or updated at start-up: every producer of the contract by default. */
  producers?: readonly string[]
  streamLimits?: Partial<StreamLimits>
  /** ackWaitMs is how long the broker waits for an ack before redelivering; handlers in progress extend it. */
  ackWaitMs?: number
  publishTimeoutMs?: number
  reconnectWaitMs?: number
}

/** NatsNames are the broker names a namespace gives; the empty namespace is production's. */
export class NatsNames {
  private readonly subjectPrefix: string
  private readonly streamPrefix: string

  constructor(readonly namespace = '') {
    if (!/^[a-z0-9_-]*$/.test(namespace)) {
      throw new Error(`namespace ${namespace} must be lowercase letters, digits, _ and -`)
    }
    this.subjectPrefix = namespace ? `${namespace}.` : ''
    this.streamPrefix = namespace ? `${namespace.toUpperCase()}_` : ''
  }

  /** subject is where an event type is published: the type itself. */
  subject(eventType: string): string {
    return this.subjectPrefix + eventType
  }

  /** stream is a producer's stream, e.g. ORDERS holding `orders.>`. */
  stream(producer: string): string {
    return this.streamPrefix + producer.toUpperCase()
  }

  streamSubjects(producer: string): string[] {
    return [`${this.subjectPrefix}${producer}.>`]
  }

  /** consumer is the durable consumer of one service for one event type, e.g. catalog__orders_order_placed_v1. */
  consumer(service: string, eventType: string): string {
    return `${service}__${eventType.replace(/[^A-Za-z0-9_-]/g, '_')}`
  }

  get deadLetterStream(): string {
    return `${this.streamPrefix}DEADLETTER`
  }

  deadLetterSubject(service: string, eventType: string): string {
    return `${this.subjectPrefix}deadletter.${service}.${eventType}`
  }
}

// DEAD_LETTER_DELIVERIES are the deliveries the broker allows past a subscription's maxDeliver,
// so a dead letter that could not be recorded is tried again instead of silently dropped, and
// deliveries lost with a stopped or crashed process (which the broker counts) still leave the
// handler its last attempt (handleDelivery).
const DEAD_LETTER_DELIVERIES = 3

interface RunningSubscription {
  subscription: ResolvedSubscription
  stream: string
  consumer: string
  context: DeliveryContext
  work: KeyedWorkQueue
  messages?: ConsumerMessages
  loop: Promise<void>
}

/**
 * NatsEventBus carries events on NATS JetStream. Each producer owns a stream (file storage,
 * explicit limits, a de-duplication window) created or updated at connect; publish sets
 * `Nats-Msg-Id` to the event id, so a republish inside the window is dropped. Each (service,
 * event type) has a durable pull consumer, shared by the service's replicas, with explicit acks:
 * the ack goes after the handler's work, a transient failure is nak'ed with a delay, a permanent
 * one is term'ed after its dead letter is recorded (in the service's sink and the DEADLETTER
 * stream). Consume loops recover from lost consumers; the connection reconnects forever; close
 * drains.
 */
export class NatsEventBus implements EventBus {
  readonly names: NatsNames
  private readonly js: JetStreamClient
  private readonly logger: Logger
  private readonly metrics: EventMetrics
  private readonly limits: StreamLimits
  private readonly ackWaitMs: number
  private readonly publishTimeoutMs: number
  private readonly deadLetters: DeadLetterSink
  private readonly streams = new Map<string, Promise<void>>()
  private readonly running: RunningSubscription[] = []
  private readonly statusLoop: Promise<void>
  private closing: Promise<void> | undefined
  private readonly stopping = new AbortController()

  static async connect(options: NatsEventBusOptions): Promise<NatsEventBus> {
    const nc = await connect({
      servers: options.servers,
      ...(options.name === undefined ? {} : { name: options.name }),
      maxReconnectAttempts: -1,
      reconnectTimeWait: options.reconnectWaitMs ?? 250,
      reconnectJitter: 100,
      // Otherwise every request (each JetStream publish waits for its ack by one) builds an Error
      // up front for its stack, in case it times out: ~2% of a busy service's CPU. The errors
      // still say what failed; the bus's logs say where.
      noAsyncTraces: true,
    })
    try {
      const bus = new NatsEventBus(nc, await jetstreamManager(nc), options)
      const producers = options.producers ?? contractProducers
      await Promise.all([
        ...producers.map((producer) => bus.ensureStream(producer)),
        bus.ensureDeadLetterStream(),
      ])
      return bus
    } catch (error) {
      await nc.close()
      throw error
    }
  }

  private constructor(
    private readonly nc: NatsConnection,
    private readonly jsm: JetStreamManager,
    options: NatsEventBusOptions,
  ) {
    this.names = new NatsNames(options.namespace)
    this.js = jetstream(nc)
    this.logger = options.logger
    this.metrics = eventMetrics(options.metrics?.registry)
    this.limits = { ...DEFAULT_STREAM_LIMITS, ...options.streamLimits }
    this.ackWaitMs = options.ackWaitMs ?? 10_000
    this.publishTimeoutMs = options.publishTimeoutMs ?? 5_000
    const serviceSink = options.deadLetters
    this.deadLetters = async (letter) => {
      await serviceSink?.(letter)
      await this.publishDeadLetter(letter)
    }
    this.statusLoop = this.watchConnection()
  }

  async publish(event: CloudEvent): Promise<void> {
    const producer = event.type.split('.')[0] ?? ''
    await this.ensureStream(producer)
    const headers = natsHeaders()
    if (event.traceparent) headers.set('traceparent', event.traceparent)
    const ack = await this.js.publish(this.names.subject(event.type), JSON.stringify(event), {
      msgID: event.id,
      headers,
      timeout: this.publishTimeoutMs,
    })
    const line = { eventId: event.id, eventType: event.type }
    if (ack.duplicate) return this.logger.debug(line, 'duplicate event dropped by the broker')
    this.metrics.published.inc({ type: event.type })
    this.logger.info({ ...line, stream: ack.stream, seq: ack.seq }, 'event published')
  }

  async subscribe<Payload extends TSchema>(subscription: Subscription<Payload>): Promise<void> {
    if (this.closing) throw new Error('The event bus is closed')
    const resolved = resolveSubscription(subscription)
    const running: RunningSubscription = {
      subscription: resolved,
      stream: this.names.stream(resolved.event.producer),
      consumer: this.names.consumer(resolved.service, resolved.event.type),
      context: {
        subscription: resolved,
        logger: this.logger,
        metrics: this.metrics,
        deadLetters: this.deadLetters,
        stopping: this.stopping.signal,
      },
      work: new KeyedWorkQueue(resolved.concurrency),
      loop: Promise.resolve(),
    }
    await this.ensureConsumer(running)
    this.running.push(running)
    running.loop = this.consumeLoop(running)
  }

  async ping(): Promise<void> {
    await this.jsm.getAccountInfo()
  }

  async checkpoint(): Promise<Checkpoint> {
    const at = new Date()
    const streams = [...new Set(this.running.map((running) => running.stream))]
    const infos = await Promise.all(streams.map((stream) => this.jsm.streams.info(stream)))
    return {
      at,
      positions: Object.fromEntries(
        streams.map((stream, i) => [stream, infos[i]?.state.last_seq ?? 0]),
      ),
    }
  }

  // caughtUp reads each consumer's state: past the checkpoint when every message up to its
  // stream position is acked (the ack floor reached it), or when nothing delivered is unacked
  // and delivery went past it (what is left to deliver comes later in the stream).
  async caughtUp(checkpoint: Checkpoint): Promise<boolean> {
    const states = await Promise.all(
      this.running.map(async (running) => ({
        position: checkpoint.positions[running.stream] ?? 0,
        info: await this.jsm.consumers.info(running.stream, running.consumer),
      })),
    )
    return states.every(
      ({ position, info }) =>
        info.ack_floor.stream_seq >= position ||
        (info.num_ack_pending === 0 &&
          (info.num_pending === 0 || info.delivered.stream_seq >= position)),
    )
  }

  async close(): Promise<void> {
    this.closing ??= (async () => {
      this.stopping.abort()
      // Closing the iterators stops pulling; the messages already pulled are still handled.
      for (const running of this.running) void running.messages?.close()
      await Promise.all(this.running.map((running) => running.loop))
      await this.nc.drain()
      await this.statusLoop
    })()
    return this.closing
  }

  /** ensureStream creates or updates a producer's stream, once per bus (again after a failure). */
  ensureStream(producer: string): Promise<void> {
    let ensured = this.streams.get(producer)
    if (!ensured) {
      ensured = this.upsertStream({
        name: this.names.stream(producer),
        subjects: this.names.streamSubjects(producer),
        description: `Events produced by ${producer}`,
      })
      ensured.catch(() => this.streams.delete(producer))
      this.streams.set(producer, ensured)
    }
    return ensured
  }

  private ensureDeadLetterStream(): Promise<void> {
    return this.upsertStream({
      name: this.names.deadLetterStream,
      subjects: [this.names.deadLetterSubject('*', '>')],
      description: 'Events consumers gave up on, with the reason in headers',
    })
  }

  private async upsertStream(identity: Pick<StreamConfig, 'name' | 'subjects' | 'description'>) {
    const config: Partial<StreamConfig> & { name: string } = {
      ...identity,
      storage: StorageType.File,
      retention: RetentionPolicy.Limits,
      discard: DiscardPolicy.Old,
      max_age: nanos(this.limits.maxAgeMs),
      max_bytes: this.limits.maxBytes,
      max_msg_size: this.limits.maxMessageBytes,
      max_msgs: -1,
      duplicate_window: nanos(this.limits.duplicateWindowMs),
      num_replicas: this.limits.replicas,
    }
    await whileClusterBusy(this.setUpStep(`stream ${identity.name}`), async (call) => {
      let current: Partial<StreamConfig>
      try {
        current = (await this.jsm.streams.info(identity.name)).config
      } catch (error) {
        if (!isApiError(error, JetStreamApiCodes.StreamNotFound)) throw error
        call('add')
        await this.jsm.streams.add(config)
        return
      }
      // A stream that already has these settings is left as it is: an update is a proposal to
      // the cluster's meta group, which every start of every replica would otherwise make again
      // for every stream, all at once when a deployment starts.
      if (hasSettings(current, config)) return
      call('update')
      await this.jsm.streams.update(identity.name, config)
    })
  }

  private setUpStep(what: string): SetUpStep {
    return {
      what,
      replicas: this.limits.replicas,
      logger: this.logger,
      server: () => this.nc.info?.server_name,
    }
  }

  private async ensureConsumer(running: RunningSubscription): Promise<void> {
    const { subscription, stream, consumer } = running
    await this.ensureStream(subscription.event.producer)
    const maxDeliver = subscription.maxDeliver + DEAD_LETTER_DELIVERIES
    // Backoff is the nak delay of each failed attempt, not the consumer's `backoff` list: with
    // one, nats-server 2.9 ignores the nak delay from the second redelivery on. Redelivery after
    // an ack timeout (a crashed replica) comes after ack_wait.
    const config: Partial<ConsumerConfig> = {
      durable_name: consumer,
      description: `${subscription.service} handles ${subscription.event.type}`,
      filter_subject: this.names.subject(subscription.event.type),
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.All,
      replay_policy: ReplayPolicy.Instant,
      ack_wait: nanos(this.ackWaitMs),
      max_deliver: maxDeliver,
      max_ack_pending: 1_000,
    }
    const { ack_wait, max_deliver, max_ack_pending, description } = config
    const setUp = { ...this.setUpStep(`consumer ${consumer}`), streamEnsured: true }
    await whileClusterBusy(setUp, async (call) => {
      try {
        await this.jsm.consumers.info(stream, consumer)
      } catch (error) {
        if (!isApiError(error, JetStreamApiCodes.ConsumerNotFound)) throw error
        call('add')
        await this.jsm.consumers.add(stream, config)
        return
      }
      call('update')
      await this.jsm.consumers.update(stream, consumer, {
        ...(ack_wait === undefined ? {} : { ack_wait }),
        ...(max_deliver === undefined ? {} : { max_deliver }),
        ...(max_ack_pending === undefined ? {} : { max_ack_pending }),
        ...(description === undefined ? {} : { description }),
      })
    })
  }

  /** consumeLoop pulls and handles messages until the bus closes, starting over when consuming fails. */
  private async consumeLoop(running: RunningSubscription): Promise<void> {
    const batch = Math.max(4, running.subscription.concurrency * 4)
    while (!this.closing) {
      try {
        const consumer = await this.js.consumers.get(running.stream, running.consumer)
        const messages = await consumer.consume({ max_messages: batch })
        running.messages = messages
        if (this.closing) void messages.close()
        void this.watchConsumer(running, messages)
        for await (const msg of messages) {
          await running.work.whenCapacity()
          this.handle(running, msg)
        }
        const error = await messages.closed()
        if (error && !this.closing) throw error
      } catch (error) {
        if (this.closing) break
        this.logger.warn(
          { err: error, consumer: running.consumer, stream: running.stream },
          'consuming failed; starting over',
        )
        await sleep(1_000)
        await this.ensureConsumer(running).catch(() => undefined)
      }
    }
    await running.work.whenIdle()
  }

  private handle(running: RunningSubscription, msg: JsMsg) {
    const received = readEvent(msg.string())
    received.id ??= msg.headers?.get('Nats-Msg-Id') || undefined
    // A message waiting behind others counts against the ack wait: keep telling the broker.
    const progress = setInterval(() => msg.working(), this.ackWaitMs / 2)
    running.work.push(received.subject, async () => {
      try {
        const outcome = await handleDelivery(running.context, received, msg.info.deliveryCount)
        if (outcome.action === 'ack') msg.ack()
        else if (outcome.action === 'retry') msg.nak(outcome.delayMs)
        else msg.term()
      } catch (error) {
        this.logger.error({ err: error, consumer: running.consumer }, 'delivery failed')
        msg.nak(running.subscription.backoffMs[0])
      } finally {
        clearInterval(progress)
      }
    })
  }

  // watchConsumer recreates a consumer someone deleted and starts consuming it again at once:
  // left alone, the iterator would stall until two heartbeats are missed (30 s).
  private async watchConsumer(running: RunningSubscription, messages: ConsumerMessages) {
    for await (const status of messages.status()) {
      if (status.type === 'consumer_deleted' || status.type === 'consumer_not_found') {
        this.logger.warn({ consumer: running.consumer, status: status.type }, 'consumer missing')
        try {
          await this.ensureConsumer(running)
          void messages.close()
        } catch (error) {
          this.logger.warn({ err: error, consumer: running.consumer }, 'could not recreate it')
        }
      } else if (status.type === 'heartbeats_missed') {
        this.logger.warn({ consumer: running.consumer, count: status.count }, 'heartbeats missed')
      }
    }
  }

  private async watchConnection() {
    for await (const status of this.nc.status()) {
      if (status.type === 'disconnect') {
        this.logger.warn({ server: status.server }, 'NATS disconnected; reconnecting')
      } else if (status.type === 'reconnect') {
        this.logger.info({ server: status.server }, 'NATS reconnected')
      } else if (status.type === 'error' || status.type === 'slowConsumer') {
        this.logger.error({ status }, 'NATS connection problem')
      } else if (status.type === 'ldm') {
        this.logger.warn('NATS server entering lame duck mode')
      }
    }
  }

  private async publishDeadLetter(letter: DeadLetter) {
    const headers = natsHeaders()
    headers.set('Microshop-Consumer', letter.consumer)
    headers.set('Microshop-Event-Type', letter.eventType)
    headers.set('Microshop-Reason', letter.reason.replace(/[\r\n]+/g, ' ').slice(0, 1_000))
    headers.set('Microshop-Attempts', String(letter.attempts))
    await this.js.publish(
      this.names.deadLetterSubject(letter.consumer, letter.eventType),
      letter.event,
      {
        msgID: `${letter.consumer}:${letter.eventId}`,
        headers,
        timeout: this.publishTimeoutMs,
      },
    )
  }
}

function isApiError(error: unknown, code: number): boolean {
  return error instanceof JetStreamApiError && error.code === code
}

/** hasSettings tells whether a stream's current config already holds every setting of `wanted`. */
function hasSettings(current: Partial<StreamConfig>, wanted: Partial<StreamConfig>): boolean {
  return Object.entries(wanted).every(
    ([key, value]) => JSON.stringify(current[key as keyof StreamConfig]) === JSON.stringify(value),
  )
}
