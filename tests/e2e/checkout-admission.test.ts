// Admission control end to end (decision 0015): orders tells the gateway, on each answer to a
// placement, how much room it has; the gateway then refuses what orders has no room for itself.
// The shop runs all in one process (`npm start`) with room for one checkout in flight, and with
// payments stopped, so that the first order stays PENDING and holds its place.
import { randomUUID } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startAllInOne } from '../../scripts/all-in-one.ts'
import { freePorts } from '../../scripts/shop-layout.ts'

interface Problem {
  status: number
  detail: string
}

describe('checkout admission, through the gateway', () => {
  let shop: Awaited<ReturnType<typeof startAllInOne>> | undefined
  let gatewayUrl: string

  beforeAll(async () => {
    const ports = await freePorts()
    shop = await startAllInOne({
      env: {
        LOG_LEVEL: 'silent',
        SEED_DEMO_DATA: 'true',
        CHECKOUT_MAX_IN_FLIGHT: '1',
        CHECKOUT_MIN_IN_FLIGHT: '1',
      },
      dataDir: 'memory://',
      ports,
      gatewayHost: '127.0.0.1',
    })
    gatewayUrl = `http://127.0.0.1:${ports.gateway}`
  })
  afterAll(async () => {
    await shop?.close()
  })

  it('when orders has room for no more checkouts, then the gateway refuses the next one itself with 503 and Retry-After', async () => {
    const post = (path: string, body: unknown, token?: string) =>
      fetch(`${gatewayUrl}${path}`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          ...(token ? { authorization: `Bearer ${token}` } : {}),
        },
        body: JSON.stringify(body),
      })
    const email = `shopper-${randomUUID()}@example.com`
    const password = 'correct horse battery'
    expect((await post('/api/auth/register', { email, password, name: 'Shopper' })).status).toBe(
      201,
    )
    const login = await post('/api/auth/login', { email, password })
    const { accessToken } = (await login.json()) as { accessToken: string }
    const products = (await (await fetch(`${gatewayUrl}/api/products?limit=1`)).json()) as {
      items: { id: string }[]
    }
    const order = {
      items: [{ productId: products.items[0]?.id, quantity: 1 }],
      paymentMethod: 'pm_card_visa',
    }
    await shop?.stop('payments')

    const first = await post('/api/orders', order, accessToken)
    expect(first.status).toBe(202)
    // What orders said about its room is for the gateway alone.
    expect(first.headers.get('admission-capacity')).toBeNull()

    const second = await post('/api/orders', order, accessToken)
    expect(second.status).toBe(503)
    expect(second.headers.get('retry-after')).toBe('1')
    const problem = (await second.json()) as Problem
    expect(problem.detail).toBe(
      'The orders service has as much work in flight as it can finish in time; try again shortly.',
    )
    const mine = (await (
      await fetch(`${gatewayUrl}/api/orders`, {
        headers: { authorization: `Bearer ${accessToken}` },
      })
    ).json()) as { items: { status: string }[] }
    expect(mine.items.map((placed) => placed.status)).toEqual(['PENDING'])
  })
})
