import {
  createLocalJWKSet,
  createRemoteJWKSet,
  errors,
  jwtVerify,
  type JSONWebKeySet,
  type JWTPayload,
  type JWTVerifyGetKey,
} from 'jose'
import { unauthorized, unavailable } from '../errors.ts'

/** roles are what an account may be: every caller is a customer, a few are admins. */
export const roles = ['customer', 'admin'] as const
export type Role = (typeof roles)[number]

/** ACCESS_TOKEN_ALGORITHM is the one signature algorithm access tokens use; verifiers accept no other. */
export const ACCESS_TOKEN_ALGORITHM = 'EdDSA'

/**
 * ACCESS_TOKEN_TYPE is the `typ` header of an access token (RFC 9068), so that no other JWT signed
 * with the same keys passes as one.
 */
export const ACCESS_TOKEN_TYPE = 'at+jwt'

/** Caller is who made a request, as its access token says. */
export interface Caller {
  userId: string
  role: Role
}

/**
 * readableOwner is whose records a caller may read: their own (their user id), or everyone's for
 * an admin (undefined): the owner filter of a service's get and list use cases.
 */
export function readableOwner(caller: Caller): string | undefined {
  return caller.role === 'admin' ? undefined : caller.userId
}

export type AccessTokenKeys =
  | {
      /** jwksUrl is where the users service publishes its public keys (`/auth/jwks.json`). */
      jwksUrl: string | URL
      /** jwksCooldownMs is how long after a fetch an unknown key id may not trigger another. */
      jwksCooldownMs?: number
      /** jwksCacheMaxAgeMs is how long fetched keys are trusted before they are fetched again. */
      jwksCacheMaxAgeMs?: number
      jwksTimeoutMs?: number
    }
  | {
      /** keySet is a JWKS held in the process: the users service checks its own tokens with it. */
      keySet: JSONWebKeySet
    }

export type AccessTokenVerifierOptions = AccessTokenKeys & {
  issuer: string
  audience: string
  /** clockToleranceSeconds absorbs clock skew between the signer and this verifier. */
  clockToleranceSeconds?: number
}

/** AccessTokenVerifier turns an access token into its caller, or throws AppError `unauthorized`. */
export type AccessTokenVerifier = (token: string) => Promise<Caller>

/**
 * createAccessTokenVerifier checks access tokens the users service signed: an EdDSA signature by
 * one of its published keys (remote JWKS, fetched once and cached, or a local one), the access
 * token type, issuer, audience and expiry. Any failure is `unauthorized`, except that keys that
 * cannot be fetched are `unavailable`: a caller must not throw away a good token for our outage.
 */
export function createAccessTokenVerifier(
  options: AccessTokenVerifierOptions,
): AccessTokenVerifier {
  const remote = 'jwksUrl' in options
  // The remote key set is made on the first check, not at start: making it reaches fetch's
  // Headers, which loads Node's whole HTTP client (undici) into a start that needs none of it
  // (decision 0017).
  let remoteKeys: JWTVerifyGetKey | undefined
  const keys: JWTVerifyGetKey = remote
    ? (header, token) => {
        remoteKeys ??= createRemoteJWKSet(new URL(options.jwksUrl), {
          cooldownDuration: options.jwksCooldownMs ?? 30_000,
          cacheMaxAge: options.jwksCacheMaxAgeMs ?? 600_000,
          timeoutDuration: options.jwksTimeoutMs ?? 5_000,
        })
        return remoteKeys(header, token)
      }
    : createLocalJWKSet(options.keySet)
  const verifyOptions = {
    algorithms: [ACCESS_TOKEN_ALGORITHM],
    typ: ACCESS_TOKEN_TYPE,
    issuer: options.issuer,
    audience: options.audience,
    clockTolerance: options.clockToleranceSeconds ?? 5,
    requiredClaims: ['sub', 'exp', 'iat', 'jti'],
  }

  return async (token) => {
    let payload: JWTPayload
    try {
      ;({ payload } = await jwtVerify(token, keys, verifyOptions))
    } catch (error) {
      if (remote && isKeyFetchFailure(error)) {
        const failure = unavailable(
          'The keys to check access tokens could not be loaded; try again.',
        )
        failure.cause = error
        throw failure
      }
      throw error instanceof errors.JWTExpired
        ? unauthorized('The access token has expired.')
        : invalidToken()
    }
    const { sub, role } = payload
    if (typeof sub !== 'string' || sub === '' || !isRole(role)) throw invalidToken()
    return { userId: sub, role }
  }
}

function isRole(value: unknown): value is Role {
  return roles.includes(value as Role)
}

const invalidToken = () => unauthorized('The access token is not valid.')

// isKeyFetchFailure tells the JWKS endpoint failing (network errors surface from fetch as plain
// errors, bad answers as jose's generic, timeout and JWKS errors) from a token that is bad.
function isKeyFetchFailure(error: unknown): boolean {
  if (!(error instanceof errors.JOSEError)) return true
  return ['ERR_JOSE_GENERIC', 'ERR_JWKS_TIMEOUT', 'ERR_JWKS_INVALID'].includes(error.code)
}
