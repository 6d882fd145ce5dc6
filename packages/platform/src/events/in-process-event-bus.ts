import type { TSchema } from 'typebox'
import type { CloudEvent } from '@microshop/contracts/envelope'
import type { Logger } from '../logger.ts'
import { eventMetrics, type EventMetrics } from './event-metrics.ts'
import type {
  Checkpoint,
  DeadLetterSink,
  EventBus,
  EventBusOptions,
  Subscription,
} from './event-bus.ts'
import {
  handleDelivery,
  readEvent,
  resolveSubscription,
  type ReceivedEvent,
  type ResolvedSubscription,
} from './handle-delivery.ts'
import { KeyedWorkQueue } from './keyed-work-queue.ts'

export interface InProcessBrokerOptions {
  /** duplicateWindowMs is how long a published event id is remembered to drop a republish (JetStream: duplicate_window). */
  duplicateWindowMs?: number
  /** retainMs is how long an event is kept for consumer groups that subscribe later. */
  retainMs?: number
  /** retainPerType bounds the events kept per type for late subscribers. */
  retainPerType?: number
}

interface Message {
  received: ReceivedEvent
  attempt: number
  /** seq is the broker's position of the event, in publish order. */
  seq: number
}

interface RetainedEvent {
  raw: string
  publishedAt: number
  seq: number
}

/**
 * InProcessBroker is the broker of the all-in-one mode: one per process, shared by every
 * service's InProcessEventBus. It mimics JetStream: a consumer group (service and event type)
 * is durable for the life of the process, so a replica that closes and a new one that subscribes
 * later get what was published meanwhile; a group created after events were published gets the
 * ones still retained (like a durable consumer created with DeliverPolicy.All); a republished
 * event id within the de-duplication window is dropped. Nothing survives the process: that is
 * what the outbox is for.
 */
export class InProcessBroker {
  private readonly groups = new Map<string, ConsumerGroup>()
  private readonly retained = new Map<string, RetainedEvent[]>()
  private readonly seen = new Map<string, number>()
  private readonly duplicateWindowMs: number
  private readonly retainMs: number
  private readonly retainPerType: number
  /** sequence is the position of the last accepted event. */
  sequence = 0

  constructor(options: InProcessBrokerOptions = {}) {
    this.duplicateWindowMs = options.duplicateWindowMs ?? 120_000
    this.retainMs = options.retainMs ?? 60_000
    this.retainPerType = options.retainPerType ?? 10_000
  }

  /** accept stores an event and queues it for every group of its type; false for a duplicate id. */
  accept(event: CloudEvent, raw: string): boolean {
    const now = Date.now()
    this.forgetOld(now)
    if (this.seen.has(event.id)) return false
    this.seen.set(event.id, now + this.duplicateWindowMs)
    const seq = ++this.sequence
    const retained = this.retained.get(event.type) ?? []
    retained.push({ raw, publishedAt: now, seq })
    if (retained.length > this.retainPerType) retained.shift()
    this.retained.set(event.type, retained)
    for (const group of this.groups.values()) {
      if (group.eventType === event.type) {
        group.enqueue({ received: readEvent(raw), attempt: 1, seq })
      }
    }
    return true
  }

  /** group is a service's durable consumer group for one event type, created on first use with the retained backlog. */
  group(service: string, eventType: string): ConsumerGroup {
    const key = `${service}\u0000${eventType}`
    let group = this.groups.get(key)
    if (!group) {
      group = new ConsumerGroup(eventType)
      this.groups.set(key, group)
      const since = Date.now() - this.retainMs
      for (const event of this.retained.get(eventType) ?? []) {
        if (event.publishedAt >= since) {
          group.enqueue({ received: readEvent(event.raw), attempt: 1, seq: event.seq })
        }
      }
    }
    return group
  }

  private forgetOld(now: number) {
    // seen is in insertion order, so expired ids are at the front.
    for (const [id, expiresAt] of this.seen) {
      if (expiresAt > now) break
      this.seen.delete(id)
    }
    for (const [type, events] of this.retained) {
      const firstKept = events.findIndex((event) => event.publishedAt >= now - this.retainMs)
      if (firstKept === -1) this.retained.delete(type)
      else if (firstKept > 0) events.splice(0, firstKept)
    }
  }
}

/** ConsumerGroup hands each queued message to one member (replica) with room for it. */
class ConsumerGroup {
  private readonly queue: Message[] = []
  // outstanding are the positions of the group's events not yet finished (acked or parked):
  // queued, being handled, or waiting for a retry.
  private readonly outstanding = new Set<number>()
  private readonly members: GroupMember[] = []
  private next = 0
  private pumpScheduled = false

  constructor(readonly eventType: string) {}

  enqueue(message: Message) {
    this.outstanding.add(message.seq)
    this.queue.push(message)
    this.schedulePump()
  }

  /** finished notes that an event will not be delivered again: handled, or parked. */
  finished(seq: number) {
    this.outstanding.delete(seq)
  }

  /** handledThrough tells whether every event up to position `seq` is finished. */
  handledThrough(seq: number): boolean {
    for (const outstanding of this.outstanding) if (outstanding <= seq) return false
    return true
  }

  join(member: GroupMember) {
    this.members.push(member)
    this.schedulePump()
  }

  leave(member: GroupMember) {
    const index = this.members.indexOf(member)
    if (index !== -1) this.members.splice(index, 1)
  }

  // schedulePump delivers on a later turn of the event loop: never inside publish.
  schedulePump() {
    if (this.pumpScheduled) return
    this.pumpScheduled = true
    setImmediate(() => {
      this.pumpScheduled = false
      this.pump()
    })
  }

  private pump() {
    while (this.queue.length > 0) {
      const member = this.memberWithCapacity()
      if (!member) return
      member.take(this.queue.shift() as Message, this)
    }
  }

  private memberWithCapacity(): GroupMember | undefined {
    for (let i = 0; i < this.members.length; i++) {
      const member = this.members[(this.next + i) % this.members.length] as GroupMember
      if (member.work.hasCapacity) {
        this.next = (this.next + i + 1) % this.members.length
        return member
      }
    }
    return undefined
  }
}

/** GroupMember is one subscription of one bus: a replica in its group. */
class GroupMember {
  readonly work: KeyedWorkQueue

  constructor(
    private readonly subscription: ResolvedSubscription,
    private readonly context: {
      logger: Logger
      metrics: EventMetrics
      deadLetters: DeadLetterSink | undefined
      stopping: AbortSignal
    },
  ) {
    this.work = new KeyedWorkQueue(subscription.concurrency)
  }

  take(message: Message, group: ConsumerGroup) {
    this.work.push(message.received.subject, async () => {
      try {
        const outcome = await handleDelivery(
          { subscription: this.subscription, ...this.context },
          message.received,
          message.attempt,
        )
        if (outcome.action === 'retry') {
          // The retry belongs to the group, not this member: another replica may take it.
          setTimeout(
            () => group.enqueue({ ...message, attempt: message.attempt + 1 }),
            outcome.delayMs,
          ).unref()
        } else {
          group.finished(message.seq)
        }
      } finally {
        group.schedulePump()
      }
    })
  }
}

export interface InProcessEventBusOptions extends EventBusOptions {
  broker: InProcessBroker
}

/**
 * InProcessEventBus is one service's view of the process's InProcessBroker, with the same
 * delivery rules as the NATS adapter (shared in handle-delivery.ts): delivery after publish
 * returns, redelivery with backoff, dead letters after maxDeliver, one delivery per service.
 */
export class InProcessEventBus implements EventBus {
  private readonly broker: InProcessBroker
  private readonly logger: Logger
  private readonly metrics: EventMetrics
  private readonly deadLetters: DeadLetterSink | undefined
  private readonly joined: { group: ConsumerGroup; member: GroupMember }[] = []
  private readonly stopping = new AbortController()
  private closed = false

  constructor(options: InProcessEventBusOptions) {
    this.broker = options.broker
    this.logger = options.logger
    this.metrics = eventMetrics(options.metrics?.registry)
    this.deadLetters = options.deadLetters
  }

  async publish(event: CloudEvent): Promise<void> {
    if (this.closed) throw new Error('The event bus is closed')
    const raw = JSON.stringify(event)
    const accepted = this.broker.accept(event, raw)
    const line = { eventId: event.id, eventType: event.type }
    if (!accepted) return this.logger.debug(line, 'duplicate event dropped by the broker')
    this.metrics.published.inc({ type: event.type })
    this.logger.info(line, 'event published')
  }

  async subscribe<Payload extends TSchema>(subscription: Subscription<Payload>): Promise<void> {
    if (this.closed) throw new Error('The event bus is closed')
    const resolved = resolveSubscription(subscription)
    const group = this.broker.group(resolved.service, resolved.event.type)
    const member = new GroupMember(resolved, {
      logger: this.logger,
      metrics: this.metrics,
      deadLetters: this.deadLetters,
      stopping: this.stopping.signal,
    })
    group.join(member)
    this.joined.push({ group, member })
  }

  async ping(): Promise<void> {
    if (this.closed) throw new Error('The event bus is closed')
  }

  async checkpoint(): Promise<Checkpoint> {
    return { at: new Date(), positions: { broker: this.broker.sequence } }
  }

  async caughtUp(checkpoint: Checkpoint): Promise<boolean> {
    const position = checkpoint.positions.broker ?? 0
    return this.joined.every(({ group }) => group.handledThrough(position))
  }

  async close(): Promise<void> {
    this.closed = true
    this.stopping.abort()
    for (const { group, member } of this.joined) group.leave(member)
    await Promise.all(this.joined.map(({ member }) => member.work.whenIdle()))
  }
}
