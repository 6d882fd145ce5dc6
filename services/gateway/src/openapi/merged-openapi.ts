import type { Logger } from '@microshop/platform/logger'
import type { Upstream } from '../config.ts'
import type { ProxyRoute } from '../http/proxy-routes.ts'
import {
  mergeOpenapiDocuments,
  type OpenapiDocument,
  type ServiceDocument,
} from './merge-openapi-documents.ts'

/** API_INFO introduces the public API at the top of the docs, with the way through a checkout. */
export const API_INFO = {
  title: 'microshop API',
  version: '1.0.0',
  license: { name: 'MIT', identifier: 'MIT' },
  description: [
    'The public API of microshop, through its gateway. Errors are RFC 9457 problems',
    '(`application/problem+json`); money is `{ amount, currency }` in minor units.',
    '',
    'To try a checkout here: `POST /api/auth/register`, then `POST /api/auth/login` and copy the',
    '`accessToken`; press **Authorize** and paste it; `GET /api/products` to pick a product; then',
    '`POST /api/orders` with `{"items":[{"productId":"…","quantity":1}],"paymentMethod":"pm_card_visa"}`',
    'and `GET /api/orders/{id}` until it is `CONFIRMED` (`pm_card_chargeDeclined` gets `REJECTED`).',
    '',
    'The gateway itself may answer 401 (no or bad token on a protected route), 413 (body too',
    'large), 429 (rate limit, see `Retry-After`), 502, 503 or 504 (a service is broken, down or',
    'too slow).',
  ].join('\n'),
} satisfies OpenapiDocument['info']

export interface MergedOpenapiOptions {
  /** upstreams in the order their operations appear. */
  upstreams: Upstream[]
  routes: readonly ProxyRoute[]
  logger: Logger
  /** freshForMs is how long a complete document is served before it is fetched again. */
  freshForMs?: number
  /** retryAfterMs is how soon a document missing a service is fetched again. */
  retryAfterMs?: number
  fetchTimeoutMs?: number
  now?: () => number
}

/** MergedOpenapi is the public API's document, merged from the services' and cached. */
export interface MergedOpenapi {
  /** document is the merged document, fetched and merged anew when it is stale or incomplete. */
  document(): Promise<OpenapiDocument>
  /** latest is the last merged document, for readers that cannot wait. */
  latest(): OpenapiDocument | undefined
}

/**
 * createMergedOpenapi fetches each upstream's `/openapi.json` when the document is first asked
 * for, merges them, and keeps the result: a complete one for `freshForMs`, one missing a service
 * (down or starting) only for `retryAfterMs`. Concurrent readers share one fetch.
 */
export function createMergedOpenapi(options: MergedOpenapiOptions): MergedOpenapi {
  const freshForMs = options.freshForMs ?? 60_000
  const retryAfterMs = options.retryAfterMs ?? 2_000
  const fetchTimeoutMs = options.fetchTimeoutMs ?? 2_000
  const now = options.now ?? Date.now
  let current: { document: OpenapiDocument; mergedAt: number; complete: boolean } | undefined
  let merging: Promise<OpenapiDocument> | undefined

  // fetchDocument asks the upstream's replicas in turn: one answer is enough, they serve the same.
  const fetchDocument = async (upstream: Upstream): Promise<ServiceDocument> => {
    let failure: unknown
    for (const url of upstream.urls) {
      try {
        const response = await fetch(`${url}/openapi.json`, {
          signal: AbortSignal.timeout(fetchTimeoutMs),
        })
        if (!response.ok) throw new Error(`GET /openapi.json answered ${response.status}`)
        const document: unknown = await response.json()
        if (!isOpenapiDocument(document))
          throw new Error('GET /openapi.json is not an OpenAPI document')
        return { service: upstream.name, document }
      } catch (error) {
        failure = error
      }
    }
    options.logger.warn({ err: failure, upstream: upstream.name }, 'OpenAPI document not fetched')
    return { service: upstream.name, document: undefined }
  }

  const merge = async () => {
    const services = await Promise.all(options.upstreams.map(fetchDocument))
    const document = mergeOpenapiDocuments({ info: API_INFO }, services, options.routes)
    const complete = services.every((service) => service.document !== undefined)
    current = { document, mergedAt: now(), complete }
    return document
  }

  return {
    async document() {
      if (current && now() - current.mergedAt < (current.complete ? freshForMs : retryAfterMs)) {
        return current.document
      }
      merging ??= merge().finally(() => {
        merging = undefined
      })
      return merging
    },
    latest: () => current?.document,
  }
}

function isOpenapiDocument(value: unknown): value is OpenapiDocument {
  const isObject = (v: unknown): v is Record<string, unknown> =>
    v !== null && typeof v === 'object' && !Array.isArray(v)
  return (
    isObject(value) &&
    typeof value.openapi === 'string' &&
    isObject(value.paths) &&
    Object.values(value.paths).every(isObject) &&
    (value.components === undefined ||
      (isObject(value.components) && Object.values(value.components).every(isObject)))
  )
}
