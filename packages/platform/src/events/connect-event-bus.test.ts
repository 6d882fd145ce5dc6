import { randomBytes } from 'node:crypto'
import { connect } from '@nats-io/transport-node'
import { jetstreamManager } from '@nats-io/jetstream'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openDatabase, type Database } from '../db/database.ts'
import { createLogger } from '../logger.ts'
import { deleteStreamsOf, sharedNatsUrl } from '../testing/nats-server.ts'
import { connectEventBus } from './connect-event-bus.ts'
import { NatsNames } from './nats-event-bus.ts'

const logger = createLogger({ service: 'connect-test', level: 'silent' })

describe('connectEventBus on NATS', () => {
  let database: Database<unknown>
  const namespace = `r${randomBytes(5).toString('hex')}`

  beforeAll(async () => {
    database = await openDatabase<unknown>({ dataDir: 'memory://' })
  })
  afterAll(async () => {
    await database?.close()
    await deleteStreamsOf(sharedNatsUrl, namespace)
  })

  it('when natsStreamReplicas is given, then the streams ask the server for that many replicas', async () => {
    // The shared server is a single one: it keeps one replica, and refuses three outright.
    await expect(
      connectEventBus({
        service: 'orders',
        natsUrl: sharedNatsUrl,
        natsNamespace: namespace,
        natsStreamReplicas: 3,
        database,
        logger,
      }),
    ).rejects.toThrow(/replicas/i)

    const bus = await connectEventBus({
      service: 'orders',
      natsUrl: sharedNatsUrl,
      natsNamespace: namespace,
      natsStreamReplicas: 1,
      database,
      logger,
    })
    await bus.close()
    const nc = await connect({ servers: sharedNatsUrl })
    try {
      const info = await (
        await jetstreamManager(nc)
      ).streams.info(new NatsNames(namespace).stream('orders'))
      expect(info.config.num_replicas).toBe(1)
    } finally {
      await nc.close()
    }
  })

  it('when stream limits are given, then each stream the service makes is bounded by them', async () => {
    const bus = await connectEventBus({
      service: 'orders',
      natsUrl: sharedNatsUrl,
      natsNamespace: namespace,
      natsStreamMaxBytes: 8 * 1024 ** 2,
      natsStreamMaxAgeSeconds: 3600,
      database,
      logger,
    })
    await bus.close()
    const nc = await connect({ servers: sharedNatsUrl })
    try {
      const info = await (
        await jetstreamManager(nc)
      ).streams.info(new NatsNames(namespace).stream('orders'))
      expect(info.config.max_bytes).toBe(8 * 1024 ** 2)
      expect(info.config.max_age).toBe(3600 * 1e9)
    } finally {
      await nc.close()
    }
  })
})
