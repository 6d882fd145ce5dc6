import { randomUUID } from 'node:crypto'
import { calculateJwkThumbprint, exportJWK, generateKeyPair, SignJWT, type CryptoKey } from 'jose'
import { beforeAll, describe, expect, it } from 'vitest'
import { createAccessTokenVerifier, type AccessTokenVerifier } from './access-token-verifier.ts'
import { cacheVerifiedTokens } from './verified-token-cache.ts'

describe('cacheVerifiedTokens', () => {
  let privateKey: CryptoKey
  let kid: string
  let verify: AccessTokenVerifier
  let verifications: number

  const tokenFor = (userId: string, expiresAt = Math.floor(Date.now() / 1000) + 900) =>
    new SignJWT({ role: 'customer' })
      .setProtectedHeader({ alg: 'EdDSA', typ: 'at+jwt', kid })
      .setSubject(userId)
      .setIssuer('microshop')
      .setAudience('microshop')
      .setIssuedAt()
      .setExpirationTime(expiresAt)
      .setJti(randomUUID())
      .sign(privateKey)

  beforeAll(async () => {
    const pair = await generateKeyPair('EdDSA', { crv: 'Ed25519' })
    privateKey = pair.privateKey
    const jwk = await exportJWK(pair.publicKey)
    kid = await calculateJwkThumbprint(jwk)
    const verifier = createAccessTokenVerifier({
      keySet: { keys: [{ ...jwk, kid, alg: 'EdDSA' }] },
      issuer: 'microshop',
      audience: 'microshop',
    })
    verify = (token) => {
      verifications++
      return verifier(token)
    }
  })

  const clock = () => {
    let nowMs = Date.now()
    return { now: () => nowMs, advance: (ms: number) => (nowMs += ms) }
  }

  it('when a token is presented again, then its signature is not checked again', async () => {
    verifications = 0
    const cached = cacheVerifiedTokens(verify)
    const userId = randomUUID()
    const token = await tokenFor(userId)
    await expect(cached(token)).resolves.toEqual({ userId, role: 'customer' })
    await expect(cached(token)).resolves.toEqual({ userId, role: 'customer' })
    expect(verifications).toBe(1)
  })

  it('when a token is refused, then it is checked and refused every time', async () => {
    verifications = 0
    const cached = cacheVerifiedTokens(verify)
    const token = (await tokenFor(randomUUID())).slice(0, -2) + 'xx'
    await expect(cached(token)).rejects.toMatchObject({ kind: 'unauthorized' })
    await expect(cached(token)).rejects.toMatchObject({ kind: 'unauthorized' })
    expect(verifications).toBe(2)
  })

  it('when maxAgeMs has passed, then the token is checked again', async () => {
    verifications = 0
    const time = clock()
    const cached = cacheVerifiedTokens(verify, { maxAgeMs: 1_000, now: time.now })
    const token = await tokenFor(randomUUID())
    await cached(token)
    time.advance(999)
    await cached(token)
    expect(verifications).toBe(1)
    time.advance(2)
    await cached(token)
    expect(verifications).toBe(2)
  })

  it('when the token expires before maxAgeMs, then it is not trusted past its expiry', async () => {
    verifications = 0
    const time = clock()
    const cached = cacheVerifiedTokens(verify, { maxAgeMs: 600_000, now: time.now })
    const expiresAt = Math.floor(time.now() / 1000) + 2
    const token = await tokenFor(randomUUID(), expiresAt)
    await cached(token)
    time.advance(expiresAt * 1000 - time.now() + 1)
    await cached(token)
    expect(verifications).toBe(2)
  })

  it('when more than maxEntries tokens were seen, then the oldest is forgotten first', async () => {
    verifications = 0
    const cached = cacheVerifiedTokens(verify, { maxEntries: 2 })
    const [first, second, third] = await Promise.all([1, 2, 3].map(() => tokenFor(randomUUID())))
    for (const token of [first, second, third, third, second]) await cached(token as string)
    expect(verifications).toBe(3)
    await cached(first as string)
    expect(verifications).toBe(4)
  })
})
