import { describe, expect, it } from 'vitest'
import { ConfigError } from '@microshop/platform/config'
import { loadOrdersConfig } from './config.ts'

describe('orders settings', () => {
  it('when nothing is set, then the defaults run beside the other services on this machine', () => {
    expect(loadOrdersConfig({})).toMatchObject({
      PORT: 8082,
      CATALOG_URL: 'http://127.0.0.1:8084',
      CATALOG_TIMEOUT_MS: 1_000,
      PUBLIC_BASE_PATH: '/api',
      STOCK_STEP_TIMEOUT_MS: 30_000,
      PAYMENT_STEP_TIMEOUT_MS: 60_000,
      IDEMPOTENCY_KEY_RETENTION_HOURS: 24,
    })
  })

  it('when settings are bad, then every one of them is named at once', () => {
    const load = () =>
      loadOrdersConfig({
        CATALOG_URL: 'catalog:8084',
        PUBLIC_BASE_PATH: 'api/',
        IDEMPOTENCY_KEY_RETENTION_HOURS: '1',
        STOCK_STEP_TIMEOUT_MS: 'soon',
      })
    expect(load).toThrow(ConfigError)
    try {
      load()
    } catch (error) {
      const problems = (error as ConfigError).problems.join('\n')
      for (const key of [
        'CATALOG_URL',
        'PUBLIC_BASE_PATH',
        'IDEMPOTENCY_KEY_RETENTION_HOURS',
        'STOCK_STEP_TIMEOUT_MS',
      ]) {
        expect(problems).toContain(key)
      }
    }
  })
})
