// openapi-operations.ts: the operations of the gateway's merged OpenAPI document, with every
// $ref resolved (schemas, responses, headers), as the fuzz suite generates requests for them.

/** JsonSchema is a schema of the document, as plain JSON. */
export type JsonSchema = Record<string, unknown>

export interface Parameter {
  in: 'path' | 'query' | 'header'
  name: string
  required: boolean
  schema: JsonSchema
}

/** Operation is one method on one path of the public API. */
export interface Operation {
  /** id names it in reports: `POST /api/orders`. */
  id: string
  method: string
  /** path is the public path template: `/api/orders/{id}/cancel`. */
  path: string
  parameters: Parameter[]
  /** body is the schema of the JSON body, when the operation takes one. */
  body: JsonSchema | undefined
  /** signedIn says the operation is documented as needing a bearer token. */
  signedIn: boolean
  /** responses holds the documented schema of each status's body, where there is one. */
  responses: Record<string, JsonSchema | undefined>
}

interface OpenapiDocument {
  paths: Record<string, Record<string, RawOperation>>
  components?: Record<string, Record<string, JsonSchema>>
}

interface RawOperation {
  parameters?: (Omit<Parameter, 'required'> & { required?: boolean })[]
  requestBody?: { content?: Record<string, { schema?: JsonSchema }> }
  security?: unknown[]
  responses?: Record<string, { content?: Record<string, { schema?: JsonSchema }> }>
}

const METHODS = ['get', 'post', 'put', 'patch', 'delete']

/** operationsOf lists every operation of the document, in its order. */
export function operationsOf(document: OpenapiDocument): Operation[] {
  const components = document.components ?? {}
  const resolve = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(resolve)
    if (value === null || typeof value !== 'object') return value
    const ref = (value as { $ref?: unknown }).$ref
    if (typeof ref === 'string') {
      const [section = '', name = ''] = ref.replace('#/components/', '').split('/')
      const target = components[section]?.[name]
      if (!target) throw new Error(`The document refers to ${ref}, which it does not define.`)
      return resolve(target)
    }
    return Object.fromEntries(Object.entries(value).map(([key, inner]) => [key, resolve(inner)]))
  }
  return Object.entries(document.paths).flatMap(([path, methods]) =>
    Object.entries(methods)
      .filter(([method]) => METHODS.includes(method))
      .map(([method, raw]) => {
        const operation = resolve(raw) as RawOperation
        const body = operation.requestBody?.content?.['application/json']?.schema
        return {
          id: `${method.toUpperCase()} ${path}`,
          method: method.toUpperCase(),
          path,
          parameters: (operation.parameters ?? []).map((parameter) => ({
            ...parameter,
            required: parameter.required ?? parameter.in === 'path',
          })),
          body,
          signedIn: (operation.security ?? []).length > 0,
          responses: Object.fromEntries(
            Object.entries(operation.responses ?? {}).map(([status, response]) => {
              const content = response.content ?? {}
              const media = content['application/problem+json'] ?? content['application/json']
              return [status, media?.schema]
            }),
          ),
        }
      }),
  )
}
