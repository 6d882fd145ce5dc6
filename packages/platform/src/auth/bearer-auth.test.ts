import { randomUUID } from 'node:crypto'
import { calculateJwkThumbprint, exportJWK, generateKeyPair, SignJWT } from 'jose'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createHttpApp, type HttpApp } from '../http/app.ts'
import { createLogger } from '../logger.ts'
import { createMetrics } from '../metrics.ts'
import { createAccessTokenVerifier, type Role } from './access-token-verifier.ts'
import { bearerToken, createBearerAuth } from './bearer-auth.ts'

describe('bearerToken', () => {
  it('when the header holds a bearer token, then it gives the token whatever the scheme case', () => {
    expect(bearerToken('Bearer abc.def-ghi_j~k')).toBe('abc.def-ghi_j~k')
    expect(bearerToken('bearer abc==')).toBe('abc==')
  })

  it('when the header is missing, empty or another scheme, then it is unauthorized', () => {
    for (const header of [undefined, '', 'Bearer', 'Bearer ', 'Basic dXNlcjpwdw==', 'Bearer a b']) {
      expect(() => bearerToken(header)).toThrow(expect.objectContaining({ kind: 'unauthorized' }))
    }
  })
})

describe('createBearerAuth on a route', () => {
  let app: HttpApp
  let tokenFor: (role: Role) => Promise<string>
  const userId = randomUUID()

  beforeAll(async () => {
    const { privateKey, publicKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519' })
    const jwk = await exportJWK(publicKey)
    const kid = await calculateJwkThumbprint(jwk)
    tokenFor = (role) =>
      new SignJWT({ role })
        .setProtectedHeader({ alg: 'EdDSA', typ: 'at+jwt', kid })
        .setSubject(userId)
        .setIssuer('microshop')
        .setAudience('microshop')
        .setIssuedAt()
        .setExpirationTime('5m')
        .setJti(randomUUID())
        .sign(privateKey)
    const auth = createBearerAuth(
      createAccessTokenVerifier({
        keySet: { keys: [{ ...jwk, kid }] },
        issuer: 'microshop',
        audience: 'microshop',
      }),
    )
    app = await createHttpApp({
      service: 'test',
      logger: createLogger({ service: 'test', level: 'silent' }),
      metrics: createMetrics('test'),
      openapi: { title: 'test', description: 'test' },
    })
    app.get('/whoami', async (request) => auth.requireUser(request))
    app.get('/admin', async (request) => auth.requireRole(request, 'admin'))
    await app.ready()
  })
  afterAll(() => app.close())

  it('when the token is valid, then the handler gets the caller', async () => {
    const response = await app.inject({
      url: '/whoami',
      headers: { authorization: `Bearer ${await tokenFor('customer')}` },
    })
    expect(response.statusCode).toBe(200)
    expect(response.json()).toEqual({ userId, role: 'customer' })
  })

  it('when there is no token or a bad one, then a 401 problem challenges for a bearer token', async () => {
    for (const authorization of [undefined, 'Bearer not-a-token']) {
      const response = await app.inject({
        url: '/whoami',
        headers: authorization ? { authorization } : {},
      })
      expect(response.statusCode).toBe(401)
      expect(response.headers['www-authenticate']).toBe('Bearer')
      expect(response.headers['content-type']).toContain('application/problem+json')
      expect(response.json()).toMatchObject({ status: 401, title: 'Unauthorized' })
    }
  })

  it('when the caller lacks the role, then it is a 403 problem; with it, the route runs', async () => {
    const customer = await app.inject({
      url: '/admin',
      headers: { authorization: `Bearer ${await tokenFor('customer')}` },
    })
    expect(customer.statusCode).toBe(403)
    const admin = await app.inject({
      url: '/admin',
      headers: { authorization: `Bearer ${await tokenFor('admin')}` },
    })
    expect(admin.statusCode).toBe(200)
    expect(admin.json()).toEqual({ userId, role: 'admin' })
  })
})
