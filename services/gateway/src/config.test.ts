import { describe, expect, it } from 'vitest'
import { ConfigError } from '@microshop/platform/config'
import { loadGatewayConfig } from './config.ts'

describe('loadGatewayConfig', () => {
  it('when nothing is set, then the services are on 127.0.0.1:8081-8084 and the keys at users', () => {
    const config = loadGatewayConfig({})
    expect(config.PORT).toBe(8080)
    expect(config.upstreams).toEqual({
      users: { name: 'users', url: 'http://127.0.0.1:8081', timeoutMs: 10_000 },
      orders: { name: 'orders', url: 'http://127.0.0.1:8082', timeoutMs: 10_000 },
      payments: { name: 'payments', url: 'http://127.0.0.1:8083', timeoutMs: 10_000 },
      catalog: { name: 'catalog', url: 'http://127.0.0.1:8084', timeoutMs: 10_000 },
    })
    expect(config.jwksUrl).toBe('http://127.0.0.1:8081/auth/jwks.json')
    expect(config.corsOrigins).toEqual(['http://localhost:5173', 'http://127.0.0.1:5173'])
  })

  it('when upstreams and timeouts are set, then JWKS follows USERS_URL and one timeout can differ', () => {
    const config = loadGatewayConfig({
      USERS_URL: 'http://users:8081/',
      UPSTREAM_TIMEOUT_MS: '5000',
      ORDERS_UPSTREAM_TIMEOUT_MS: '15000',
      CORS_ORIGINS: ' https://shop.example.com , http://localhost:5173 ',
    })
    expect(config.upstreams.users).toEqual({
      name: 'users',
      url: 'http://users:8081',
      timeoutMs: 5_000,
    })
    expect(config.upstreams.orders.timeoutMs).toBe(15_000)
    expect(config.jwksUrl).toBe('http://users:8081/auth/jwks.json')
    expect(config.corsOrigins).toEqual(['https://shop.example.com', 'http://localhost:5173'])
  })

  it('when settings are bad, then every problem is listed at once', () => {
    const load = () =>
      loadGatewayConfig({
        ORDERS_URL: 'orders:8082',
        RATE_LIMIT_MAX: '-1',
        CORS_ORIGINS: 'https://shop.example.com/path',
      })
    expect(load).toThrow(ConfigError)
    try {
      load()
    } catch (error) {
      const { problems } = error as ConfigError
      expect(problems).toHaveLength(3)
      expect(problems.join('\n')).toMatch(/ORDERS_URL/)
      expect(problems.join('\n')).toMatch(/RATE_LIMIT_MAX/)
      expect(problems.join('\n')).toMatch(/CORS_ORIGINS/)
    }
  })

  it('when a CORS origin is not an origin, then the gateway refuses to start', () => {
    expect(() => loadGatewayConfig({ CORS_ORIGINS: 'https://shop.example.com/' })).toThrow(
      /CORS_ORIGINS: https:\/\/shop.example.com\/ is not an origin/,
    )
  })
})
