import { describe, expect, it } from 'vitest'
import { JetStreamApiCodes, JetStreamApiError } from '@nats-io/jetstream'
import { createLogger } from '../logger.ts'
import { whileClusterBusy, whyClusterBusy } from './jetstream-set-up.ts'

const logger = createLogger({ service: 'jetstream-set-up-test', level: 'silent' })

// The errors are the client's own, made as it makes them from JetStream's answers.
const streamNotFound = () =>
  new JetStreamApiError({
    code: 404,
    err_code: JetStreamApiCodes.StreamNotFound,
    description: 'stream not found',
  })
const notReady = () =>
  new JetStreamApiError({
    code: 503,
    err_code: 10008,
    description: 'JetStream system temporarily unavailable',
  })
const badConfig = () =>
  new JetStreamApiError({ code: 400, err_code: 10052, description: 'consumer config invalid' })

describe('whyClusterBusy', () => {
  it('when a consumer set-up finds no stream right after the stream was ensured, then that passes', () => {
    expect(whyClusterBusy(streamNotFound(), { streamEnsured: true, replicas: 3 })).toMatch(/leader/)
  })

  it('when a stream set-up finds no stream, then that is not a busy cluster', () => {
    expect(whyClusterBusy(streamNotFound(), { replicas: 3 })).toBeUndefined()
  })

  it('when JetStream is not ready or too few servers have joined, then that passes; a bad config does not', () => {
    expect(whyClusterBusy(notReady(), { replicas: 3 })).toBe('JetStream is busy')
    const noPeers = new JetStreamApiError({
      code: 500,
      err_code: 10005,
      description: 'no suitable peers',
    })
    expect(whyClusterBusy(noPeers, { replicas: 3 })).toMatch(
      /fewer servers than the stream's 3 replicas/,
    )
    expect(whyClusterBusy(badConfig(), { streamEnsured: true, replicas: 3 })).toBeUndefined()
    expect(whyClusterBusy(new Error('connection closed'), { replicas: 3 })).toBeUndefined()
  })
})

describe('whileClusterBusy', () => {
  const step = { what: 'consumer test', replicas: 3, logger, server: () => 'nats-0', retryMs: 1 }

  it('when the stream is not served for a moment after it was ensured, then the set-up tries again and succeeds', async () => {
    const answers = [streamNotFound(), notReady()]
    let tries = 0
    await whileClusterBusy({ ...step, streamEnsured: true }, async () => {
      tries += 1
      const answer = answers.shift()
      if (answer) throw answer
    })
    expect(tries).toBe(3)
  })

  it('when a failure does not pass, then the set-up gives up at once with it', async () => {
    let tries = 0
    const failing = whileClusterBusy({ ...step, streamEnsured: true }, async () => {
      tries += 1
      throw badConfig()
    })
    await expect(failing).rejects.toThrow('consumer config invalid')
    expect(tries).toBe(1)
  })

  it('when the cluster stays busy, then the set-up gives up after its attempts', async () => {
    let tries = 0
    const failing = whileClusterBusy({ ...step, streamEnsured: true }, async () => {
      tries += 1
      throw streamNotFound()
    })
    await expect(failing).rejects.toThrow('stream not found')
    expect(tries).toBe(10)
  })
})
