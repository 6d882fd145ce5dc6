import { describe, expect, it } from 'vitest'
import { ConfigError } from '@microshop/platform/config'
import { loadGatewayConfig } from './config.ts'

const upstream = (name: string, url: string) => ({ name, url, urls: [url], timeoutMs: 10_000 })

describe('loadGatewayConfig', () => {
  it('when nothing is set, then the services are on 127.0.0.1:8081-8084 and the keys at users', () => {
    const config = loadGatewayConfig({})
    expect(config.PORT).toBe(8080)
    expect(config.upstreams).toEqual({
      users: upstream('users', 'http://127.0.0.1:8081'),
      orders: upstream('orders', 'http://127.0.0.1:8082'),
      payments: upstream('payments', 'http://127.0.0.1:8083'),
      catalog: upstream('catalog', 'http://127.0.0.1:8084'),
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
      urls: ['http://users:8081'],
      timeoutMs: 5_000,
    })
    expect(config.upstreams.orders.timeoutMs).toBe(15_000)
    expect(config.jwksUrl).toBe('http://users:8081/auth/jwks.json')
    expect(config.corsOrigins).toEqual(['https://shop.example.com', 'http://localhost:5173'])
  })

  it('when an upstream lists several replicas, then each is a URL and keys come from the first', () => {
    const config = loadGatewayConfig({
      USERS_URL: 'http://127.0.0.1:9001/, http://127.0.0.1:9002',
      CATALOG_URL: 'http://catalog-a:8084,http://catalog-b:8084,http://catalog-c:8084',
    })
    expect(config.upstreams.users.urls).toEqual(['http://127.0.0.1:9001', 'http://127.0.0.1:9002'])
    expect(config.upstreams.users.url).toBe('http://127.0.0.1:9001')
    expect(config.upstreams.catalog.urls).toHaveLength(3)
    expect(config.jwksUrl).toBe('http://127.0.0.1:9001/auth/jwks.json')
    expect(() => loadGatewayConfig({ ORDERS_URL: 'http://orders-a:8082,orders-b:8082' })).toThrow(
      /ORDERS_URL/,
    )
    expect(() => loadGatewayConfig({ ORDERS_URL: 'http://orders-a:8082,' })).toThrow(/ORDERS_URL/)
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
