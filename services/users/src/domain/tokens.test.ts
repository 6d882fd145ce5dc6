import { randomUUID } from 'node:crypto'
import { decodeJwt, decodeProtectedHeader } from 'jose'
import { beforeAll, describe, expect, it } from 'vitest'
import { createAccessTokenVerifier } from '@microshop/platform/auth/access-token-verifier'
import { loadSigningKeys, type SigningKeys } from '../signing-keys.ts'
import { createTokenIssuer, hashRefreshToken } from './tokens.ts'

const settings = {
  issuer: 'microshop',
  audience: 'microshop',
  accessTokenTtlSeconds: 900,
  refreshTokenTtlSeconds: 3600,
}

describe('createTokenIssuer', () => {
  let keys: SigningKeys
  beforeAll(async () => {
    keys = await loadSigningKeys({ DATA_DIR: 'memory://' })
  })

  it('issues an access token that the platform verifier accepts, with every claim', async () => {
    const user = { id: randomUUID(), role: 'admin' as const }
    const now = new Date()
    const { pair } = await createTokenIssuer(keys.active, settings).issue(user, now)
    const verify = createAccessTokenVerifier({ keySet: keys.jwks, ...settings })
    await expect(verify(pair.accessToken)).resolves.toEqual({ userId: user.id, role: 'admin' })

    expect(decodeProtectedHeader(pair.accessToken)).toEqual({
      alg: 'EdDSA',
      typ: 'at+jwt',
      kid: keys.active.kid,
    })
    const issuedAt = Math.floor(now.getTime() / 1000)
    const { jti, ...claims } = decodeJwt(pair.accessToken)
    expect(claims).toEqual({
      sub: user.id,
      role: 'admin',
      iss: 'microshop',
      aud: 'microshop',
      iat: issuedAt,
      exp: issuedAt + 900,
    })
    expect(jti).toMatch(/^[0-9a-f-]{36}$/)
    expect(pair).toMatchObject({ tokenType: 'Bearer', expiresIn: 900 })
  })

  it('makes refresh tokens that are random, opaque, and stored only as their hash', async () => {
    const now = new Date()
    const issuer = createTokenIssuer(keys.active, settings)
    const user = { id: randomUUID(), role: 'customer' as const }
    const [a, b] = await Promise.all([issuer.issue(user, now), issuer.issue(user, now)])
    expect(a.pair.refreshToken).not.toBe(b.pair.refreshToken)
    expect(a.pair.refreshToken.split('.')).toHaveLength(1)
    expect(a.refreshToken).toEqual({
      hash: hashRefreshToken(a.pair.refreshToken),
      expiresAt: new Date(now.getTime() + 3600 * 1000),
    })
    expect(a.refreshToken.hash).toMatch(/^[0-9a-f]{64}$/)
    expect(a.refreshToken.hash).not.toContain(a.pair.refreshToken)
  })
})
