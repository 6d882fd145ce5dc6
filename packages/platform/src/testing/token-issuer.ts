import { randomUUID } from 'node:crypto'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { calculateJwkThumbprint, exportJWK, generateKeyPair, SignJWT } from 'jose'
import type { Role } from '../auth/access-token-verifier.ts'

/**
 * TestTokenIssuer stands in for the users service in a service's own tests: it signs access
 * tokens the way users does (EdDSA, `at+jwt`, issuer and audience `microshop`) and serves its
 * JWKS over real HTTP, so the service under test verifies them exactly as in production.
 */
export interface TestTokenIssuer {
  jwksUrl: string
  tokenFor(role: Role, userId?: string): Promise<string>
  close(): Promise<void>
}

export async function startTestTokenIssuer(): Promise<TestTokenIssuer> {
  const { privateKey, publicKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519' })
  const jwk = await exportJWK(publicKey)
  const kid = await calculateJwkThumbprint(jwk)
  const jwks = JSON.stringify({ keys: [{ ...jwk, kid, alg: 'EdDSA', use: 'sig' }] })
  const server = createServer((_request, response) => {
    response.writeHead(200, { 'content-type': 'application/json' }).end(jwks)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    jwksUrl: `http://127.0.0.1:${port}/auth/jwks.json`,
    tokenFor: (role, userId = randomUUID()) =>
      new SignJWT({ role })
        .setProtectedHeader({ alg: 'EdDSA', typ: 'at+jwt', kid })
        .setSubject(userId)
        .setIssuer('microshop')
        .setAudience('microshop')
        .setIssuedAt()
        .setExpirationTime('15m')
        .setJti(randomUUID())
        .sign(privateKey),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  }
}
