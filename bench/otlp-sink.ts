// otlp-sink.ts: a local OTLP/HTTP trace receiver for `npm run bench -- --trace-ratio R`. It stands
// in for a collector: it takes each export, counts its spans and drops them. It runs in the
// benchmark's process, so its CPU is the load generator's (reported, not counted against the shop).
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'

export interface OtlpSink {
  url: string
  /** spans counts the spans received so far; requests the export calls. */
  received(): { spans: number; requests: number; bytes: number }
  close(): Promise<void>
}

export async function startOtlpSink(): Promise<OtlpSink> {
  let spans = 0
  let requests = 0
  let bytes = 0
  const server = createServer((request, response) => {
    const chunks: Buffer[] = []
    request.on('data', (chunk: Buffer) => chunks.push(chunk))
    request.on('end', () => {
      const body = Buffer.concat(chunks)
      requests++
      bytes += body.byteLength
      try {
        const parsed = JSON.parse(body.toString('utf8')) as {
          resourceSpans?: { scopeSpans?: { spans?: unknown[] }[] }[]
        }
        for (const resource of parsed.resourceSpans ?? []) {
          for (const scope of resource.scopeSpans ?? []) spans += scope.spans?.length ?? 0
        }
      } catch {
        // Not JSON (another encoding): counted as a request, its spans unknown.
      }
      response.writeHead(200, { 'content-type': 'application/json' }).end('{}')
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    received: () => ({ spans, requests, bytes }),
    close: () => new Promise((resolve) => server.close(() => resolve())),
  }
}
