import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { brotliCompressSync, gzipSync } from 'node:zlib'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { loadGatewayConfig } from '../config.ts'
import { startGatewayService, type GatewayService } from '../service.ts'

const INDEX =
  '<!doctype html><title>shop</title><script type="module" src="/assets/app-1a2b.js"></script>'
const SCRIPT = 'console.log("the shop");'.repeat(20)

/** startGateway runs the gateway over a storefront folder; no service runs behind it. */
async function startGateway(directory: string, env: Record<string, string> = {}) {
  const gateway = await startGatewayService(
    loadGatewayConfig({
      HOST: '127.0.0.1',
      PORT: '0',
      LOG_LEVEL: 'silent',
      USERS_URL: 'http://127.0.0.1:9',
      CATALOG_URL: 'http://127.0.0.1:9',
      ORDERS_URL: 'http://127.0.0.1:9',
      PAYMENTS_URL: 'http://127.0.0.1:9',
      STOREFRONT_DIR: directory,
      ...env,
    }),
  )
  return { gateway, url: `http://127.0.0.1:${(gateway.app.server.address() as AddressInfo).port}` }
}

describe('the storefront served by the gateway', () => {
  let directory: string
  let gateway: GatewayService
  let url: string

  beforeAll(async () => {
    directory = await mkdtemp(join(tmpdir(), 'storefront-'))
    await mkdir(join(directory, 'assets'))
    await writeFile(join(directory, 'index.html'), INDEX)
    await writeFile(join(directory, 'favicon.svg'), '<svg xmlns="http://www.w3.org/2000/svg"/>')
    await writeFile(join(directory, 'assets', 'app-1a2b.js'), SCRIPT)
    await writeFile(join(directory, 'assets', 'app-1a2b.js.br'), brotliCompressSync(SCRIPT))
    await writeFile(join(directory, 'assets', 'app-1a2b.js.gz'), gzipSync(SCRIPT))
    ;({ gateway, url } = await startGateway(directory, { RATE_LIMIT_MAX: '3' }))
  })
  afterAll(async () => {
    await gateway?.close()
    await rm(directory, { recursive: true, force: true })
  })

  it('when / is asked for, then index.html comes revalidated every time, under a content security policy', async () => {
    const response = await fetch(`${url}/`)
    expect(response.status).toBe(200)
    expect(await response.text()).toBe(INDEX)
    expect(response.headers.get('content-type')).toBe('text/html; charset=utf-8')
    expect(response.headers.get('cache-control')).toBe('no-cache')
    expect(response.headers.get('content-security-policy')).toContain("script-src 'self'")
    expect(response.headers.get('content-security-policy')).toContain("frame-ancestors 'none'")
    expect(response.headers.get('x-content-type-options')).toBe('nosniff')

    const etag = response.headers.get('etag') ?? ''
    expect(etag).toMatch(/^".+"$/)
    const again = await fetch(`${url}/`, { headers: { 'if-none-match': etag } })
    expect(again.status).toBe(304)
  })

  it('when a hashed asset is asked for, then it is cached for a year and sent compressed as accepted', async () => {
    const brotli = await fetch(`${url}/assets/app-1a2b.js`, {
      headers: { 'accept-encoding': 'gzip, deflate, br' },
    })
    expect(brotli.status).toBe(200)
    expect(brotli.headers.get('cache-control')).toBe('public, max-age=31536000, immutable')
    expect(brotli.headers.get('content-encoding')).toBe('br')
    expect(brotli.headers.get('content-type')).toBe('text/javascript; charset=utf-8')
    expect(brotli.headers.get('vary')).toContain('accept-encoding')
    expect(await brotli.text()).toBe(SCRIPT)

    const gzip = await fetch(`${url}/assets/app-1a2b.js`, {
      headers: { 'accept-encoding': 'gzip' },
    })
    expect(gzip.headers.get('content-encoding')).toBe('gzip')
    expect(await gzip.text()).toBe(SCRIPT)

    const plain = await fetch(`${url}/assets/app-1a2b.js`, {
      headers: { 'accept-encoding': 'identity' },
    })
    expect(plain.headers.get('content-encoding')).toBeNull()
    expect(await plain.text()).toBe(SCRIPT)
  })

  it('when a client-side route is loaded directly, then it gets index.html', async () => {
    for (const path of ['/orders/6f1c3e1e-1f7b-4f2a-9a59-1d7c1f0a8b11', '/products', '/cart?x=1']) {
      const response = await fetch(`${url}${path}`)
      expect(response.status, path).toBe(200)
      expect(await response.text(), path).toBe(INDEX)
    }
  })

  it('when a missing file or a path of the gateway own is asked for, then it is a 404 problem, not the page', async () => {
    for (const path of [
      '/assets/app-old.js',
      '/logo.png',
      '/api/unknown',
      '/api',
      '/health/unknown',
      '/docs/unknown/page',
    ]) {
      const response = await fetch(`${url}${path}`)
      expect(response.status, path).toBe(404)
      expect(response.headers.get('content-type'), path).toContain('application/problem+json')
    }
  })

  it('when the storefront is loaded many times, then it does not count against the API rate limit', async () => {
    for (let i = 0; i < 6; i++) {
      expect((await fetch(`${url}/`)).status).toBe(200)
      expect((await fetch(`${url}/assets/app-1a2b.js`)).status).toBe(200)
    }
    const statuses: number[] = []
    for (let i = 0; i < 4; i++) statuses.push((await fetch(`${url}/api/products`)).status)
    // No catalog listens behind this gateway: 503 until the budget of 3 is spent, then 429.
    expect(statuses).toEqual([503, 503, 503, 429])
  })

  it('when the gateway docs and health are asked for, then they are still the gateway own', async () => {
    expect((await fetch(`${url}/health/live`)).status).toBe(200)
    // /metrics is on METRICS_PORT only; on the public port it is the gateway's 404, not a page.
    const metrics = await fetch(`${url}/metrics`)
    expect(metrics.status).toBe(404)
    expect(metrics.headers.get('content-type')).toContain('application/problem+json')
  })
})

describe('a gateway without a storefront build', () => {
  it('when / is asked for, then a 404 problem says how to build the storefront', async () => {
    const directory = await mkdtemp(join(tmpdir(), 'no-storefront-'))
    const { gateway, url } = await startGateway(join(directory, 'dist'))
    try {
      const response = await fetch(`${url}/`)
      expect(response.status).toBe(404)
      expect(((await response.json()) as { detail: string }).detail).toContain('npm run build')
      expect((await fetch(`${url}/orders`)).status).toBe(404)
    } finally {
      await gateway.close()
      await rm(directory, { recursive: true, force: true })
    }
  })
})
