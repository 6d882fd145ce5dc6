import { isDeepStrictEqual } from 'node:util'
import type { ProxyRoute } from '../http/proxy-routes.ts'
import { GATEWAY_COMPONENTS, withGatewayResponses } from './gateway-responses.ts'

type JsonObject = Record<string, unknown>

/** OpenapiDocument is the part of an OpenAPI 3.x document the merge reads and writes. */
export interface OpenapiDocument {
  openapi: string
  info: { title: string; version: string; description?: string; [field: string]: unknown }
  servers?: { url: string; description?: string }[]
  paths: Record<string, Record<string, unknown>>
  components: Record<string, Record<string, unknown>>
  tags?: { name: string; description?: string }[]
  [extension: string]: unknown
}

/** ServiceDocument is one upstream's own document, or undefined when it could not be fetched. */
export interface ServiceDocument {
  service: string
  document: Partial<OpenapiDocument> | undefined
}

const HTTP_METHODS = new Set(['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'])

/**
 * mergeOpenapiDocuments makes the one document of the public API from each service's own: every
 * path a gateway route exposes, under its public path (users' `/auth/login` becomes
 * `/api/auth/login`); components merged, where a schema that every service shares (`Problem`)
 * appears once and a clash of names is resolved by prefixing the service's copy; operations
 * grouped by service (`x-tagGroups`), each with the gateway's own answers (429, 502, 504). Paths the gateway does not route are left out. Services
 * whose document is missing are named in the description and in `x-unavailable-services`.
 */
export function mergeOpenapiDocuments(
  base: Pick<OpenapiDocument, 'info'>,
  services: ServiceDocument[],
  routes: readonly ProxyRoute[],
): OpenapiDocument {
  const merged: OpenapiDocument = {
    openapi: '3.1.0',
    info: { ...base.info },
    servers: [{ url: '/', description: 'The gateway that serves this document.' }],
    tags: [],
    'x-tagGroups': [],
    paths: {},
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } },
    },
  }
  let proxied = false
  const tags = merged.tags as { name: string; description?: string }[]
  const tagGroups = merged['x-tagGroups'] as { name: string; tags: string[] }[]
  const operationIds = new Set<string>()
  const unavailable: string[] = []

  for (const { service, document } of services) {
    if (document === undefined) {
      unavailable.push(service)
      continue
    }
    const renames = componentRenames(merged.components, document.components ?? {}, service)
    const own = renames.size > 0 ? rewriteRefs(document, renames) : document
    addComponents(merged.components, own.components ?? {}, renames)

    const serviceTags = new Set<string>()
    for (const [path, item] of Object.entries(own.paths ?? {})) {
      const publicPath = publicPathOf(path, service, routes)
      if (publicPath === undefined) continue
      merged.paths[publicPath] = tagOperations(item, service, serviceTags, operationIds)
      proxied = true
    }
    const described = new Map((own.tags ?? []).map((tag) => [tag.name, tag.description]))
    for (const name of serviceTags) {
      if (tags.some((tag) => tag.name === name)) continue
      tags.push({ name, description: described.get(name) ?? `Served by the ${service} service.` })
    }
    if (serviceTags.size > 0) tagGroups.push({ name: service, tags: [...serviceTags] })
  }

  if (proxied) {
    for (const [section, entries] of Object.entries(GATEWAY_COMPONENTS)) {
      merged.components[section] = { ...merged.components[section], ...entries }
    }
  }
  if (unavailable.length > 0) {
    merged['x-unavailable-services'] = unavailable
    merged.info.description =
      `${merged.info.description ?? ''}\n\n**Incomplete:** ${unavailable.join(', ')} did not ` +
      'answer, so their operations are missing here. The document is fetched again shortly.'
  }
  return merged
}

/** publicPathOf is where a service's path is reachable through the gateway, if it is. */
function publicPathOf(
  path: string,
  service: string,
  routes: readonly ProxyRoute[],
): string | undefined {
  for (const route of routes) {
    if (route.upstream !== service) continue
    const { rewritePrefix, prefix } = route
    if (path === rewritePrefix || path.startsWith(`${rewritePrefix}/`)) {
      return prefix + path.slice(rewritePrefix.length)
    }
  }
  return undefined
}

// componentRenames finds the service's components whose names are already taken by a different
// definition, and gives them the service's prefix: `#/components/schemas/Order` becomes
// `#/components/schemas/orders_Order`.
function componentRenames(
  merged: Record<string, Record<string, unknown>>,
  incoming: Record<string, Record<string, unknown>>,
  service: string,
): Map<string, string> {
  const renames = new Map<string, string>()
  for (const [section, entries] of Object.entries(incoming)) {
    for (const [name, definition] of Object.entries(entries)) {
      const existing = merged[section]?.[name]
      if (existing !== undefined && !isDeepStrictEqual(existing, definition)) {
        renames.set(`#/components/${section}/${name}`, `#/components/${section}/${service}_${name}`)
      }
    }
  }
  return renames
}

function addComponents(
  merged: Record<string, Record<string, unknown>>,
  incoming: Record<string, Record<string, unknown>>,
  renames: Map<string, string>,
) {
  for (const [section, entries] of Object.entries(incoming)) {
    const target = (merged[section] ??= {})
    for (const [name, definition] of Object.entries(entries)) {
      const renamed = renames.get(`#/components/${section}/${name}`)
      const key = renamed === undefined ? name : renamed.slice(renamed.lastIndexOf('/') + 1)
      target[key] ??= definition
    }
  }
}

function rewriteRefs<T>(value: T, renames: Map<string, string>): T {
  if (Array.isArray(value)) return value.map((item: unknown) => rewriteRefs(item, renames)) as T
  if (value === null || typeof value !== 'object') return value
  const copy: JsonObject = {}
  for (const [key, item] of Object.entries(value as JsonObject)) {
    copy[key] =
      key === '$ref' && typeof item === 'string'
        ? (renames.get(item) ?? item)
        : rewriteRefs(item, renames)
  }
  return copy as T
}

// tagOperations gives every operation a tag (the service's name when it has none) and keeps
// operation ids unique across services.
function tagOperations(
  item: Record<string, unknown>,
  service: string,
  serviceTags: Set<string>,
  operationIds: Set<string>,
): Record<string, unknown> {
  const tagged: Record<string, unknown> = { ...item }
  for (const [method, operation] of Object.entries(item)) {
    if (!HTTP_METHODS.has(method) || operation === null || typeof operation !== 'object') continue
    const own = operation as JsonObject
    const tags = Array.isArray(own.tags) && own.tags.length > 0 ? (own.tags as string[]) : [service]
    for (const tag of tags) serviceTags.add(tag)
    const responses = (own.responses ?? {}) as Record<string, JsonObject>
    const copy: JsonObject = { ...own, tags, responses: withGatewayResponses(responses) }
    if (typeof own.operationId === 'string') {
      if (operationIds.has(own.operationId)) copy.operationId = `${service}_${own.operationId}`
      operationIds.add(copy.operationId as string)
    }
    tagged[method] = copy
  }
  return tagged
}
