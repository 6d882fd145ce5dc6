import Type from 'typebox'
import type { FastifyError } from 'fastify'
import { isAppError, type ErrorKind, type FieldError } from '../errors.ts'

/** Problem is an RFC 9457 problem details body, sent as application/problem+json. */
export const ProblemSchema = Type.Object(
  {
    type: Type.String(),
    title: Type.String(),
    status: Type.Integer(),
    detail: Type.String(),
    instance: Type.Optional(Type.String()),
    errors: Type.Optional(
      Type.Array(Type.Object({ pointer: Type.String(), detail: Type.String() })),
    ),
  },
  { $id: 'Problem', additionalProperties: true },
)

export interface Problem {
  type: string
  title: string
  status: number
  detail: string
  instance?: string
  errors?: FieldError[]
  [extension: string]: unknown
}

const problemByKind: Record<ErrorKind, { status: number; title: string }> = {
  invalid: { status: 400, title: 'Invalid request' },
  unauthorized: { status: 401, title: 'Unauthorized' },
  forbidden: { status: 403, title: 'Forbidden' },
  not_found: { status: 404, title: 'Not found' },
  conflict: { status: 409, title: 'Conflict' },
  unprocessable: { status: 422, title: 'Unprocessable request' },
  rate_limited: { status: 429, title: 'Too many requests' },
  unavailable: { status: 503, title: 'Service unavailable' },
}

const titleByStatus: Record<number, string> = {
  ...Object.fromEntries(Object.values(problemByKind).map((p) => [p.status, p.title])),
  405: 'Method not allowed',
  406: 'Not acceptable',
  413: 'Payload too large',
  415: 'Unsupported media type',
  500: 'Internal server error',
  502: 'Bad gateway',
  504: 'Gateway timeout',
}

/** problemType is the `type` URI of a problem: a stable, documented slug per status (docs/problems.md). */
export function problemType(status: number): string {
  const slug = (titleByStatus[status] ?? `status ${status}`).toLowerCase().replaceAll(' ', '-')
  return `/problems/${slug}`
}

export function problem(
  status: number,
  detail: string,
  extra: Partial<Problem> & Record<string, unknown> = {},
): Problem {
  return {
    type: problemType(status),
    title: titleByStatus[status] ?? 'Error',
    status,
    detail,
    ...extra,
  }
}

/**
 * problemResponseSchema documents an error status of a route: a problem body under its own
 * media type, for `schema.response`, e.g. `{ 404: problemResponseSchema('No such product.') }`.
 */
export function problemResponseSchema(description: string) {
  return {
    description,
    content: { 'application/problem+json': { schema: Type.Ref('Problem') } },
  }
}

export interface ProblemResponse {
  problem: Problem
  headers: Record<string, string>
  /** expected is false for failures the caller did not cause: they are logged as errors. */
  expected: boolean
}

/**
 * problemFromError is the one place where errors become HTTP responses: an AppError by its
 * kind, a Fastify validation or client error by its status, and anything else as a 500 whose
 * details stay in the log.
 */
export function problemFromError(error: unknown): ProblemResponse {
  if (isAppError(error)) {
    const { status } = problemByKind[error.kind]
    const headers: Record<string, string> = {}
    // RFC 9110 wants a challenge on every 401; every credential this shop takes is a bearer token.
    if (error.kind === 'unauthorized') headers['www-authenticate'] = 'Bearer'
    if (error.details.retryAfterSeconds !== undefined) {
      headers['retry-after'] = String(Math.max(1, Math.ceil(error.details.retryAfterSeconds)))
    }
    const extra: Record<string, unknown> = { ...error.details.extensions }
    if (error.details.errors) extra.errors = error.details.errors
    // An `unavailable` dependency is not the caller's doing: it is logged like any other 5xx.
    const expected = error.kind !== 'unavailable'
    return { problem: problem(status, error.message, extra), headers, expected }
  }
  const fastifyError = error as Partial<FastifyError>
  if (fastifyError.validation) {
    const errors = fastifyError.validation.map((v) => ({
      pointer: `/${fastifyError.validationContext ?? 'body'}${v.instancePath}${missingProperty(v.params)}`,
      detail: v.message ?? 'is invalid',
    }))
    return {
      problem: problem(400, 'The request did not pass validation.', { errors }),
      headers: {},
      expected: true,
    }
  }
  const status = fastifyError.statusCode
  if (status !== undefined && status >= 400 && status < 500) {
    return {
      problem: problem(status, fastifyError.message ?? 'The request was not accepted.'),
      headers: {},
      expected: true,
    }
  }
  return {
    problem: problem(500, 'Something went wrong on our side. It has been logged.'),
    headers: {},
    expected: false,
  }
}

function missingProperty(params: unknown): string {
  const missing = (params as { missingProperty?: unknown } | undefined)?.missingProperty
  return typeof missing === 'string' ? `/${missing}` : ''
}
