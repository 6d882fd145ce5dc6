// scripts/build.ts bundles each service into one ESM file, `services/<name>/dist/main.js`, with
// esbuild: the form the container images and the benchmark run (fast start, small images). Only
// native or asset-carrying packages stay outside the bundle and are installed beside it.
import { cp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { isBuiltin } from 'node:module'
import { join } from 'node:path'
import { build, type Plugin } from 'esbuild'
import { LOAD_ONLY } from '@microshop/platform/load-only'
import { run } from './compose-project.ts'
import { serviceNodeFlags, serviceProcessEnv, type ServiceName } from './shop-layout.ts'

/**
 * external packages are loaded from node_modules at run time: a native addon, PGlite's wasm, and
 * Swagger UI, which finds its static files beside its own code (`__dirname`).
 */
export const externalPackages = [
  'argon2',
  '@electric-sql/pglite',
  'pg-native',
  '@fastify/swagger-ui',
]

// platformMigrationsInBundle points the platform's migrations at the copy beside the bundle:
// in source they sit two folders up from platform-migrations.ts, which means nothing in a bundle.
const platformMigrationsInBundle: Plugin = {
  name: 'platform-migrations-in-bundle',
  setup(esbuild) {
    esbuild.onLoad({ filter: /platform[\\/]src[\\/]events[\\/]platform-migrations\.ts$/ }, () => ({
      loader: 'ts',
      contents: `import { fileURLToPath } from 'node:url'
        export const platformMigrations = {
          name: 'platform',
          directory: fileURLToPath(new URL('./migrations/platform', import.meta.url)),
        }`,
    }))
  },
}

/**
 * builtinsThroughRequire loads Node's built-in modules with `require` (the banner's), also where
 * the source imports them. For an `import` of a built-in Node builds an ES module facade, which
 * reads every one of the module's exports, lazy ones too: `node:http`'s lazy WebSocket pulls in
 * Node's whole internal undici (fetch), ~100 ms of CPU at every start (decision 0017) before any
 * HTTP call needs it.
 */
const builtinsThroughRequire: Plugin = {
  name: 'builtins-through-require',
  setup(esbuild) {
    esbuild.onResolve({ filter: /^[a-z:_/0-9]+$/ }, (args) => {
      if (!isBuiltin(args.path)) return undefined
      return args.kind === 'require-call'
        ? { path: args.path, external: true }
        : { path: args.path, namespace: 'node-builtin' }
    })
    esbuild.onLoad({ filter: /.*/, namespace: 'node-builtin' }, (args) => ({
      loader: 'js',
      contents: `module.exports = require(${JSON.stringify(args.path)})`,
    }))
  },
}

async function servicesWithMain(): Promise<string[]> {
  const names = await readdir('services')
  const present = await Promise.all(
    names.map((name) =>
      stat(join('services', name, 'src', 'main.ts')).then(
        () => true,
        () => false,
      ),
    ),
  )
  return names.filter((_, index) => present[index]).sort()
}

export async function buildService(name: string): Promise<{ bytes: number }> {
  const outdir = join('services', name, 'dist')
  await rm(outdir, { recursive: true, force: true })
  const result = await build({
    entryPoints: [join('services', name, 'src', 'main.ts')],
    outfile: join(outdir, 'main.js'),
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node24',
    external: externalPackages,
    // Bundled CommonJS packages (pg, fastify's deps) call require: give the ESM bundle one.
    banner: {
      js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);",
    },
    // Whitespace and comments go: the source is held in memory as long as the process runs
    // (3.3 MB instead of 4.6 for orders), and parsing less is a faster start. Stack traces keep
    // their function names (keepNames) and point into the bundle; `sourcemap` maps them back.
    minifySyntax: true,
    minifyWhitespace: true,
    keepNames: true,
    sourcemap: 'linked',
    legalComments: 'none',
    metafile: true,
    logLevel: 'warning',
    plugins: [platformMigrationsInBundle, builtinsThroughRequire],
  })
  await escapeNonAscii(join(outdir, 'main.js'))
  await cp(join('packages', 'platform', 'migrations'), join(outdir, 'migrations', 'platform'), {
    recursive: true,
  })
  await fillCompileCache(join(outdir, 'main.js'), nodeFlagsOf(name))
  const bytes = Object.values(result.metafile.outputs)
    .filter((_, index) => Object.keys(result.metafile.outputs)[index]?.endsWith('.js'))
    .reduce((sum, output) => sum + output.bytes, 0)
  return { bytes }
}

// escapeNonAscii writes the bundle's non-ASCII characters as `\uXXXX` escapes, one per UTF-16
// unit. Node decodes a source with a single non-ASCII character as UTF-16, which doubles the
// memory the source takes for the life of the process (6.6 MB instead of 3.3 for orders).
// esbuild escapes strings and identifiers but leaves regular-expression literals as written
// (`/µs/` in the NATS client), where the escape means the same character, with or without the
// `u` flag. Columns after an escape on its line move by five in the source map.
async function escapeNonAscii(file: string): Promise<void> {
  const code = await readFile(file, 'utf8')
  const nonAscii = /[\u0080-\uffff]/g
  if (!nonAscii.test(code)) return
  const escaped = code.replace(
    nonAscii,
    (unit) => `\\u${unit.charCodeAt(0).toString(16).padStart(4, '0')}`,
  )
  await writeFile(file, escaped)
}

/**
 * fillCompileCache loads a bundle once, with the flags and compile cache the launchers run it with
 * (scripts/shop-layout.ts), and starts nothing (`--load-only`): Node stores V8's code for it, and
 * every start after skips compiling 3 MB of JavaScript (decision 0017). Another user, Node or
 * set of flags only misses the cache.
 */
async function fillCompileCache(bundle: string, nodeFlags: readonly string[]): Promise<void> {
  const loaded = await run(process.execPath, [...nodeFlags, bundle, LOAD_ONLY], {
    timeoutMs: 60_000,
    env: serviceProcessEnv,
    inherit: true,
  })
  if (loaded.code !== 0) throw new Error(`${bundle} ${LOAD_ONLY} exited ${loaded.code}`)
}

function nodeFlagsOf(name: string): readonly string[] {
  return Object.hasOwn(serviceNodeFlags, name) ? serviceNodeFlags[name as ServiceName] : []
}

const requested = process.argv.slice(2)
const names = requested.length > 0 ? requested : await servicesWithMain()
for (const name of names) {
  const started = performance.now()
  const { bytes } = await buildService(name)
  console.log(
    `built services/${name}/dist/main.js  ${(bytes / 1024).toFixed(0)} KiB  ${Math.round(performance.now() - started)} ms`,
  )
}
