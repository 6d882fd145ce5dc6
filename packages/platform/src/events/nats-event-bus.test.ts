import { randomBytes } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import { connect, type NatsConnection } from '@nats-io/transport-node'
import {
  AckPolicy,
  DeliverPolicy,
  jetstreamManager,
  StorageType,
  type JetStreamManager,
} from '@nats-io/jetstream'
import Type from 'typebox'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { defineEvent } from '@microshop/contracts/define-event'
import { createLogger } from '../logger.ts'
import { deleteStreamsOf, sharedNatsUrl } from '../testing/nats-server.ts'
import { NatsEventBus } from './nats-event-bus.ts'
import { newEvent } from './new-event.ts'

const parcelShipped = defineEvent({
  type: 'shipping.parcel.shipped.v1',
  producer: 'shipping',
  description: 'A test event.',
  payload: Type.Object({ parcel: Type.Integer() }),
})

const logger = createLogger({ service: 'nats-test', level: 'silent' })
const shipped = (parcel: number) => newEvent(parcelShipped, { parcel }, { source: '/shipping' })

async function waitFor(condition: () => boolean, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`)
    await sleep(10)
  }
}

describe('NatsEventBus on the shared server', () => {
  let namespace: string
  let bus: NatsEventBus
  let nc: NatsConnection
  let jsm: JetStreamManager

  beforeEach(async () => {
    namespace = `n${randomBytes(5).toString('hex')}`
    bus = await NatsEventBus.connect({
      servers: sharedNatsUrl,
      namespace,
      producers: ['shipping'],
      logger,
      streamLimits: { maxAgeMs: 3_600_000, maxBytes: 8 * 1024 ** 2 },
    })
    nc = await connect({ servers: sharedNatsUrl })
    jsm = await jetstreamManager(nc)
  })

  afterEach(async () => {
    await bus.close()
    await nc.close()
    await deleteStreamsOf(sharedNatsUrl, namespace)
  })

  it('creates a file stream per producer with explicit limits, and a durable consumer per service and event', async () => {
    await bus.subscribe({
      service: 'billing',
      event: parcelShipped,
      maxDeliver: 4,
      handler: async () => {},
    })
    const stream = await jsm.streams.info(bus.names.stream('shipping'))
    expect(stream.config).toMatchObject({
      name: `${namespace.toUpperCase()}_SHIPPING`,
      subjects: [`${namespace}.shipping.>`],
      storage: StorageType.File,
      max_age: 3_600_000 * 1e6,
      max_bytes: 8 * 1024 ** 2,
      duplicate_window: 120_000 * 1e6,
    })
    const consumer = await jsm.consumers.info(
      bus.names.stream('shipping'),
      'billing__shipping_parcel_shipped_v1',
    )
    expect(consumer.config).toMatchObject({
      durable_name: 'billing__shipping_parcel_shipped_v1',
      filter_subject: `${namespace}.shipping.parcel.shipped.v1`,
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.All,
      ack_wait: 10_000 * 1e6,
      max_deliver: 7,
    })
  })

  it('when an event is dead-lettered, then a copy with the reason goes to the DEADLETTER stream', async () => {
    await bus.subscribe({
      service: 'billing',
      event: parcelShipped,
      maxDeliver: 1,
      handler: async () => {
        throw new Error('no tariff for this parcel')
      },
    })
    const event = shipped(1)
    await bus.publish(event)
    const deadLetters = bus.names.deadLetterStream
    let stored: Awaited<ReturnType<typeof jsm.streams.getMessage>> | null = null
    const deadline = Date.now() + 10_000
    while (!stored && Date.now() < deadline) {
      stored = await jsm.streams.getMessage(deadLetters, { seq: 1 }).catch(() => null)
      if (!stored) await sleep(20)
    }
    expect(stored?.subject).toBe(`${namespace}.deadletter.billing.shipping.parcel.shipped.v1`)
    expect(stored?.header.get('Microshop-Reason')).toBe('failed 1 times: no tariff for this parcel')
    expect(stored?.json()).toEqual(event)
  })

  it('when an operator deletes a consumer, then the bus recreates it and keeps consuming', async () => {
    const handled: number[] = []
    await bus.subscribe({
      service: 'billing',
      event: parcelShipped,
      handler: async (event) => void handled.push(event.data.parcel),
    })
    await bus.publish(shipped(1))
    await waitFor(() => handled.length === 1)
    await jsm.consumers.delete(bus.names.stream('shipping'), 'billing__shipping_parcel_shipped_v1')
    await bus.publish(shipped(2))
    // The bus recreates the consumer as soon as the server says it is gone; on a loaded machine
    // that notice can be missed, and recovery then waits for two missed heartbeats (about 30 s).
    await waitFor(() => handled.includes(2), 60_000)
    // The recreated consumer starts at the stream's beginning, so parcel 1 may come again: the
    // consumers' inboxes make that harmless. Nothing else may arrive.
    expect(new Set(handled)).toEqual(new Set([1, 2]))
  }, 90_000)
})
