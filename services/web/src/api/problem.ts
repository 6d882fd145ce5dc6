import type { components } from './openapi-types.ts'

/** Problem is an RFC 9457 problem as the API sends it. */
export type Problem = components['schemas']['Problem']

/**
 * ApiError is a request that did not succeed: `status` 0 when the shop could not be reached,
 * else the HTTP status with the problem the API sent, if any.
 */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly problem: Problem | undefined,
    readonly retryAfterSeconds: number | undefined,
  ) {
    super(problem?.detail ?? `HTTP ${status}`)
    this.name = 'ApiError'
  }
}

function isProblem(value: unknown): value is Problem {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as Problem).status === 'number' &&
    typeof (value as Problem).detail === 'string'
  )
}

/** apiErrorOf reads a failed response into an ApiError. */
export function apiErrorOf(response: Response, body: unknown): ApiError {
  const retryAfter = Number(response.headers.get('retry-after'))
  return new ApiError(
    response.status,
    isProblem(body) ? body : undefined,
    Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter : undefined,
  )
}

/**
 * messageOf says what went wrong in words a shopper can act on: never a raw body, and for the
 * answers that mean "not now" (429, 502-504) when to try again.
 */
export function messageOf(error: unknown): string {
  if (!(error instanceof ApiError)) return 'Something went wrong in this page. Please reload it.'
  const { status, problem, retryAfterSeconds } = error
  const later =
    retryAfterSeconds === undefined
      ? 'Please try again in a moment.'
      : `Please try again in ${retryAfterSeconds} second${retryAfterSeconds === 1 ? '' : 's'}.`
  if (status === 0) return 'We could not reach the shop. Check your connection and try again.'
  if (status === 429) return `Too many requests right now. ${later}`
  if (status === 502 || status === 503 || status === 504) {
    return `The shop is busy or part of it is down. ${later}`
  }
  if (status === 401) return 'Please sign in to continue.'
  if (status === 403) return 'Your account may not do this.'
  if (status >= 500) return 'Something went wrong on our side. Please try again later.'
  if (status === 400 && problem?.errors?.length) return 'Please correct the fields marked below.'
  return problem?.detail ?? 'The shop could not do this.'
}

const FIELD_MESSAGES: [RegExp, (match: RegExpExecArray) => string][] = [
  [/^must NOT have fewer than 1 characters?$/, () => 'Must not be empty.'],
  [/^must NOT have fewer than (\d+) characters$/, (m) => `Must have at least ${m[1]} characters.`],
  [/^must NOT have more than (\d+) characters$/, (m) => `Must have at most ${m[1]} characters.`],
  [/^must match format "email"$/, () => 'Must be an email address.'],
  [/^must match format "uuid"$/, () => 'Is not a valid id.'],
  [/^must match pattern .*$/, () => 'Has characters that are not allowed.'],
  [/^must be >= (-?\d+)$/, (m) => `Must be at least ${m[1]}.`],
  [/^must be <= (-?\d+)$/, (m) => `Must be at most ${m[1]}.`],
  [/^must be integer$/, () => 'Must be a whole number.'],
  [/^must have required property '.*'$/, () => 'Is required.'],
]

/**
 * readableFieldMessage turns a validator's phrase ("must NOT have fewer than 8 characters") into
 * a plain sentence ("Must have at least 8 characters.").
 */
export function readableFieldMessage(detail: string): string {
  for (const [pattern, rewrite] of FIELD_MESSAGES) {
    const match = pattern.exec(detail)
    if (match) return rewrite(match)
  }
  const sentence = detail.charAt(0).toUpperCase() + detail.slice(1)
  return /[.!?]$/.test(sentence) ? sentence : `${sentence}.`
}

/**
 * fieldErrorsOf maps a 400's `errors[]` to form fields by the first segment of each pointer under
 * the body (`/body/price/amount` is `price`), first message per field.
 */
export function fieldErrorsOf(error: unknown): Record<string, string> {
  const fields: Record<string, string> = {}
  if (!(error instanceof ApiError)) return fields
  for (const { pointer, detail } of error.problem?.errors ?? []) {
    const field = /^\/body\/([^/]+)/.exec(pointer)?.[1]
    if (field !== undefined && fields[field] === undefined) {
      fields[field] = readableFieldMessage(detail)
    }
  }
  return fields
}
