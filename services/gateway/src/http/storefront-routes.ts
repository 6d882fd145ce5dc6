import { createHash } from 'node:crypto'
import { readdir, readFile } from 'node:fs/promises'
import { extname, join, relative, sep } from 'node:path'
import type { FastifyReply, FastifyRequest } from 'fastify'
import { uriReference, type HttpApp } from '@microshop/platform/http/app'
import { problem } from '@microshop/platform/http/problem'

/**
 * RESERVED_PREFIXES are the gateway's own paths: a miss under them is the API's 404 problem,
 * never the storefront's page.
 */
const RESERVED_PREFIXES = ['/api', '/docs', '/health', '/metrics', '/openapi.json', '/problems']

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.webp': 'image/webp',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
  '.webmanifest': 'application/manifest+json',
}

// IMMUTABLE: Vite names every file under assets/ after its content, so a URL never changes meaning.
const IMMUTABLE = 'public, max-age=31536000, immutable'

/**
 * CONTENT_SECURITY_POLICY lets the page run only the shop's own scripts and talk only to its own
 * origin: an injected <script> or a request to elsewhere is refused, which bounds what a bug that
 * let markup through could do with the access token the page holds in memory.
 */
const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "font-src 'self'",
  "object-src 'none'",
  "base-uri 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ')

/** StaticFile is one file of the built storefront, held in memory with its compressed forms. */
interface StaticFile {
  body: Buffer
  brotli?: Buffer
  gzip?: Buffer
  contentType: string
  etag: string
  cacheControl: string
}

export interface StorefrontOptions {
  /** directory is the storefront's build output (services/web/dist): index.html and assets/. */
  directory: string
}

/**
 * registerStorefrontRoutes serves the storefront at `/`: its files from memory (read once at
 * start-up, with the .br and .gz siblings the build wrote), hashed assets cached for a year,
 * index.html revalidated on every load, and index.html for any other GET that is not the
 * gateway's own (client-side routes such as /orders/42). Without a build it serves a 404 problem
 * at `/` that says how to make one.
 */
export async function registerStorefrontRoutes(app: HttpApp, options: StorefrontOptions) {
  const files = await loadStorefront(options.directory)
  const index = files.get('/index.html')
  if (!index) {
    app.log.warn({ directory: options.directory }, 'storefront not built: / has no shop')
    app.get('/', { schema: { hide: true } }, (request, reply) =>
      reply
        .code(404)
        .type('application/problem+json')
        .send(
          problem(404, 'The storefront is not built: run `npm run build -w @microshop/web`.', {
            instance: uriReference(request.url),
          }),
        ),
    )
    return
  }

  const serve = (request: FastifyRequest, reply: FastifyReply, file: StaticFile) => {
    void reply.headers({
      'content-type': file.contentType,
      'cache-control': file.cacheControl,
      etag: file.etag,
      'x-content-type-options': 'nosniff',
    })
    if (file === index) {
      void reply.headers({
        'content-security-policy': CONTENT_SECURITY_POLICY,
        'referrer-policy': 'same-origin',
        'x-frame-options': 'DENY',
      })
    }
    if (file.brotli || file.gzip) void reply.header('vary', 'accept-encoding')
    if (request.headers['if-none-match'] === file.etag) return reply.code(304).send()
    const accepted = request.headers['accept-encoding'] ?? ''
    if (file.brotli && /\bbr\b/.test(accepted)) {
      return reply.header('content-encoding', 'br').send(file.brotli)
    }
    if (file.gzip && /\bgzip\b/.test(accepted)) {
      return reply.header('content-encoding', 'gzip').send(file.gzip)
    }
    return reply.send(file.body)
  }

  app.get('/', { schema: { hide: true } }, (request, reply) => serve(request, reply, index))
  app.get('/*', { schema: { hide: true } }, (request, reply) => {
    const path = request.url.split('?', 1)[0] ?? '/'
    const file = files.get(safeDecode(path))
    if (file) return serve(request, reply, file)
    const reserved = RESERVED_PREFIXES.some(
      (prefix) => path === prefix || path.startsWith(`${prefix}/`) || path.startsWith(`${prefix}?`),
    )
    // A missing file (an old asset, a typo) is a 404; a path without an extension is a page.
    if (reserved || path.startsWith('/assets/') || extname(path) !== '') {
      return reply.callNotFound()
    }
    return serve(request, reply, index)
  })
}

/** loadStorefront reads every file under directory, keyed by its URL path; none when it is missing. */
async function loadStorefront(directory: string): Promise<Map<string, StaticFile>> {
  const files = new Map<string, StaticFile>()
  let names: string[]
  try {
    names = await readdir(directory, { recursive: true })
  } catch {
    return files
  }
  const present = new Set(names)
  for (const name of names.sort()) {
    if (name.endsWith('.br') || name.endsWith('.gz') || name.startsWith('.')) continue
    const contentType = CONTENT_TYPES[extname(name)]
    if (contentType === undefined) continue
    const path = join(directory, name)
    let body: Buffer
    try {
      body = await readFile(path)
    } catch {
      continue // a folder
    }
    const urlPath = `/${relative(directory, path).split(sep).join('/')}`
    files.set(urlPath, {
      body,
      ...(present.has(`${name}.br`) ? { brotli: await readFile(`${path}.br`) } : {}),
      ...(present.has(`${name}.gz`) ? { gzip: await readFile(`${path}.gz`) } : {}),
      contentType,
      etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`,
      cacheControl: urlPath.startsWith('/assets/') ? IMMUTABLE : 'no-cache',
    })
  }
  return files
}

function safeDecode(path: string): string {
  try {
    return decodeURIComponent(path)
  } catch {
    return path
  }
}
