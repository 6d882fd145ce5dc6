import type { FastifyReply, FastifyRequest } from 'fastify'
import { forbidden, unauthorized } from '@microshop/platform/errors'
import { uriReference, type HttpApp } from '@microshop/platform/http/app'
import { problem } from '@microshop/platform/http/problem'
import type { GatewayConfig } from '../config.ts'
import { sendUpstreamFailure } from './upstream-failure.ts'

/** SESSION_PATH is the browser session's resource; its cookie is sent to nothing else. */
export const SESSION_PATH = '/api/auth/session'
export const SESSION_COOKIE = 'microshop_session'
/**
 * CSRF_HEADER must be on every session request. A form on another site cannot send a custom
 * header, and a script on another origin cannot without a CORS preflight the gateway refuses.
 */
export const CSRF_HEADER = 'x-csrf-protection'

const REFRESH_TOKEN = /^[\w-]{1,512}$/

interface TokenPair {
  accessToken: string
  refreshToken: string
  tokenType: string
  expiresIn: number
}

interface UsersAnswer {
  status: number
  headers: Headers
  body: unknown
}

/**
 * registerBrowserSessionRoutes gives the storefront a session whose refresh token no script on
 * the page can read: the gateway signs in, refreshes and signs out at the users service on the
 * browser's behalf, keeps the refresh token in an HttpOnly, SameSite=Strict cookie scoped to
 * SESSION_PATH (Secure over https), and answers with the access token alone. API clients keep
 * using /api/auth/login, /refresh and /logout with tokens in JSON.
 *
 * - `POST /api/auth/session` `{email, password}`: sign in; 200 `{accessToken, tokenType, expiresIn}`.
 * - `POST /api/auth/session/refresh`: rotate the cookie's refresh token; 200 as above, or 401 (and
 *   the cookie cleared) when it is missing, expired, used or revoked.
 * - `DELETE /api/auth/session`: sign out; 204, the cookie cleared.
 */
export function registerBrowserSessionRoutes(app: HttpApp, config: GatewayConfig) {
  const users = config.upstreams.users
  const trustedOrigins = new Set(config.corsOrigins)

  const callUsers = async (request: FastifyRequest, path: string, body: unknown) => {
    const response = await fetch(`${users.url}${path}`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-request-id': request.id,
      },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(users.timeoutMs),
    })
    const text = await response.text()
    return {
      status: response.status,
      headers: response.headers,
      body: text === '' ? undefined : (JSON.parse(text) as unknown),
    }
  }

  /** relay answers with the users service's answer; a token pair leaves its refresh token in the cookie. */
  const relay = (request: FastifyRequest, reply: FastifyReply, answer: UsersAnswer) => {
    void reply.header('cache-control', 'no-store')
    if (answer.status === 200) {
      const { accessToken, refreshToken, tokenType, expiresIn } = answer.body as TokenPair
      setSessionCookie(request, reply, refreshToken, config.SESSION_COOKIE_MAX_AGE_SECONDS)
      return reply.send({ accessToken, tokenType, expiresIn })
    }
    if (answer.status === 401) setSessionCookie(request, reply, '', 0)
    for (const name of ['retry-after', 'www-authenticate']) {
      const value = answer.headers.get(name)
      if (value !== null) void reply.header(name, value)
    }
    return reply
      .code(answer.status)
      .type(answer.headers.get('content-type') ?? 'application/problem+json')
      .send(answer.body)
  }

  /** onUsersFailure answers for a users service that is down (503), too slow (504) or broken (502). */
  const onUsersFailure = (reply: FastifyReply, error: unknown) => {
    if ((error as Error).name === 'TimeoutError') {
      return reply
        .code(504)
        .type('application/problem+json')
        .send(
          problem(504, `The users service did not answer within ${users.timeoutMs} ms.`, {
            instance: uriReference(reply.request.url),
          }),
        )
    }
    return sendUpstreamFailure(reply, users, error)
  }

  const fromTheStorefront = async (request: FastifyRequest) => {
    const origin = request.headers.origin
    const ownOrigin = `${request.protocol}://${request.host}`
    if (
      request.headers[CSRF_HEADER] === undefined ||
      (origin !== undefined && origin !== ownOrigin && !trustedOrigins.has(origin))
    ) {
      throw forbidden('The browser session takes requests from the storefront only.')
    }
  }

  const options = { onRequest: fromTheStorefront, schema: { hide: true } }

  app.post(SESSION_PATH, options, async (request, reply) => {
    try {
      return relay(request, reply, await callUsers(request, '/auth/login', request.body ?? {}))
    } catch (error) {
      return onUsersFailure(reply, error)
    }
  })

  app.post(`${SESSION_PATH}/refresh`, options, async (request, reply) => {
    const refreshToken = sessionCookie(request)
    if (refreshToken === undefined) {
      setSessionCookie(request, reply, '', 0)
      throw unauthorized('There is no session: sign in.')
    }
    try {
      return relay(request, reply, await callUsers(request, '/auth/refresh', { refreshToken }))
    } catch (error) {
      return onUsersFailure(reply, error)
    }
  })

  app.delete(SESSION_PATH, options, async (request, reply) => {
    const refreshToken = sessionCookie(request)
    if (refreshToken !== undefined) {
      try {
        const answer = await callUsers(request, '/auth/logout', { refreshToken })
        if (answer.status !== 204 && answer.status !== 401) return relay(request, reply, answer)
      } catch (error) {
        return onUsersFailure(reply, error)
      }
    }
    setSessionCookie(request, reply, '', 0)
    return reply.code(204).header('cache-control', 'no-store').send()
  })
}

function sessionCookie(request: FastifyRequest): string | undefined {
  for (const pair of (request.headers.cookie ?? '').split(';')) {
    const [name, value] = pair.trim().split('=', 2)
    if (name === SESSION_COOKIE && value !== undefined && REFRESH_TOKEN.test(value)) return value
  }
  return undefined
}

function setSessionCookie(
  request: FastifyRequest,
  reply: FastifyReply,
  value: string,
  maxAgeSeconds: number,
) {
  const attributes = [
    `${SESSION_COOKIE}=${value}`,
    `Path=${SESSION_PATH}`,
    `Max-Age=${maxAgeSeconds}`,
    'HttpOnly',
    'SameSite=Strict',
    ...(request.protocol === 'https' ? ['Secure'] : []),
  ]
  void reply.header('set-cookie', attributes.join('; '))
}
