import { describe, expect, it } from 'vitest'
import { ConfigError } from '@microshop/platform/config'
import { loadPaymentsConfig } from './config.ts'

describe('payments settings', () => {
  it('when nothing is set, then the processor is instant and reliable and charges are tried five times', () => {
    const config = loadPaymentsConfig({})
    expect(config).toMatchObject({
      PORT: 8083,
      PROCESSOR_LATENCY_MS: 0,
      PROCESSOR_TRANSIENT_FAILURE_RATE: 0,
      PROCESSOR_MAX_ATTEMPTS: 5,
      PROCESSOR_RETRY_BACKOFF_MS: [100, 500, 2000, 5000],
      PAYMENT_RECONCILE_AFTER_MS: 60_000,
    })
  })

  it('when drill settings are given, then they are parsed', () => {
    const config = loadPaymentsConfig({
      PROCESSOR_LATENCY_MS: '250',
      PROCESSOR_TRANSIENT_FAILURE_RATE: '0.2',
      PROCESSOR_RETRY_BACKOFF_MS: '50,250',
    })
    expect(config.PROCESSOR_LATENCY_MS).toBe(250)
    expect(config.PROCESSOR_TRANSIENT_FAILURE_RATE).toBe(0.2)
    expect(config.PROCESSOR_RETRY_BACKOFF_MS).toEqual([50, 250])
  })

  it('when settings are out of range, then every bad one is named at once', () => {
    const load = () =>
      loadPaymentsConfig({
        PROCESSOR_TRANSIENT_FAILURE_RATE: '1.5',
        PROCESSOR_RETRY_BACKOFF_MS: '100, 200',
        PROCESSOR_MAX_ATTEMPTS: '0',
      })
    expect(load).toThrow(ConfigError)
    try {
      load()
    } catch (error) {
      const problems = (error as ConfigError).problems.join('\n')
      expect(problems).toMatch(/PROCESSOR_TRANSIENT_FAILURE_RATE/)
      expect(problems).toMatch(/PROCESSOR_RETRY_BACKOFF_MS/)
      expect(problems).toMatch(/PROCESSOR_MAX_ATTEMPTS/)
    }
  })
})
