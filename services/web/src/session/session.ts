import { signal } from '@preact/signals'
import { api, authorizeWith, data } from '../api/client.ts'
import type { components } from '../api/openapi-types.ts'
import { ApiError, apiErrorOf } from '../api/problem.ts'
import { navigate, place } from '../router.ts'

export type User = components['schemas']['User']
type TokenPair = components['schemas']['TokenPair']
/** AccessGrant is what the gateway's browser session answers: the token pair without the refresh token. */
type AccessGrant = Omit<TokenPair, 'refreshToken'>

export type Session =
  | { status: 'restoring' }
  | { status: 'anonymous'; notice?: string }
  | { status: 'signed-in'; user: User }

/** session is who is shopping; pages re-render when it changes. */
export const session = signal<Session>({ status: 'restoring' })

/**
 * access is the access token, in this page's memory only. The refresh token never reaches the
 * page: the gateway keeps it in an HttpOnly cookie (docs/decisions/0009-storefront.md).
 */
let access: { token: string; renewAtMs: number } | undefined

/** SIGNED_IN_HINT tells a fresh page (a reload, a new tab) that a session cookie may be there to renew. */
const SIGNED_IN_HINT = 'microshop:signed-in'
const SESSION_URL = '/api/auth/session'
const REFRESH_LOCK = 'microshop:session-refresh'

async function sessionRequest(method: 'POST' | 'DELETE', path: string, body?: unknown) {
  try {
    return await fetch(SESSION_URL + path, {
      method,
      credentials: 'same-origin',
      headers: {
        'x-csrf-protection': '1',
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      signal: AbortSignal.timeout(20_000),
    })
  } catch {
    throw new ApiError(0, undefined, undefined)
  }
}

function grant(body: AccessGrant) {
  // Renewed at four fifths of its life, so a request never leaves with a token about to expire.
  access = { token: body.accessToken, renewAtMs: Date.now() + body.expiresIn * 800 }
}

async function signedInAs(): Promise<User> {
  const user = await data(api.GET('/api/users/me'))
  session.value = { status: 'signed-in', user }
  localStorage.setItem(SIGNED_IN_HINT, '1')
  return user
}

/** signIn opens a session; it throws the ApiError the shop answered (401, 429...). */
export async function signIn(email: string, password: string): Promise<User> {
  const response = await sessionRequest('POST', '', { email, password })
  const body: unknown = await response.json().catch(() => undefined)
  if (!response.ok) throw apiErrorOf(response, body)
  grant(body as AccessGrant)
  return signedInAs()
}

/** signOut ends the session here and at the shop, even when the shop cannot be reached. */
export async function signOut() {
  access = undefined
  localStorage.removeItem(SIGNED_IN_HINT)
  session.value = { status: 'anonymous' }
  await sessionRequest('DELETE', '').catch(() => undefined)
}

let renewing: Promise<string | undefined> | undefined

/**
 * renewAccess trades the session cookie for a new access token (and the gateway rotates the
 * cookie). One renewal at a time: in this tab by sharing the promise, across tabs with a Web Lock,
 * because two renewals with one refresh token look like a stolen token and revoke the session.
 * Resolves undefined when the session is over (401); throws when the shop cannot answer now.
 */
export function renewAccess(): Promise<string | undefined> {
  const renew = async () => {
    const response = await sessionRequest('POST', '/refresh')
    const body: unknown = await response.json().catch(() => undefined)
    if (response.status === 401) return undefined
    if (!response.ok) throw apiErrorOf(response, body)
    grant(body as AccessGrant)
    return access?.token
  }
  renewing ??= exclusively(renew).finally(() => {
    renewing = undefined
  })
  return renewing
}

/** exclusively runs work while no other tab of the shop runs its own (a Web Lock), where there are locks. */
function exclusively<T>(work: () => Promise<T>): Promise<T> {
  if (!('locks' in navigator)) return work()
  // request resolves with what the callback's promise resolves to; its typing nests the promise.
  return navigator.locks.request(REFRESH_LOCK, work) as unknown as Promise<T>
}

/** sessionEnded sends the shopper to sign in again, back to where they were afterwards. */
export function sessionEnded(notice = 'Your session has ended. Please sign in again.') {
  if (session.value.status === 'anonymous' && place.value.path === '/sign-in') return
  access = undefined
  localStorage.removeItem(SIGNED_IN_HINT)
  session.value = { status: 'anonymous', notice }
  const back = place.value.path + (place.value.query.size > 0 ? `?${place.value.query}` : '')
  navigate(`/sign-in?next=${encodeURIComponent(back)}`, { replace: true })
}

authorizeWith({
  async accessToken() {
    if (access === undefined) return undefined
    if (Date.now() < access.renewAtMs) return access.token
    try {
      const token = await renewAccess()
      if (token === undefined) sessionEnded()
      return token
    } catch {
      return access?.token // the shop is busy: try with the old one, the API will say if it is too old
    }
  },
  renew: () => renewAccess().catch(() => undefined),
  ended: () => sessionEnded(),
})

/**
 * restoreSession picks up a session after a reload or in a new tab: with the hint set, the cookie
 * is traded for an access token; a cookie that is gone, used or revoked means signed out.
 */
export async function restoreSession() {
  if (localStorage.getItem(SIGNED_IN_HINT) === null) {
    session.value = { status: 'anonymous' }
    return
  }
  try {
    if ((await renewAccess()) === undefined) {
      localStorage.removeItem(SIGNED_IN_HINT)
      session.value = { status: 'anonymous' }
      return
    }
    await signedInAs()
  } catch {
    session.value = {
      status: 'anonymous',
      notice: 'We could not restore your session just now. Please sign in again.',
    }
  }
}

// Another tab signed in or out: follow it.
window.addEventListener('storage', (event) => {
  if (event.key !== SIGNED_IN_HINT) return
  if (event.newValue === null && session.value.status === 'signed-in') {
    access = undefined
    session.value = { status: 'anonymous' }
  } else if (event.newValue !== null && session.value.status !== 'signed-in') {
    void restoreSession()
  }
})
