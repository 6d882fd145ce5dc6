// request-arbitraries.ts: fast-check arbitraries of HTTP requests for an OpenAPI operation. Most
// fields get a value their schema allows, so requests reach deep into the services; the rest
// get a value it does not (one past a bound, the wrong JSON type, a spelling the database cannot
// take, unicode edge cases, huge and empty values), and whole requests get the wrong credential,
// media type or body shape.
import fc from 'fast-check'
import type { JsonSchema, Operation } from './openapi-operations.ts'

/** Credential is who a request claims to be; the suite turns it into an Authorization header. */
export type Credential = 'none' | 'customer' | 'admin' | 'forged' | 'refresh-token' | 'basic'

/** Target is where a request goes: through the gateway, or straight at the owning service. */
export type Target = 'gateway' | 'service'

/** Pools are values of the running shop a request may use: ids that exist, tokens that work. */
export interface Pools {
  ids: string[]
  paymentMethods: string[]
  refreshTokens: string[]
}

export interface FuzzRequest {
  target: Target
  method: string
  /** path is the public path with its query: `/api/orders?limit=5`; `service` drops `/api`. */
  path: string
  credential: Credential
  headers: Record<string, string>
  body: string | undefined
}

// EDGE_TEXT is text that broke, or could break, something on its way to the database: NUL,
// unpaired surrogates, direction and zero-width marks, combining and astral characters, case
// folding traps, quoting and template syntax, numbers and nothing at all.
const EDGE_TEXT = [
  '',
  ' ',
  '\u0000',
  'a\u0000b',
  '\ud800',
  'x\udfff',
  '\u202e\u0041',
  '\u200b',
  '\ufeff',
  'e\u0301',
  '💥',
  '𝔘𝔫𝔦',
  'İı',
  'ß',
  '\n',
  '\r\n',
  '\t',
  "'; drop table users; --",
  '%00',
  '../..',
  '<script>',
  '${x}',
  '\\',
  '"',
  'null',
  '0',
  '-1',
  '1e309',
  'urn:uuid:6ba7b810-9dad-11d1-80b4-00c04fd430c8',
  '{6ba7b810-9dad-11d1-80b4-00c04fd430c8}',
  '6ba7b8109dad11d180b400c04fd430c8',
  '00000000-0000-0000-0000-000000000000',
  'pm_4242_4242_4242_4242',
  '4242 4242 4242 4242',
]

const text = fc.oneof(
  { arbitrary: fc.constantFrom(...EDGE_TEXT), weight: 3 },
  { arbitrary: fc.string({ maxLength: 40, unit: 'binary' }), weight: 2 },
  { arbitrary: fc.string({ maxLength: 40 }), weight: 1 },
  { arbitrary: fc.constantFrom(300, 5_001, 70_000).map((n) => 'x'.repeat(n)), weight: 1 },
)

const oddJson: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom(null, true, false, 0, -0, -1, 1.5, 2 ** 31, 2 ** 53 + 1, 1e308, -1e308),
  fc.constantFrom([], {}, [1], ['x'], { a: 1 }, [[[]]]),
  fc.jsonValue({ maxDepth: 2 }),
  text,
)

/**
 * valid gives values a schema allows (as far as it says: formats and patterns included). Their
 * parts are valid too when `clean`, else each may be invalid now and then (see field).
 */
function valid(schema: JsonSchema, pools: Pools, clean = false): fc.Arbitrary<unknown> {
  const part = (inner: JsonSchema) => (clean ? valid(inner, pools, true) : field(inner, pools))
  if (Array.isArray(schema.enum)) return fc.constantFrom(...(schema.enum as unknown[]))
  if ('const' in schema) return fc.constant(schema.const)
  for (const key of ['anyOf', 'oneOf'] as const) {
    const options = schema[key]
    if (Array.isArray(options)) {
      return fc.oneof(...(options as JsonSchema[]).map((option) => valid(option, pools, clean)))
    }
  }
  const type = Array.isArray(schema.type) ? (schema.type as string[])[0] : schema.type
  switch (type) {
    case 'string':
      return validText(schema, pools)
    case 'integer':
      return fc.integer({
        min: (schema.minimum as number | undefined) ?? -(2 ** 31),
        max: (schema.maximum as number | undefined) ?? 2 ** 31 - 1,
      })
    case 'number':
      return fc.double({ noNaN: true, noDefaultInfinity: true })
    case 'boolean':
      return fc.boolean()
    case 'null':
      return fc.constant(null)
    case 'array':
      return fc.array(part((schema.items as JsonSchema | undefined) ?? {}), {
        minLength: (schema.minItems as number | undefined) ?? 0,
        maxLength: Math.min((schema.maxItems as number | undefined) ?? 3, 3),
      })
    case 'object':
      return objectOf(schema, part)
    default:
      return oddJson
  }
}

function validText(schema: JsonSchema, pools: Pools): fc.Arbitrary<string> {
  const minLength = (schema.minLength as number | undefined) ?? 0
  const maxLength = Math.min((schema.maxLength as number | undefined) ?? 60, 60)
  const fits = (value: string) => value.length >= minLength && value.length <= maxLength
  switch (schema.format) {
    case 'uuid':
      return pools.ids.length > 0 ? fc.oneof(fc.constantFrom(...pools.ids), fc.uuid()) : fc.uuid()
    case 'email':
      return fc.emailAddress().filter(fits)
    case 'date-time':
      return fc.date({ noInvalidDate: true }).map((date) => date.toISOString())
  }
  const examples = [
    ...(Array.isArray(schema.examples) ? (schema.examples as string[]) : []),
    ...(schema.examples ? pools.paymentMethods : []),
  ]
  const pattern = typeof schema.pattern === 'string' ? new RegExp(schema.pattern) : undefined
  const edges = EDGE_TEXT.filter((value) => fits(value) && (!pattern || pattern.test(value)))
  const generated = pattern
    ? fc.stringMatching(pattern).filter(fits)
    : fc.oneof(
        fc.string({ minLength, maxLength }),
        fc.string({ minLength, maxLength, unit: 'binary' }),
        ...(edges.length > 0 ? [fc.constantFrom(...edges)] : []),
      )
  return examples.length > 0
    ? fc.oneof({ arbitrary: fc.constantFrom(...examples), weight: 4 }, generated)
    : generated
}

function objectOf(
  schema: JsonSchema,
  part: (inner: JsonSchema) => fc.Arbitrary<unknown>,
): fc.Arbitrary<Record<string, unknown>> {
  const properties = (schema.properties as Record<string, JsonSchema> | undefined) ?? {}
  const required = (schema.required as string[] | undefined) ?? []
  const model = Object.fromEntries(
    Object.entries(properties).map(([name, property]) => [name, part(property)]),
  )
  return fc.record(model, { requiredKeys: required.filter((name) => name in model) })
}

/** invalid gives values a schema refuses, or that sit on its bounds. */
function invalid(schema: JsonSchema): fc.Arbitrary<unknown> {
  const near: unknown[] = []
  const { minimum, maximum, minLength, maxLength, minItems, maxItems } = schema as Record<
    string,
    number | undefined
  >
  if (minimum !== undefined) near.push(minimum - 1, minimum - 0.5, String(minimum))
  if (maximum !== undefined) near.push(maximum + 1, [maximum])
  if (minLength !== undefined && minLength > 0) near.push('x'.repeat(minLength - 1))
  if (maxLength !== undefined) near.push('x'.repeat(maxLength + 1), 'é'.repeat(maxLength + 1))
  if (minItems !== undefined && minItems > 0) near.push([])
  if (maxItems !== undefined) near.push(Array.from({ length: maxItems + 1 }, () => ({})))
  return near.length > 0 ? fc.oneof(fc.constantFrom(...near), oddJson) : oddJson
}

/** field gives mostly valid values, and now and then an invalid one. */
function field(schema: JsonSchema, pools: Pools): fc.Arbitrary<unknown> {
  return fc.oneof(
    { arbitrary: valid(schema, pools), weight: 5 },
    { arbitrary: invalid(schema), weight: 1 },
  )
}

/** bodyOf gives a request body: mostly JSON from the schema, else JSON of the wrong shape or none. */
function bodyOf(
  schema: JsonSchema | undefined,
  pools: Pools,
): fc.Arbitrary<{ contentType: string | undefined; body: string | undefined }> {
  const json = (value: fc.Arbitrary<unknown>) =>
    value.map((body) => ({ contentType: 'application/json', body: JSON.stringify(body) }))
  const broken = fc
    .constantFrom('', '{', '{"a":1}{', '[', 'nul', '"\\ud800"', '{"__proto__":{"x":1}}', '\u0000')
    .map((body) => ({ contentType: 'application/json', body }))
  const otherMedia = fc
    .constantFrom(
      { contentType: 'text/plain', body: 'hello' },
      { contentType: 'application/x-www-form-urlencoded', body: 'a=1&b=2' },
      { contentType: 'application/json; charset=latin1', body: '{}' },
      { contentType: undefined, body: '{}' },
    )
    .map((media) => media)
  if (!schema) {
    return fc.oneof(
      { arbitrary: fc.constant({ contentType: undefined, body: undefined }), weight: 4 },
      { arbitrary: json(oddJson), weight: 1 },
    )
  }
  return fc.oneof(
    { arbitrary: json(valid(schema, pools, true)), weight: 4 },
    { arbitrary: json(valid(schema, pools)), weight: 4 },
    { arbitrary: json(oddJson), weight: 1 },
    { arbitrary: json(invalid(schema)), weight: 1 },
    { arbitrary: broken, weight: 1 },
    { arbitrary: otherMedia, weight: 1 },
    { arbitrary: fc.constant({ contentType: undefined, body: undefined }), weight: 1 },
  )
}

/** textOf writes a generated value as a path or query parameter takes it. */
function textOf(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value)
}

// percentEncode writes text for a URL byte by byte: a lone surrogate, which has no UTF-8 form,
// goes as U+FFFD (what a client would send).
function percentEncode(value: string): string {
  return [...Buffer.from(value, 'utf8')]
    .map((byte) =>
      /[A-Za-z0-9\-._~]/.test(String.fromCharCode(byte))
        ? String.fromCharCode(byte)
        : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`,
    )
    .join('')
}

// RAW_SEGMENTS are path segments as they travel, some of them not valid encodings at all.
const RAW_SEGMENTS = ['%00', '%E0%A4%A', '%ZZ', '..', '%2F', '%25', '%20', '%C0%AF', '']

/** requestFor gives requests for one operation, through the gateway and straight at its service. */
export function requestFor(operation: Operation, pools: Pools): fc.Arbitrary<FuzzRequest> {
  const parameters = (place: 'path' | 'query' | 'header') =>
    operation.parameters.filter((parameter) => parameter.in === place)
  const pathValues = fc.tuple(
    ...parameters('path').map((parameter) =>
      fc.oneof(
        {
          arbitrary: field(parameter.schema, pools).map((v) => percentEncode(textOf(v))),
          weight: 6,
        },
        { arbitrary: fc.constantFrom(...RAW_SEGMENTS), weight: 1 },
      ),
    ),
  )
  const queryValues = fc.tuple(
    ...parameters('query').map((parameter) =>
      fc.option(field(parameter.schema, pools).map(textOf), {
        nil: undefined,
        freq: parameter.required ? 8 : 2,
      }),
    ),
  )
  // An extra query parameter, one time in six (fast-check's `freq` is the odds of none).
  const extraQuery = fc.oneof(
    { arbitrary: fc.constant(null), weight: 5 },
    {
      arbitrary: fc.constantFrom(
        'x=1',
        'limit=1&limit=2',
        '%00=1',
        'cursor=',
        'q=%E0%A4%A',
        '__proto__=1',
      ),
      weight: 1,
    },
  )
  const headerValues = fc.tuple(
    ...parameters('header').map((parameter) =>
      fc.option(field(parameter.schema, pools).map(textOf), { nil: undefined, freq: 2 }),
    ),
  )
  const credential: fc.Arbitrary<Credential> = operation.signedIn
    ? fc.oneof(
        { arbitrary: fc.constantFrom<Credential>('customer', 'admin'), weight: 8 },
        {
          arbitrary: fc.constantFrom<Credential>('none', 'forged', 'refresh-token', 'basic'),
          weight: 1,
        },
      )
    : fc.oneof(
        { arbitrary: fc.constant<Credential>('none'), weight: 4 },
        { arbitrary: fc.constantFrom<Credential>('customer', 'admin', 'forged'), weight: 1 },
      )
  return fc
    .record({
      target: fc.constantFrom<Target>('gateway', 'service'),
      pathValues,
      queryValues,
      extraQuery,
      headerValues,
      credential,
      body: bodyOf(operation.body, pools),
    })
    .map((generated) => {
      let path = operation.path
      parameters('path').forEach((parameter, index) => {
        path = path.replace(`{${parameter.name}}`, generated.pathValues[index] as string)
      })
      const query = parameters('query')
        .map((parameter, index) => [parameter.name, generated.queryValues[index]] as const)
        .filter((pair): pair is readonly [string, string] => pair[1] !== undefined)
        .map(([name, value]) => `${name}=${percentEncode(value)}`)
      if (generated.extraQuery !== null) query.push(generated.extraQuery)
      const headers: Record<string, string> = {}
      parameters('header').forEach((parameter, index) => {
        const value = generated.headerValues[index]
        if (value !== undefined) headers[parameter.name] = value
      })
      if (generated.body.contentType) headers['content-type'] = generated.body.contentType
      return {
        target: generated.target,
        method: operation.method,
        path: query.length > 0 ? `${path}?${query.join('&')}` : path,
        credential: generated.credential,
        headers,
        body: generated.body.body,
      }
    })
}
