import { randomBytes, randomUUID } from 'node:crypto'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import {
  base64url,
  calculateJwkThumbprint,
  decodeJwt,
  exportJWK,
  generateKeyPair,
  SignJWT,
  type CryptoKey,
  type JWK,
  type JWTPayload,
} from 'jose'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  createAccessTokenVerifier,
  readableOwner,
  type AccessTokenVerifier,
} from './access-token-verifier.ts'

const issuer = 'microshop'
const audience = 'microshop'

interface SigningKey {
  kid: string
  privateKey: CryptoKey
  publicJwk: JWK
}

async function newSigningKey(): Promise<SigningKey> {
  const { privateKey, publicKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519' })
  const jwk = await exportJWK(publicKey)
  const kid = await calculateJwkThumbprint(jwk)
  return { kid, privateKey, publicJwk: { ...jwk, kid, alg: 'EdDSA', use: 'sig' } }
}

function accessToken(
  key: SigningKey,
  overrides: { claims?: JWTPayload; header?: Record<string, unknown>; expiresAt?: Date } = {},
) {
  const now = Math.floor(Date.now() / 1000)
  return new SignJWT({ role: 'customer', ...overrides.claims })
    .setProtectedHeader({ alg: 'EdDSA', typ: 'at+jwt', kid: key.kid, ...overrides.header })
    .setSubject(overrides.claims?.sub ?? randomUUID())
    .setIssuer(overrides.claims?.iss ?? issuer)
    .setAudience(overrides.claims?.aud ?? audience)
    .setIssuedAt(now)
    .setExpirationTime(overrides.expiresAt ?? now + 900)
    .setJti(randomUUID())
    .sign(key.privateKey)
}

function encodeSegment(value: unknown): string {
  return base64url.encode(JSON.stringify(value))
}

describe('createAccessTokenVerifier with a local key set', () => {
  let key: SigningKey
  let verify: AccessTokenVerifier

  beforeAll(async () => {
    key = await newSigningKey()
    verify = createAccessTokenVerifier({ keySet: { keys: [key.publicJwk] }, issuer, audience })
  })

  it('when the token is good, then it gives the caller', async () => {
    const userId = randomUUID()
    const token = await accessToken(key, { claims: { sub: userId, role: 'admin' } })
    await expect(verify(token)).resolves.toEqual({ userId, role: 'admin' })
  })

  it('when the token says alg none, then it is rejected', async () => {
    const claims = { sub: randomUUID(), role: 'admin', iss: issuer, aud: audience, jti: 'x' }
    const now = Math.floor(Date.now() / 1000)
    const unsigned = `${encodeSegment({ alg: 'none', typ: 'at+jwt', kid: key.kid })}.${encodeSegment(
      { ...claims, iat: now, exp: now + 900 },
    )}.`
    await expect(verify(unsigned)).rejects.toMatchObject({ kind: 'unauthorized' })
  })

  it('when the payload was changed after signing, then the signature fails', async () => {
    const token = await accessToken(key)
    const [header, , signature] = token.split('.')
    const claims = decodeJwt(token)
    const tampered = `${header}.${encodeSegment({ ...claims, role: 'admin' })}.${signature}`
    await expect(verify(tampered)).rejects.toMatchObject({
      kind: 'unauthorized',
      message: 'The access token is not valid.',
    })
  })

  it('when the token is for another audience or from another issuer, then it is rejected', async () => {
    await expect(
      verify(await accessToken(key, { claims: { aud: 'someone-else' } })),
    ).rejects.toMatchObject({ kind: 'unauthorized' })
    await expect(
      verify(await accessToken(key, { claims: { iss: 'https://evil.example' } })),
    ).rejects.toMatchObject({ kind: 'unauthorized' })
  })

  it('when the token has expired, then it is rejected and says so', async () => {
    const token = await accessToken(key, { expiresAt: new Date(Date.now() - 60_000) })
    await expect(verify(token)).rejects.toMatchObject({
      kind: 'unauthorized',
      message: 'The access token has expired.',
    })
  })

  it('when the token is signed by a key the set does not hold, then it is rejected', async () => {
    const stranger = await newSigningKey()
    await expect(verify(await accessToken(stranger))).rejects.toMatchObject({
      kind: 'unauthorized',
    })
    const impostor = await accessToken({ ...stranger, kid: key.kid })
    await expect(verify(impostor)).rejects.toMatchObject({ kind: 'unauthorized' })
  })

  it('when the token is signed with HS256 and the public key as secret, then it is rejected', async () => {
    const secret = new TextEncoder().encode(key.publicJwk.x)
    const token = await new SignJWT({ role: 'admin' })
      .setProtectedHeader({ alg: 'HS256', typ: 'at+jwt', kid: key.kid })
      .setSubject(randomUUID())
      .setIssuer(issuer)
      .setAudience(audience)
      .setIssuedAt()
      .setExpirationTime('15m')
      .setJti(randomUUID())
      .sign(secret)
    await expect(verify(token)).rejects.toMatchObject({ kind: 'unauthorized' })
  })

  it('when an opaque refresh token is presented, then it is rejected', async () => {
    const refreshToken = randomBytes(32).toString('base64url')
    await expect(verify(refreshToken)).rejects.toMatchObject({ kind: 'unauthorized' })
  })

  it('when a JWT is not typed as an access token, then it is rejected', async () => {
    await expect(verify(await accessToken(key, { header: { typ: 'JWT' } }))).rejects.toMatchObject({
      kind: 'unauthorized',
    })
  })

  it('when the role is unknown or the subject is empty, then it is rejected', async () => {
    await expect(
      verify(await accessToken(key, { claims: { role: 'superuser' } })),
    ).rejects.toMatchObject({ kind: 'unauthorized' })
    await expect(verify(await accessToken(key, { claims: { sub: '' } }))).rejects.toMatchObject({
      kind: 'unauthorized',
    })
  })
})

describe('createAccessTokenVerifier with a remote key set', () => {
  let server: Server
  let jwksUrl: string
  let published: JWK[] = []
  let answerStatus = 200

  beforeAll(async () => {
    server = createServer((request, response) => {
      if (request.url !== '/auth/jwks.json') {
        response.writeHead(404).end()
        return
      }
      response.writeHead(answerStatus, { 'content-type': 'application/json' })
      response.end(JSON.stringify({ keys: published }))
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    jwksUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/auth/jwks.json`
  })
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())))

  it('when the signer rotates to a newly published key, then tokens of both keys verify', async () => {
    const oldKey = await newSigningKey()
    const newKey = await newSigningKey()
    published = [oldKey.publicJwk]
    answerStatus = 200
    const verify = createAccessTokenVerifier({ jwksUrl, jwksCooldownMs: 0, issuer, audience })
    await expect(verify(await accessToken(oldKey))).resolves.toMatchObject({ role: 'customer' })

    published = [newKey.publicJwk, oldKey.publicJwk]
    await expect(verify(await accessToken(newKey))).resolves.toMatchObject({ role: 'customer' })
    await expect(verify(await accessToken(oldKey))).resolves.toMatchObject({ role: 'customer' })
  })

  it('when the key set cannot be fetched, then verification is unavailable, not unauthorized', async () => {
    const key = await newSigningKey()
    published = [key.publicJwk]
    answerStatus = 500
    const verify = createAccessTokenVerifier({ jwksUrl, issuer, audience })
    await expect(verify(await accessToken(key))).rejects.toMatchObject({ kind: 'unavailable' })

    const unreachable = createAccessTokenVerifier({
      jwksUrl: 'http://127.0.0.1:1/auth/jwks.json',
      issuer,
      audience,
    })
    await expect(unreachable(await accessToken(key))).rejects.toMatchObject({
      kind: 'unavailable',
    })
  })
})

describe('readableOwner', () => {
  it("when the caller is a customer, then only their own records are readable; an admin reads everyone's", () => {
    const userId = randomUUID()
    expect(readableOwner({ userId, role: 'customer' })).toBe(userId)
    expect(readableOwner({ userId, role: 'admin' })).toBeUndefined()
  })
})
