import { randomUUID } from 'node:crypto'
import { decodeProtectedHeader } from 'jose'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import {
  createTestDatabase,
  databaseKinds,
  type TestDatabase,
} from '@microshop/platform/testing/databases'
import { loadUsersConfig } from '../config.ts'
import { startUsersService, type UsersService } from '../service.ts'

interface TokenPairBody {
  accessToken: string
  refreshToken: string
  tokenType: string
  expiresIn: number
}

const password = 'correct horse battery'

describe.each(databaseKinds)('users HTTP API on %s', (kind) => {
  let testDb: TestDatabase
  let service: UsersService
  let clockOffsetMs = 0
  // frozenAt stops the service's clock where a test needs time to pass only when it says so: a
  // sign-in hashes a password, which on a busy machine can take longer than a throttle's wait.
  let frozenAt: number | undefined

  beforeAll(async () => {
    testDb = await createTestDatabase(kind)
    const config = loadUsersConfig({
      DATABASE_URL: testDb.url,
      DATA_DIR: testDb.dataDir,
      HOST: '127.0.0.1',
      PORT: '0',
      LOG_LEVEL: 'silent',
      REFRESH_TOKEN_TTL_SECONDS: '600',
    })
    service = await startUsersService(config, {
      now: () => new Date((frozenAt ?? Date.now()) + clockOffsetMs),
    })
  })
  afterAll(async () => {
    await service?.close()
    await testDb?.drop()
  })

  const newEmail = () => `user-${randomUUID()}@example.com`
  const post = (url: string, payload: object) =>
    service.app.inject({ method: 'POST', url, payload })
  const register = (body: Record<string, unknown>) => post('/auth/register', body)
  const logIn = (email: string, pw = password) => post('/auth/login', { email, password: pw })
  const me = (authorization?: string) =>
    service.app.inject({ url: '/users/me', headers: authorization ? { authorization } : {} })

  async function signedUp(email = newEmail()): Promise<TokenPairBody> {
    expect((await register({ email, password, name: 'Ann' })).statusCode).toBe(201)
    const response = await logIn(email)
    expect(response.statusCode).toBe(200)
    return response.json<TokenPairBody>()
  }

  describe('POST /auth/register', () => {
    it('when the details are good, then it answers 201 with the customer and no secrets', async () => {
      const email = `Ann.${randomUUID()}@Example.com`
      const response = await register({ email, password, name: '  Ann Smith ' })
      expect(response.statusCode).toBe(201)
      const { id, createdAt, ...user } = response.json<Record<string, string>>()
      expect(user).toEqual({ email, name: 'Ann Smith', role: 'customer' })
      expect(id).toMatch(/^[0-9a-f-]{36}$/)
      expect(createdAt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/)
    })

    it('when the email exists in another letter case, then it answers 409', async () => {
      const email = newEmail()
      expect((await register({ email, password, name: 'Ann' })).statusCode).toBe(201)
      const again = await register({ email: email.toUpperCase(), password, name: 'Other' })
      expect(again.statusCode).toBe(409)
      expect(again.json()).toMatchObject({ type: '/problems/conflict', status: 409 })
    })

    it('when the password is 8 or 128 characters, then it is accepted; 7 or 129 are not', async () => {
      const lengths = { 7: 400, 8: 201, 128: 201, 129: 400 }
      for (const [length, status] of Object.entries(lengths)) {
        const response = await register({
          email: newEmail(),
          password: 'p'.repeat(Number(length)),
          name: 'Ann',
        })
        expect({ length, status: response.statusCode }).toEqual({ length, status })
      }
      const emoji = await register({ email: newEmail(), password: '🔑'.repeat(8), name: 'Ann' })
      expect(emoji.statusCode).toBe(201)
    })

    it('when a name, an email or a password holds a NUL, then it is a 400 naming it, never a 500', async () => {
      const email = newEmail()
      const cases = [
        [{ email, password, name: 'Ann\u0000' }, '/body/name'],
        [{ email: `a\u0000${email}`, password, name: 'Ann' }, '/body/email'],
        [{ email, password: `${password}\u0000`, name: 'Ann' }, '/body/password'],
      ] as const
      for (const [body, pointer] of cases) {
        const response = await register(body)
        expect(response.statusCode, pointer).toBe(400)
        expect(response.json(), pointer).toMatchObject({
          instance: '/api/auth/register',
          errors: [{ pointer }],
        })
      }
      const signIn = await post('/auth/login', { email: `x\u0000${email}`, password })
      expect(signIn.statusCode).toBe(400)
      expect(signIn.json()).toMatchObject({ errors: [{ pointer: '/body/email' }] })
      expect((await register({ email, password, name: 'Ann' })).statusCode).toBe(201)
    })

    it('when the input is bad, then a 400 problem names every field and nothing is created', async () => {
      const email = newEmail()
      const bad = await register({ email: 'not-an-email', password: 'short', name: '' })
      expect(bad.statusCode).toBe(400)
      expect(bad.headers['content-type']).toContain('application/problem+json')
      const pointers = bad.json<{ errors: { pointer: string }[] }>().errors.map((e) => e.pointer)
      expect(pointers).toEqual(
        expect.arrayContaining(['/body/email', '/body/password', '/body/name']),
      )

      const smuggled = await register({ email, password, name: 'Eve', role: 'admin' })
      expect(smuggled.statusCode).toBe(400)
      expect((await logIn(email)).statusCode).toBe(401)
      const honest = await register({ email, password, name: 'Eve' })
      expect(honest.statusCode).toBe(201)
      expect(honest.json()).toMatchObject({ role: 'customer' })
    })
  })

  describe('POST /auth/login', () => {
    // The throttle's waits are seconds: these tests move the clock themselves.
    beforeEach(() => {
      frozenAt = Date.now()
    })
    afterEach(() => {
      frozenAt = undefined
    })

    it('when the password is right, then it answers a token pair that is not cached', async () => {
      const email = newEmail()
      await register({ email, password, name: 'Ann' })
      const response = await logIn(email.toUpperCase())
      expect(response.statusCode).toBe(200)
      expect(response.headers['cache-control']).toBe('no-store')
      const pair = response.json<TokenPairBody>()
      expect(pair).toMatchObject({ tokenType: 'Bearer', expiresIn: 900 })
      const header = decodeProtectedHeader(pair.accessToken)
      expect(header).toMatchObject({ alg: 'EdDSA', typ: 'at+jwt' })
      expect(header.kid).toMatch(/^[\w-]{43}$/)
      expect(pair.refreshToken).toMatch(/^[\w-]{43}$/)
    })

    it('when the email is unknown or the password wrong, then the answers are identical', async () => {
      const email = newEmail()
      await register({ email, password, name: 'Ann' })
      const wrongPassword = await logIn(email, 'wrong password')
      const unknownEmail = await logIn(newEmail(), 'wrong password')
      expect(wrongPassword.statusCode).toBe(401)
      expect(unknownEmail.statusCode).toBe(wrongPassword.statusCode)
      expect(unknownEmail.body).toBe(wrongPassword.body)
      const comparable = (headers: Record<string, unknown>) =>
        Object.entries(headers).filter(([name]) => name !== 'x-request-id' && name !== 'date')
      expect(comparable(unknownEmail.headers)).toEqual(comparable(wrongPassword.headers))
    })

    it('when failures pile up, then the email is throttled with Retry-After, known or not', async () => {
      const known = newEmail()
      await register({ email: known, password, name: 'Ann' })
      for (const email of [known, newEmail()]) {
        for (let attempt = 1; attempt <= 5; attempt++) {
          expect((await logIn(email, 'wrong password')).statusCode).toBe(401)
        }
        const throttled = await logIn(email.toUpperCase(), password)
        expect(throttled.statusCode).toBe(429)
        expect(throttled.headers['retry-after']).toBe('1')
        expect(throttled.json()).toMatchObject({ type: '/problems/too-many-requests' })
      }
    })

    it('when the wait is over and the password is right, then sign-in works and the count resets', async () => {
      const email = newEmail()
      await register({ email, password, name: 'Ann' })
      for (let attempt = 1; attempt <= 6; attempt++) {
        clockOffsetMs += 60_000
        expect((await logIn(email, 'wrong password')).statusCode).toBe(401)
      }
      const locked = await logIn(email)
      expect(locked.statusCode).toBe(429)
      expect(locked.headers['retry-after']).toBe('2')

      clockOffsetMs += 2_000
      expect((await logIn(email)).statusCode).toBe(200)
      for (let attempt = 1; attempt <= 4; attempt++) {
        expect((await logIn(email, 'wrong password')).statusCode).toBe(401)
      }
    })

    it('when someone keeps failing on an account from their address, then its owner still signs in from theirs', async () => {
      const email = newEmail()
      await register({ email, password, name: 'Ann' })
      const from = (address: string, pw: string) =>
        service.app.inject({
          method: 'POST',
          url: '/auth/login',
          payload: { email, password: pw },
          headers: { 'x-forwarded-for': address },
        })
      for (let attempt = 1; attempt <= 6; attempt++) await from('203.0.113.66', 'wrong password')
      expect((await from('203.0.113.66', password)).statusCode).toBe(429)
      expect((await from('198.51.100.7', password)).statusCode).toBe(200)
      // The attacker's wait is theirs alone, and the owner's success does not lift it.
      expect((await from('203.0.113.66', password)).statusCode).toBe(429)
    })

    it('when an account is guessed from many addresses, then each new one gets one try; the owner still signs in', async () => {
      const email = newEmail()
      await register({ email, password, name: 'Ann' })
      const from = (address: string, pw: string) =>
        service.app.inject({
          method: 'POST',
          url: '/auth/login',
          payload: { email, password: pw },
          headers: { 'x-forwarded-for': address },
        })
      // 20 failures (LOGIN_THROTTLE_EMAIL_FAILURES) from 5 addresses, 4 each: under the free 5.
      for (let host = 1; host <= 5; host++) {
        for (let attempt = 1; attempt <= 4; attempt++) {
          expect((await from(`203.0.113.${host}`, 'wrong password')).statusCode).toBe(401)
        }
      }
      expect((await from('203.0.113.99', 'wrong password')).statusCode).toBe(401)
      expect((await from('203.0.113.99', 'wrong password')).statusCode).toBe(429)
      expect((await from('198.51.100.7', password)).statusCode).toBe(200)
    })

    it('when the body is malformed, then it answers 400, not 401', async () => {
      const response = await post('/auth/login', { email: newEmail() })
      expect(response.statusCode).toBe(400)
      expect(response.json()).toMatchObject({ errors: [{ pointer: '/body/password' }] })
    })
  })

  describe('POST /auth/refresh and /auth/logout', () => {
    it('when a refresh token is traded, then a new pair comes back and the old token is spent', async () => {
      const first = await signedUp()
      const refreshed = await post('/auth/refresh', { refreshToken: first.refreshToken })
      expect(refreshed.statusCode).toBe(200)
      expect(refreshed.headers['cache-control']).toBe('no-store')
      const second = refreshed.json<TokenPairBody>()
      expect(second.refreshToken).not.toBe(first.refreshToken)
      expect((await me(`Bearer ${second.accessToken}`)).statusCode).toBe(200)
      expect((await post('/auth/refresh', { refreshToken: second.refreshToken })).statusCode).toBe(
        200,
      )
    })

    it('when a spent refresh token comes back, then the whole session is revoked', async () => {
      const first = await signedUp()
      const second = (
        await post('/auth/refresh', { refreshToken: first.refreshToken })
      ).json<TokenPairBody>()
      const replay = await post('/auth/refresh', { refreshToken: first.refreshToken })
      expect(replay.statusCode).toBe(401)
      expect(replay.headers['www-authenticate']).toBe('Bearer')
      expect((await post('/auth/refresh', { refreshToken: second.refreshToken })).statusCode).toBe(
        401,
      )
    })

    it('when two refreshes race with one token, then at most one wins and the session ends', async () => {
      const first = await signedUp()
      const [a, b] = await Promise.all([
        post('/auth/refresh', { refreshToken: first.refreshToken }),
        post('/auth/refresh', { refreshToken: first.refreshToken }),
      ])
      expect([a.statusCode, b.statusCode].filter((status) => status === 200).length).toBeLessThan(2)
      const winner = [a, b].find((response) => response.statusCode === 200)
      if (winner) {
        const { refreshToken } = winner.json<TokenPairBody>()
        expect((await post('/auth/refresh', { refreshToken })).statusCode).toBe(401)
      }
    })

    it('when the refresh token is unknown or has expired, then it answers 401', async () => {
      expect((await post('/auth/refresh', { refreshToken: 'made-up' })).statusCode).toBe(401)
      const pair = await signedUp()
      clockOffsetMs += 601_000
      expect((await post('/auth/refresh', { refreshToken: pair.refreshToken })).statusCode).toBe(
        401,
      )
    })

    it('when signing out, then it answers 204 and the refresh token stops working', async () => {
      const pair = await signedUp()
      const response = await post('/auth/logout', { refreshToken: pair.refreshToken })
      expect(response.statusCode).toBe(204)
      expect(response.body).toBe('')
      expect((await post('/auth/refresh', { refreshToken: pair.refreshToken })).statusCode).toBe(
        401,
      )
      expect((await post('/auth/logout', { refreshToken: 'made-up' })).statusCode).toBe(204)
      expect((await post('/auth/logout', {})).statusCode).toBe(400)
    })
  })

  describe('GET /users/me', () => {
    it('when the access token is valid, then it answers the user', async () => {
      const email = newEmail()
      const pair = await signedUp(email)
      const response = await me(`Bearer ${pair.accessToken}`)
      expect(response.statusCode).toBe(200)
      expect(response.json()).toMatchObject({ email, name: 'Ann', role: 'customer' })
    })

    it('when there is no token, a refresh token, or a tampered one, then it answers 401', async () => {
      const pair = await signedUp()
      const [header, payload, signature] = pair.accessToken.split('.')
      const claims = JSON.parse(Buffer.from(payload ?? '', 'base64url').toString()) as object
      const forged = Buffer.from(JSON.stringify({ ...claims, role: 'admin' })).toString('base64url')
      for (const authorization of [
        undefined,
        `Bearer ${pair.refreshToken}`,
        `Bearer ${header}.${forged}.${signature}`,
        `Basic ${Buffer.from('ann:pw').toString('base64')}`,
      ]) {
        const response = await me(authorization)
        expect(response.statusCode).toBe(401)
        expect(response.headers['www-authenticate']).toBe('Bearer')
      }
    })
  })

  describe('GET /auth/jwks.json', () => {
    it('publishes the public half of the key that signs, and nothing private', async () => {
      const pair = await signedUp()
      const response = await service.app.inject({ url: '/auth/jwks.json' })
      expect(response.statusCode).toBe(200)
      expect(response.headers['cache-control']).toBe('public, max-age=300')
      const { keys } = response.json<{ keys: Record<string, unknown>[] }>()
      const { kid } = decodeProtectedHeader(pair.accessToken)
      expect(keys).toHaveLength(1)
      expect(Object.keys(keys[0] ?? {}).sort()).toEqual(['alg', 'crv', 'kid', 'kty', 'use', 'x'])
      expect(keys[0]).toMatchObject({ kty: 'OKP', crv: 'Ed25519', kid, alg: 'EdDSA', use: 'sig' })
    })
  })

  it('documents every route, with the bearer requirement on /users/me', async () => {
    const openapi = (await service.app.inject({ url: '/openapi.json' })).json<{
      paths: Record<string, Record<string, { security?: unknown; responses: object }>>
    }>()
    expect(Object.keys(openapi.paths).sort()).toEqual([
      '/auth/jwks.json',
      '/auth/login',
      '/auth/logout',
      '/auth/refresh',
      '/auth/register',
      '/users/me',
    ])
    expect(openapi.paths['/users/me']?.get?.security).toEqual([{ bearer: [] }])
    expect(Object.keys(openapi.paths['/auth/login']?.post?.responses ?? {})).toEqual([
      '200',
      '400',
      '401',
      '429',
      '503',
    ])
    expect(openapi.paths['/auth/login']?.post?.security).toEqual([])
  })
})
