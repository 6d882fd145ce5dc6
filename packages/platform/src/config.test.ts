import Type from 'typebox'
import { describe, expect, it } from 'vitest'
import { ConfigError, loadEnv, serviceEnv, trustedProxies } from './config.ts'

const schema = Type.Object({
  ...serviceEnv(8081),
  ISSUER: Type.String({ minLength: 1 }),
  FLAG: Type.Boolean({ default: false }),
})

describe('loadEnv', () => {
  it('when settings are valid, then strings become numbers and booleans and defaults fill in', () => {
    const env = loadEnv(schema, { ISSUER: 'microshop', PORT: '9000', FLAG: 'true', LOG_LEVEL: '' })
    expect(env).toMatchObject({ ISSUER: 'microshop', PORT: 9000, FLAG: true, LOG_LEVEL: 'info' })
    expect(env.DATABASE_URL).toBeUndefined()
  })

  it('when several settings are missing or bad, then one error lists them all', () => {
    let error: unknown
    try {
      loadEnv(schema, { PORT: 'eighty', DATABASE_URL: 'mysql://x', LOG_LEVEL: 'loud' })
    } catch (e) {
      error = e
    }
    expect(error).toBeInstanceOf(ConfigError)
    const problems = (error as ConfigError).problems.join('\n')
    expect(problems).toContain('ISSUER')
    expect(problems).toContain('PORT')
    expect(problems).toContain('DATABASE_URL')
    expect(problems).toContain('LOG_LEVEL')
  })

  it('when NATS_STREAM_REPLICAS is set, then it is a count of servers from 1 to 5, and 1 by default', () => {
    expect(loadEnv(schema, { ISSUER: 'microshop' }).NATS_STREAM_REPLICAS).toBe(1)
    expect(
      loadEnv(schema, { ISSUER: 'microshop', NATS_STREAM_REPLICAS: '3' }).NATS_STREAM_REPLICAS,
    ).toBe(3)
    expect(() => loadEnv(schema, { ISSUER: 'microshop', NATS_STREAM_REPLICAS: '0' })).toThrow(
      /NATS_STREAM_REPLICAS/,
    )
  })

  it('when the stream limits are unset, then each stream holds 1 GiB for a week; a smaller store can say less', () => {
    const defaults = loadEnv(schema, { ISSUER: 'microshop' })
    expect(defaults.NATS_STREAM_MAX_BYTES).toBe(1024 ** 3)
    expect(defaults.NATS_STREAM_MAX_AGE_SECONDS).toBe(7 * 24 * 3600)
    const small = loadEnv(schema, {
      ISSUER: 'microshop',
      NATS_STREAM_MAX_BYTES: '67108864',
      NATS_STREAM_MAX_AGE_SECONDS: '86400',
    })
    expect(small.NATS_STREAM_MAX_BYTES).toBe(64 * 1024 ** 2)
    expect(small.NATS_STREAM_MAX_AGE_SECONDS).toBe(86400)
    // Shorter than the de-duplication window, a stream would forget ids it must still drop.
    expect(() =>
      loadEnv(schema, { ISSUER: 'microshop', NATS_STREAM_MAX_AGE_SECONDS: '60' }),
    ).toThrow(/NATS_STREAM_MAX_AGE_SECONDS/)
  })
})

describe('TRUST_PROXY', () => {
  const trustProxy = (value: string) => loadEnv(schema, { ISSUER: 'x', TRUST_PROXY: value })

  it('when it is a hop count or addresses and CIDRs, then it is taken', () => {
    expect(trustedProxies('1')).toBe(1)
    expect(trustedProxies('false')).toBe(false)
    expect(trustedProxies('')).toBe(false)
    expect(trustedProxies('10.0.0.0/8, 192.168.1.7,loopback,fd00::/8')).toEqual([
      '10.0.0.0/8',
      '192.168.1.7',
      'loopback',
      'fd00::/8',
    ])
    expect(trustProxy('2').TRUST_PROXY).toBe('2')
    expect(loadEnv(schema, { ISSUER: 'x' }).TRUST_PROXY).toBe('loopback,uniquelocal')
  })

  it('when it is `true` or not an address, then the service refuses to start and says why', () => {
    for (const value of ['true', '10.0.0.0/33', 'proxy.internal', '1.2.3.4/8/8']) {
      expect(trustedProxies(value)).toBeUndefined()
      expect(() => trustProxy(value)).toThrow(/TRUST_PROXY: must be the number of proxies/)
    }
  })
})
