import type { AccessTokenVerifier, Caller } from './access-token-verifier.ts'

export interface VerifiedTokenCacheOptions {
  /** maxEntries bounds the memory: past it the oldest entries go first. */
  maxEntries?: number
  /**
   * maxAgeMs is how long a verified token is trusted without checking it again, never past its
   * expiry. Keep it well under the JWKS cache age, so that a withdrawn key stops working as soon
   * as verifiers refetch the keys.
   */
  maxAgeMs?: number
  now?: () => number
}

interface Entry {
  caller: Caller
  trustedUntilMs: number
}

/**
 * cacheVerifiedTokens remembers tokens that passed `verify`, so a client sending the same access
 * token on every request pays for one signature check (about 0.1 ms of CPU) per `maxAgeMs`
 * instead of one per request. Only successes are kept: a bad token is checked, and refused,
 * every time.
 */
export function cacheVerifiedTokens(
  verify: AccessTokenVerifier,
  options: VerifiedTokenCacheOptions = {},
): AccessTokenVerifier {
  const maxEntries = options.maxEntries ?? 10_000
  const maxAgeMs = options.maxAgeMs ?? 60_000
  const now = options.now ?? Date.now
  const entries = new Map<string, Entry>()

  return async (token) => {
    const entry = entries.get(token)
    if (entry !== undefined) {
      if (entry.trustedUntilMs > now()) return entry.caller
      entries.delete(token)
    }
    const caller = await verify(token)
    const trustedUntilMs = Math.min(now() + maxAgeMs, expiryMs(token))
    entries.set(token, { caller, trustedUntilMs })
    // Map keeps insertion order: the first key is the oldest entry.
    if (entries.size > maxEntries) entries.delete(entries.keys().next().value as string)
    return caller
  }
}

// expiryMs reads `exp` from a token `verify` has just accepted, so its payload is well-formed.
function expiryMs(token: string): number {
  const payload = token.split('.')[1] ?? ''
  const { exp } = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as {
    exp?: unknown
  }
  return typeof exp === 'number' ? exp * 1000 : 0
}
