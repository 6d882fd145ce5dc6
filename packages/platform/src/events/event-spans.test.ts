import { randomUUID } from 'node:crypto'
import Type from 'typebox'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { defineEvent } from '@microshop/contracts/define-event'
import type { Database } from '../db/database.ts'
import { createLogger } from '../logger.ts'
import { startTelemetry } from '../telemetry.ts'
import {
  createTestDatabase,
  openMigratedDatabase,
  type TestDatabase,
} from '../testing/databases.ts'
import { inMemorySpans, type RecordedSpan } from '../testing/recorded-spans.ts'
import { waitFor } from '../testing/wait-for.ts'
import { InProcessBroker, InProcessEventBus } from './in-process-event-bus.ts'
import { newEvent } from './new-event.ts'
import { addToOutbox, startOutboxRelay } from './outbox.ts'
import { platformMigrations } from './platform-migrations.ts'

const parcelSent = defineEvent({
  type: 'spantest.parcel.sent.v1',
  producer: 'spantest',
  description: 'A test event about a parcel.',
  payload: Type.Object({ parcelId: Type.String() }),
})

const logger = createLogger({ service: 'event-spans-test', level: 'silent' })

describe('the spans of an event', () => {
  const recorded = inMemorySpans()
  let testDb: TestDatabase
  let database: Database<unknown>

  beforeAll(async () => {
    startTelemetry({
      serviceName: 'event-spans-test',
      env: { OTEL_TRACES_SAMPLER: 'always_on' },
      spanProcessors: [recorded.processor],
    })
    testDb = await createTestDatabase('pglite')
    database = await openMigratedDatabase(testDb, [platformMigrations])
  })
  afterAll(async () => {
    await database.close()
    await testDb.drop()
  })

  const spansOf = (traceId: string | undefined) =>
    recorded.spans().filter((span) => span.traceId === traceId)
  const traceIdOf = (traceparent: string | undefined) => traceparent?.split('-')[1]
  const named = (spans: RecordedSpan[], name: string) => spans.filter((s) => s.name === name)

  it('when a delivery fails and the event is redelivered, then each delivery is processed in the event trace, a child of its create span and linked to it', async () => {
    const broker = new InProcessBroker()
    const bus = new InProcessEventBus({ broker, logger })
    let deliveries = 0
    await bus.subscribe({
      service: 'picky',
      event: parcelSent,
      backoffMs: [10],
      handler: async () => {
        deliveries++
        if (deliveries === 1) throw new Error('not this time')
      },
    })
    const event = newEvent(parcelSent, { parcelId: randomUUID() })
    await bus.publish(event)
    await waitFor(() => deliveries === 2)
    await waitFor(
      () =>
        named(spansOf(traceIdOf(event.traceparent)), 'process spantest.parcel.sent.v1').length ===
        2,
    )
    const [create] = named(spansOf(traceIdOf(event.traceparent)), 'create spantest.parcel.sent.v1')
    expect(create?.kind).toBe('producer')
    const processed = named(
      spansOf(traceIdOf(event.traceparent)),
      'process spantest.parcel.sent.v1',
    )
    expect(processed.map((span) => span.attributes['messaging.message.delivery_attempt'])).toEqual([
      1, 2,
    ])
    expect(processed.map((span) => span.attributes['microshop.delivery.outcome'])).toEqual([
      'retry',
      'ack',
    ])
    for (const span of processed) {
      expect(span.parentSpanId).toBe(create?.spanId)
      expect(span.links).toEqual([{ traceId: create?.traceId, spanId: create?.spanId }])
    }
    await bus.close()
  })

  it('when the process that committed an event died before publishing it, then another relay publishes it from the table in the same trace', async () => {
    const event = newEvent(parcelSent, { parcelId: randomUUID() })
    // The committing process: the event is in the outbox, and nobody hands it to a relay.
    await database.db.transaction().execute((trx) => addToOutbox(trx, event))

    const broker = new InProcessBroker()
    const bus = new InProcessEventBus({ broker, logger })
    let handled = 0
    await bus.subscribe({
      service: 'reader',
      event: parcelSent,
      handler: async () => void handled++,
    })
    const relay = await startOutboxRelay({
      database,
      bus,
      logger,
      service: 'spantest',
      pollIntervalMs: 50,
      staleMs: 0,
    })
    await waitFor(() => handled === 1)
    await relay.stop()
    await bus.close()

    const trace = traceIdOf(event.traceparent)
    await waitFor(() => named(spansOf(trace), 'process spantest.parcel.sent.v1').length === 1)
    const spans = spansOf(trace)
    const [create] = named(spans, 'create spantest.parcel.sent.v1')
    const [send] = named(spans, 'send spantest.parcel.sent.v1')
    const [process] = named(spans, 'process spantest.parcel.sent.v1')
    expect(send).toMatchObject({
      kind: 'producer',
      parentSpanId: create?.spanId,
      service: 'spantest',
    })
    expect(process).toMatchObject({
      kind: 'consumer',
      parentSpanId: create?.spanId,
      service: 'reader',
    })
  })
})
