import rateLimit from '@fastify/rate-limit'
import type { FastifyReply, FastifyRequest } from 'fastify'
import { rateLimited } from '@microshop/platform/errors'
import type { HttpApp } from '@microshop/platform/http/app'
import { clientKey } from './client-address.ts'

export interface RateLimitSettings {
  /** maxPerWindow is every client address's budget for the whole API; 0 turns it off. */
  maxPerWindow: number
  /** signInMaxPerWindow is the stricter budget for sign-in and sign-up; 0 turns it off. */
  signInMaxPerWindow: number
  windowMs: number
}

type Limiter = ReturnType<HttpApp['createRateLimit']>
type LimitResult = Awaited<ReturnType<Limiter>>

// SESSION_ROUTES are the POSTs under /api/auth that hold a refresh token rather than guess a
// password: only the global budget applies to them. Every other POST there (login, register, and
// any spelling of them) takes the strict one.
const SESSION_ROUTES = new Set([
  '/api/auth/refresh',
  '/api/auth/logout',
  '/api/auth/session/refresh',
])

/**
 * createRateLimitHook gives the onRequest hook that counts each client address's requests in
 * fixed windows, the global budget for every API request and a stricter one for sign-in and
 * sign-up, answering 429 with `Retry-After` past either. It runs before the token check, so a
 * flood costs no signature checks. The counts live in this process's memory: replicas of the
 * gateway need a shared store (@fastify/rate-limit's Redis store) to enforce one budget.
 */
export async function createRateLimitHook(app: HttpApp, settings: RateLimitSettings) {
  await app.register(rateLimit, { global: false })
  const timeWindow = settings.windowMs
  const keyGenerator = clientKey
  const general =
    settings.maxPerWindow > 0
      ? app.createRateLimit({ max: settings.maxPerWindow, timeWindow, keyGenerator })
      : undefined
  const signIn =
    settings.signInMaxPerWindow > 0
      ? app.createRateLimit({ max: settings.signInMaxPerWindow, timeWindow, keyGenerator })
      : undefined

  return async (request: FastifyRequest, reply: FastifyReply) => {
    if (general) enforce(await general(request), reply, 'Too many requests from this address.')
    if (signIn && isSignInAttempt(request)) {
      enforce(await signIn(request), reply, 'Too many sign-in attempts from this address.')
    }
  }
}

function enforce(result: LimitResult, reply: FastifyReply, message: string): void {
  if (result.isAllowed) return
  void reply.headers({
    'x-ratelimit-limit': result.max,
    'x-ratelimit-remaining': result.remaining,
    'x-ratelimit-reset': result.ttlInSeconds,
  })
  if (result.isExceeded) throw rateLimited(message, result.ttlInSeconds)
}

function isSignInAttempt(request: FastifyRequest): boolean {
  if (request.method !== 'POST' || !request.routeOptions.url?.startsWith('/api/auth')) return false
  const path = request.url.split('?', 1)[0] ?? ''
  let decoded = path
  try {
    decoded = decodeURIComponent(path)
  } catch {
    // A path that does not decode is no session route: the strict budget applies.
  }
  return !SESSION_ROUTES.has(decoded)
}
