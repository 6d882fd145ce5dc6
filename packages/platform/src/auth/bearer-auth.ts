import type { FastifyRequest } from 'fastify'
import { forbidden, unauthorized } from '../errors.ts'
import {
  createAccessTokenVerifier,
  type AccessTokenVerifier,
  type Caller,
  type Role,
} from './access-token-verifier.ts'
import { cacheVerifiedTokens } from './verified-token-cache.ts'

// BEARER_HEADER is RFC 6750's credentials syntax: the scheme in any case, then a b64token.
const BEARER_HEADER = /^Bearer +([\w\-.~+/]+=*) *$/i

/** bearerToken reads the token of an `Authorization: Bearer <token>` header, or throws `unauthorized`. */
export function bearerToken(authorization: string | undefined): string {
  const token = authorization ? BEARER_HEADER.exec(authorization)?.[1] : undefined
  if (!token) throw unauthorized('An `Authorization: Bearer <access token>` header is required.')
  return token
}

/**
 * BearerAuth gives a route its caller. Handlers call it first, so the route reads top to bottom:
 * `const caller = await auth.requireUser(request)`. Failures are `unauthorized` (a 401 problem
 * with `WWW-Authenticate: Bearer`) or, for a caller without the role, `forbidden`.
 */
export interface BearerAuth {
  requireUser(request: FastifyRequest): Promise<Caller>
  requireRole(request: FastifyRequest, role: Role): Promise<Caller>
}

export function createBearerAuth(verify: AccessTokenVerifier): BearerAuth {
  const requireUser = (request: FastifyRequest) =>
    verify(bearerToken(request.headers.authorization))
  return {
    requireUser,
    async requireRole(request, role) {
      const caller = await requireUser(request)
      if (caller.role !== role) throw forbidden(`This needs the ${role} role.`)
      return caller
    },
  }
}

/** JwksSettings are the token settings every service that takes bearer tokens reads. */
export interface JwksSettings {
  JWKS_URL: string
  JWT_ISSUER: string
  JWT_AUDIENCE: string
}

/**
 * bearerAuthFromJwks is a service's BearerAuth over the users service's published keys, with
 * verified tokens remembered for a minute: a shopper sends the same token on every request.
 */
export function bearerAuthFromJwks(settings: JwksSettings): BearerAuth {
  return createBearerAuth(
    cacheVerifiedTokens(
      createAccessTokenVerifier({
        jwksUrl: settings.JWKS_URL,
        issuer: settings.JWT_ISSUER,
        audience: settings.JWT_AUDIENCE,
      }),
    ),
  )
}
