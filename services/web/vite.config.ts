// vite.config.ts: the storefront's dev server (`npm run dev:web`: port 5173, /api proxied to the
// gateway) and build (`npm run build -w @microshop/web`: dist/, served by the gateway at /).
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { brotliCompressSync, constants, gzipSync } from 'node:zlib'
import { defineConfig, type Logger, type Plugin } from 'vite'

/** INITIAL_JS_BUDGET_BYTES is the spec's bound on the JavaScript a first visit loads, gzipped. */
export const INITIAL_JS_BUDGET_BYTES = 100 * 1024

const COMPRESSIBLE = /\.(?:js|css|html|svg|json|txt|webmanifest)$/

/**
 * builtStorefront writes a .br and a .gz beside every text file for the gateway to send as they
 * are, prints the gzipped size of the JavaScript a first visit loads (the entry chunk and what it
 * imports statically) and fails the build past the budget. The figures go to dist/build-info.json.
 */
function builtStorefront(): Plugin {
  let outDir = 'dist'
  let logger: Logger | undefined
  return {
    name: 'microshop-built-storefront',
    apply: 'build',
    configResolved(config) {
      outDir = config.build.outDir
      logger = config.logger
    },
    async writeBundle(_options, bundle) {
      const gzippedBytes = new Map<string, number>()
      for (const [fileName, output] of Object.entries(bundle)) {
        if (!COMPRESSIBLE.test(fileName)) continue
        const source = output.type === 'chunk' ? output.code : output.source
        const body = typeof source === 'string' ? Buffer.from(source) : Buffer.from(source)
        const gzip = gzipSync(body, { level: 9 })
        const brotli = brotliCompressSync(body, {
          params: {
            [constants.BROTLI_PARAM_QUALITY]: 11,
            [constants.BROTLI_PARAM_SIZE_HINT]: body.length,
          },
        })
        gzippedBytes.set(fileName, gzip.length)
        await writeFile(join(outDir, `${fileName}.gz`), gzip)
        await writeFile(join(outDir, `${fileName}.br`), brotli)
      }
      const initial = new Set<string>()
      const visit = (fileName: string) => {
        const output = bundle[fileName]
        if (initial.has(fileName) || output?.type !== 'chunk') return
        initial.add(fileName)
        output.imports.forEach(visit)
      }
      for (const output of Object.values(bundle)) {
        if (output.type === 'chunk' && output.isEntry) visit(output.fileName)
      }
      const initialJsGzipBytes = [...initial].reduce(
        (sum, f) => sum + (gzippedBytes.get(f) ?? 0),
        0,
      )
      const kb = (bytes: number) => `${(bytes / 1024).toFixed(1)} KB`
      logger?.info(
        `\ninitial JavaScript: ${kb(initialJsGzipBytes)} gzipped (budget ${kb(INITIAL_JS_BUDGET_BYTES)}): ${[...initial].join(', ')}`,
      )
      await writeFile(
        join(outDir, 'build-info.json'),
        `${JSON.stringify({ initialJs: [...initial], initialJsGzipBytes, budgetBytes: INITIAL_JS_BUDGET_BYTES }, null, 2)}\n`,
      )
      if (initialJsGzipBytes > INITIAL_JS_BUDGET_BYTES) {
        this.error(
          `initial JavaScript is ${kb(initialJsGzipBytes)} gzipped, over the ${kb(INITIAL_JS_BUDGET_BYTES)} budget`,
        )
      }
    },
  }
}

export default defineConfig({
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  plugins: [builtStorefront()],
  build: {
    target: 'es2022',
    sourcemap: false,
    reportCompressedSize: false,
  },
  server: {
    port: 5173,
    strictPort: true,
    proxy: {
      // The dev server stands in for the gateway's origin, so cookies and the CSP work as in production.
      '/api': { target: process.env.GATEWAY_URL ?? 'http://localhost:8080', changeOrigin: true },
    },
  },
  preview: { port: 4173 },
})
