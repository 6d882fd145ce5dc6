import { isDeepStrictEqual } from 'node:util'

type JsonObject = Record<string, unknown>

const HTTP_METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace']

/**
 * RESPONSE_HEADERS are the response headers the platform sets on every service, documented once
 * under `components.headers` and referred to from each response that carries them.
 */
export const RESPONSE_HEADERS = {
  XRequestId: {
    description:
      "The request's id (the client's `X-Request-Id` when it is 1 to 128 of `[A-Za-z0-9_.:-]`, " +
      'else a new UUID); every log line about the request carries it.',
    schema: { type: 'string' },
  },
  WWWAuthenticate: {
    description: 'The challenge of a 401: always `Bearer` (send `Authorization: Bearer <token>`).',
    schema: { type: 'string', const: 'Bearer' },
  },
  RetryAfter: {
    description: 'Seconds to wait before trying again.',
    schema: { type: 'integer', minimum: 1 },
  },
} satisfies Record<string, JsonObject>

const HEADER_NAMES: Record<keyof typeof RESPONSE_HEADERS, string> = {
  XRequestId: 'X-Request-Id',
  WWWAuthenticate: 'WWW-Authenticate',
  RetryAfter: 'Retry-After',
}

/**
 * SERVICE_UNAVAILABLE is the 503 any operation may answer while a database or broker it needs is
 * restarting or out of reach (and while the service shuts down).
 */
const SERVICE_UNAVAILABLE = {
  description:
    'The service, or a database or broker it needs, is down, restarting, shutting down or too ' +
    'busy; retry after `Retry-After` seconds.',
  content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } },
}

/** OpenapiDocumentOptions are what finishOpenapiDocument adds to the document Fastify makes. */
export interface OpenapiDocumentOptions {
  servers: { url: string; description: string }[]
}

/**
 * finishOpenapiDocument turns the document @fastify/swagger makes from the routes' schemas into
 * the service's published contract:
 * - every schema with a `title` becomes the named component `#/components/schemas/<title>`,
 *   referred to wherever it appears (a title naming two different schemas is an error);
 * - an operation that declares no security is public (`security: []`);
 * - header parameters are spelt as in the RFCs (`Idempotency-Key`);
 * - every operation may answer 503 (`components.responses.ServiceUnavailable`);
 * - the headers the platform sets are documented on the responses that carry them: `X-Request-Id`
 *   on all, `WWW-Authenticate` on a 401, `Retry-After` on a 429 or 503;
 * - `servers`, and the license.
 */
export function finishOpenapiDocument(given: unknown, options: OpenapiDocumentOptions): JsonObject {
  const document = structuredClone(given) as JsonObject
  const components = (document.components ??= {}) as Record<string, JsonObject>
  const schemas = (components.schemas ??= {})
  const paths = (document.paths ?? {}) as Record<string, JsonObject>
  document.paths = hoistNamedSchemas(paths, schemas)
  for (const [name, schema] of Object.entries(schemas)) {
    schemas[name] = hoistNamedSchemas(schema, schemas, name)
  }

  const usedHeaders = new Set<keyof typeof RESPONSE_HEADERS>()
  let usesServiceUnavailable = false
  for (const item of Object.values(document.paths as Record<string, JsonObject>)) {
    for (const method of HTTP_METHODS) {
      const operation = item[method] as JsonObject | undefined
      if (operation === undefined) continue
      operation.security ??= []
      for (const parameter of (operation.parameters ?? []) as JsonObject[]) {
        if (parameter.in === 'header') parameter.name = headerCase(String(parameter.name))
      }
      const responses = (operation.responses ??= {}) as Record<string, JsonObject>
      if (responses['503'] === undefined) {
        responses['503'] = { $ref: '#/components/responses/ServiceUnavailable' }
        usesServiceUnavailable = true
      }
      for (const [status, response] of Object.entries(responses)) {
        if (typeof response.$ref === 'string') continue
        for (const name of headersOf(status)) {
          const headers = (response.headers ??= {}) as JsonObject
          headers[HEADER_NAMES[name]] ??= { $ref: `#/components/headers/${name}` }
          usedHeaders.add(name)
        }
      }
    }
  }
  if (usesServiceUnavailable) {
    usedHeaders.add('XRequestId').add('RetryAfter')
    components.responses = {
      ...components.responses,
      ServiceUnavailable: {
        ...SERVICE_UNAVAILABLE,
        headers: {
          'X-Request-Id': { $ref: '#/components/headers/XRequestId' },
          'Retry-After': { $ref: '#/components/headers/RetryAfter' },
        },
      },
    }
  }
  const headers = (components.headers ??= {})
  for (const name of Object.keys(RESPONSE_HEADERS) as (keyof typeof RESPONSE_HEADERS)[]) {
    if (usedHeaders.has(name)) headers[name] = RESPONSE_HEADERS[name]
  }
  if (Object.keys(headers).length === 0) delete components.headers

  const info = document.info as JsonObject
  info.license ??= { name: 'MIT', identifier: 'MIT' }
  return { openapi: document.openapi, info, servers: options.servers, ...document }
}

// headerCase spells a header as the RFC does (`Idempotency-Key`); Fastify's schemas want lower case.
function headerCase(name: string): string {
  return name.replace(
    /(^|-)([a-z])/g,
    (_match, dash: string, letter: string) => dash + letter.toUpperCase(),
  )
}

function headersOf(status: string): (keyof typeof RESPONSE_HEADERS)[] {
  if (status === '401') return ['XRequestId', 'WWWAuthenticate']
  if (status === '429' || status === '503') return ['XRequestId', 'RetryAfter']
  return ['XRequestId']
}

// hoistNamedSchemas replaces every titled schema inside `value`, innermost first, by a reference
// to its component, adding the component. `within` is the component being rewritten, which stays.
function hoistNamedSchemas<T>(value: T, schemas: JsonObject, within?: string): T {
  if (Array.isArray(value)) {
    return (value as unknown[]).map((entry) => hoistNamedSchemas(entry, schemas)) as T
  }
  if (value === null || typeof value !== 'object') return value
  const object: JsonObject = Object.fromEntries(
    Object.entries(value as JsonObject).map(([key, entry]) => [
      key,
      hoistNamedSchemas<unknown>(entry, schemas),
    ]),
  )
  const title = object.title
  if (typeof title !== 'string' || !isSchema(object) || title === within) return object as T
  const existing = schemas[title]
  if (existing !== undefined && !isDeepStrictEqual(existing, object)) {
    throw new Error(`two different schemas are titled ${title}: name one of them otherwise`)
  }
  schemas[title] = object
  return { $ref: `#/components/schemas/${title}` } as T
}

function isSchema(object: JsonObject): boolean {
  return ['type', 'properties', 'anyOf', 'oneOf', 'allOf', 'enum', 'const'].some(
    (key) => key in object,
  )
}

/**
 * withResponseHeaders documents the headers a route sets on one of its responses, beside its body
 * schema (@fastify/swagger reads them from there): `201: withResponseHeaders(Product, { Location })`.
 */
export function withResponseHeaders<T extends object>(
  schema: T,
  headers: Record<string, { type: string; description: string; format?: string }>,
): T {
  return { ...schema, headers }
}
