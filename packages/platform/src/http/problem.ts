import Type from 'typebox'
import type { FastifyError } from 'fastify'
import { isAppError, type ErrorKind, type FieldError } from '../errors.ts'
import { isInfrastructureFailure } from '../infrastructure-failure.ts'
import { problemTypes, problemTypeUri } from './problem-types.ts'

/** Problem is an RFC 9457 problem details body, sent as application/problem+json. */
export const ProblemSchema = Type.Object(
  {
    type: Type.String({
      format: 'uri-reference',
      description:
        'What kind of problem: `/problems/<slug>`, a page served by the gateway that answered ' +
        '(e.g. `/problems/not-found`); docs/problems.md lists them all.',
    }),
    title: Type.String({ description: "The type's title; the same for every problem of a type." }),
    status: Type.Integer({ description: 'The HTTP status.' }),
    detail: Type.String({ description: 'What went wrong in this case.' }),
    instance: Type.Optional(
      Type.String({
        format: 'uri-reference',
        description: 'The public path of the request (`/api/...`), with its query.',
      }),
    ),
    errors: Type.Optional(
      Type.Array(
        Type.Object({
          pointer: Type.String({
            description:
              'Where in the request: the part as OpenAPI names it, then a JSON pointer into it: ' +
              '`/body/items/0/quantity`, `/query/limit`, `/path/id`, `/header/idempotency-key`.',
          }),
          detail: Type.String({ description: 'What is wrong there.' }),
        }),
        { description: 'The fields that failed validation (400).' },
      ),
    ),
  },
  {
    $id: 'Problem',
    additionalProperties: true,
    description: 'An RFC 9457 problem details body (`application/problem+json`).',
  },
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

const statusByKind = Object.fromEntries(
  problemTypes.flatMap((type) => (type.kind === undefined ? [] : [[type.kind, type.status]])),
) as Record<ErrorKind, number>

const titleByStatus: Record<number, string> = Object.fromEntries(
  problemTypes.map((type) => [type.status, type.title]),
)

export function problem(
  status: number,
  detail: string,
  extra: Partial<Problem> & Record<string, unknown> = {},
): Problem {
  return {
    type: problemTypeUri(status),
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
    const status = statusByKind[error.kind]
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
      pointer: `/${requestPart(fastifyError.validationContext)}${v.instancePath}${missingProperty(v.params)}`,
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
  // Checked after the client errors above: a client that hangs up mid-request also reads as
  // ECONNRESET, but its error carries a 4xx status.
  if (isInfrastructureFailure(error)) {
    // The database or the broker is restarting or out of reach: the client may retry shortly.
    return {
      problem: problem(503, 'A service this request needs is unavailable; please retry shortly.'),
      headers: { 'retry-after': '1' },
      expected: false,
    }
  }
  return {
    problem: problem(500, 'Something went wrong on our side. It has been logged.'),
    headers: {},
    expected: false,
  }
}

// REQUEST_PARTS name the parts of a request as OpenAPI's `in` does (`query`, `path`, `header`),
// the first segment of every field pointer: `/query/limit`, `/path/id`, `/header/idempotency-key`.
const REQUEST_PARTS: Record<string, string> = {
  body: 'body',
  querystring: 'query',
  params: 'path',
  headers: 'header',
}

function requestPart(validationContext: string | undefined): string {
  return REQUEST_PARTS[validationContext ?? 'body'] ?? 'body'
}

function missingProperty(params: unknown): string {
  const missing = (params as { missingProperty?: unknown } | undefined)?.missingProperty
  return typeof missing === 'string' ? `/${missing}` : ''
}
