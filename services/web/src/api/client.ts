import createClient from 'openapi-fetch'
import type { paths } from './openapi-types.ts'
import { ApiError, apiErrorOf } from './problem.ts'

/** REQUEST_TIMEOUT_MS bounds every API call: past it the shopper is told to try again. */
const REQUEST_TIMEOUT_MS = 20_000

/** Authorization is how the client gets an access token, renews it, and says the session ended. */
export interface Authorization {
  accessToken(): Promise<string | undefined>
  /** renew gets a fresh access token, or undefined when the session is over. */
  renew(): Promise<string | undefined>
  ended(): void
}

let authorization: Authorization | undefined

/** authorizeWith sets where API calls take their bearer token from (the session does, at start). */
export function authorizeWith(source: Authorization) {
  authorization = source
}

/**
 * authorizedFetch sends a request with the session's access token; when the API says 401 (the
 * token expired or was revoked on the way) it renews once and sends it again, and when renewal
 * fails the session is over.
 */
async function authorizedFetch(request: Request): Promise<Response> {
  const send = (token: string | undefined) => {
    const attempt = request.clone()
    if (token !== undefined) attempt.headers.set('authorization', `Bearer ${token}`)
    return fetch(attempt, {
      signal: AbortSignal.any([request.signal, AbortSignal.timeout(REQUEST_TIMEOUT_MS)]),
    })
  }
  const token = await authorization?.accessToken()
  const response = await send(token)
  if (response.status !== 401 || token === undefined || authorization === undefined) return response
  const renewed = await authorization.renew()
  if (renewed === undefined) {
    authorization.ended()
    return response
  }
  return send(renewed)
}

/** api is the typed client of the public API: paths, parameters and bodies from docs/openapi.json. */
export const api = createClient<paths>({ fetch: authorizedFetch })

/**
 * data waits for an API call and returns its body, or throws an ApiError: status 0 when the shop
 * could not be reached, else the status and the problem it sent.
 */
export async function data<T>(
  pending: Promise<{ data?: T; error?: unknown; response: Response }>,
): Promise<T> {
  let result: { data?: T; error?: unknown; response: Response }
  try {
    result = await pending
  } catch (error) {
    if (error instanceof ApiError) throw error
    throw new ApiError(0, undefined, undefined)
  }
  if (!result.response.ok) throw apiErrorOf(result.response, result.error)
  return result.data as T
}
