// The gateway's browser session (services/gateway/src/http/browser-session-routes.ts) in front of
// the real users service: the cookie, its rotation, reuse detection, sign-out and the CSRF guard.
import { createServer, type AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  CSRF_HEADER,
  SESSION_COOKIE,
} from '../../services/gateway/src/http/browser-session-routes.ts'
import { loadGatewayConfig } from '../../services/gateway/src/config.ts'
import { startGatewayService, type GatewayService } from '../../services/gateway/src/service.ts'
import { loadUsersConfig } from '../../services/users/src/config.ts'
import { startUsersService, type UsersService } from '../../services/users/src/service.ts'

const shopper = { email: 'cookie.shopper@example.com', password: 'a long password', name: 'Cookie' }
const guard = { [CSRF_HEADER]: '1' }

interface SessionBody {
  accessToken: string
  tokenType: string
  expiresIn: number
  refreshToken?: string
}

/** cookieOf is the session cookie a response set, with its attributes. */
function cookieOf(response: Response): { value: string; attributes: string[] } | undefined {
  const header = response.headers.getSetCookie().find((c) => c.startsWith(`${SESSION_COOKIE}=`))
  if (header === undefined) return undefined
  const [pair = '', ...attributes] = header.split(';').map((part) => part.trim())
  return { value: pair.slice(SESSION_COOKIE.length + 1), attributes }
}

describe('the browser session at /api/auth/session', () => {
  let users: UsersService
  let gateway: GatewayService
  let url: string

  const session = (
    path: string,
    init: {
      method?: string
      cookie?: string
      body?: unknown
      headers?: Record<string, string>
    } = {},
  ) =>
    fetch(`${url}/api/auth/session${path}`, {
      method: init.method ?? 'POST',
      headers: {
        ...guard,
        ...(init.body === undefined ? {} : { 'content-type': 'application/json' }),
        ...(init.cookie === undefined ? {} : { cookie: `${SESSION_COOKIE}=${init.cookie}` }),
        ...init.headers,
      },
      ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
    })
  const signIn = () => session('', { body: { email: shopper.email, password: shopper.password } })

  beforeAll(async () => {
    users = await startUsersService(
      loadUsersConfig({ DATA_DIR: 'memory://', HOST: '127.0.0.1', PORT: '0', LOG_LEVEL: 'silent' }),
    )
    const usersUrl = `http://127.0.0.1:${(users.app.server.address() as AddressInfo).port}`
    gateway = await startGatewayService(
      loadGatewayConfig({
        HOST: '127.0.0.1',
        PORT: '0',
        LOG_LEVEL: 'silent',
        USERS_URL: usersUrl,
        AUTH_RATE_LIMIT_MAX: '10',
        // The test client is on loopback and names the client in X-Forwarded-For.
        TRUST_PROXY: 'loopback',
        CORS_ORIGINS: 'http://localhost:5173',
      }),
    )
    url = `http://127.0.0.1:${(gateway.app.server.address() as AddressInfo).port}`
    const registered = await fetch(`${url}/api/auth/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(shopper),
    })
    expect(registered.status).toBe(201)
  })
  afterAll(async () => {
    await gateway?.close()
    await users?.close()
  })

  it('when the storefront signs in, then it gets the access token and the refresh token only as an HttpOnly cookie', async () => {
    const response = await signIn()
    expect(response.status).toBe(200)
    const body = (await response.json()) as SessionBody
    expect(Object.keys(body).sort()).toEqual(['accessToken', 'expiresIn', 'tokenType'])
    expect(body).toMatchObject({ tokenType: 'Bearer', expiresIn: 900 })
    expect(response.headers.get('cache-control')).toBe('no-store')
    const cookie = cookieOf(response)
    expect(cookie?.value).toMatch(/^[\w-]{20,}$/)
    for (const attribute of [
      'Path=/api/auth/session',
      'HttpOnly',
      'SameSite=Strict',
      'Max-Age=2592000',
    ]) {
      expect(cookie?.attributes).toContain(attribute)
    }
    expect(cookie?.attributes).not.toContain('Secure')

    const me = await fetch(`${url}/api/users/me`, {
      headers: { authorization: `Bearer ${body.accessToken}` },
    })
    expect(await me.json()).toMatchObject({ email: shopper.email })
  })

  it('when the shop is reached over https, then the cookie is Secure', async () => {
    const response = await session('', {
      body: { email: shopper.email, password: shopper.password },
      headers: { 'x-forwarded-proto': 'https' },
    })
    expect(response.status).toBe(200)
    expect(cookieOf(response)?.attributes).toContain('Secure')
  })

  it('when the session is refreshed, then the cookie rotates; the old one again revokes the session and clears it', async () => {
    const first = cookieOf(await signIn())?.value ?? ''
    const refreshed = await session('/refresh', { cookie: first })
    expect(refreshed.status).toBe(200)
    expect(((await refreshed.json()) as SessionBody).accessToken).toMatch(/^ey/)
    const second = cookieOf(refreshed)?.value ?? ''
    expect(second).not.toBe(first)

    const reused = await session('/refresh', { cookie: first })
    expect(reused.status).toBe(401)
    expect(reused.headers.get('content-type')).toContain('application/problem+json')
    expect(cookieOf(reused)?.value).toBe('')
    expect(cookieOf(reused)?.attributes).toContain('Max-Age=0')
    // The reuse revoked the whole session: the newest token is dead too.
    expect((await session('/refresh', { cookie: second })).status).toBe(401)
  })

  it('when refreshes outnumber the sign-in budget, then they are not throttled like sign-ins', async () => {
    let cookie = cookieOf(await signIn())?.value ?? ''
    for (let i = 0; i < 12; i++) {
      const response = await session('/refresh', { cookie })
      expect(response.status).toBe(200)
      cookie = cookieOf(response)?.value ?? ''
    }
  })

  it('when there is no cookie, then refresh is a 401 and the users service is not asked', async () => {
    const response = await session('/refresh')
    expect(response.status).toBe(401)
    expect(await response.json()).toMatchObject({
      status: 401,
      detail: 'There is no session: sign in.',
    })
  })

  it('when the storefront signs out, then the cookie is cleared and its session ends', async () => {
    const cookie = cookieOf(await signIn())?.value ?? ''
    const response = await session('', { method: 'DELETE', cookie })
    expect(response.status).toBe(204)
    expect(cookieOf(response)?.attributes).toContain('Max-Age=0')
    expect((await session('/refresh', { cookie })).status).toBe(401)
  })

  it('when the password is wrong, then the users service answer comes through as it is', async () => {
    const response = await session('', {
      body: { email: shopper.email, password: 'not the password' },
    })
    expect(response.status).toBe(401)
    expect(cookieOf(response)?.value ?? '').toBe('')
    expect(await response.json()).toMatchObject({ status: 401, type: '/problems/unauthorized' })
  })

  it('when a request lacks the CSRF header or comes from another origin, then it is refused', async () => {
    const noHeader = await fetch(`${url}/api/auth/session/refresh`, { method: 'POST' })
    expect(noHeader.status).toBe(403)
    const elsewhere = await session('/refresh', { headers: { origin: 'https://evil.example' } })
    expect(elsewhere.status).toBe(403)
    const devServer = await session('/refresh', { headers: { origin: 'http://localhost:5173' } })
    expect(devServer.status).toBe(401)
    const sameOrigin = await session('/refresh', { headers: { origin: url } })
    expect(sameOrigin.status).toBe(401)
  })

  it('when the users service is down, then signing in is a 503 with Retry-After', async () => {
    const down = await startGatewayService(
      loadGatewayConfig({
        HOST: '127.0.0.1',
        PORT: '0',
        LOG_LEVEL: 'silent',
        USERS_URL: `http://127.0.0.1:${await closedPort()}`,
      }),
    )
    try {
      const port = (down.app.server.address() as AddressInfo).port
      const response = await fetch(`http://127.0.0.1:${port}/api/auth/session`, {
        method: 'POST',
        headers: { ...guard, 'content-type': 'application/json' },
        body: JSON.stringify({ email: shopper.email, password: shopper.password }),
      })
      expect(response.status).toBe(503)
      expect(response.headers.get('retry-after')).toBe('1')
    } finally {
      await down.close()
    }
  })
})

/** closedPort is a port nothing listens on: one the OS just handed out and took back. */
function closedPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer()
    probe.once('error', reject)
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as AddressInfo
      probe.close(() => resolve(port))
    })
  })
}
