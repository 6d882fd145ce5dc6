// storefront-build.ts: the storefront's Vite build (services/web/dist), made when it is missing or
// older than its sources. `npm start`, `npm run start:services` and the browser tests call it, so a
// fresh clone serves the shop with no extra step and an edit to the storefront shows on the next
// start. One process builds at a time, beside dist, and moves the build into place whole.
import { spawn } from 'node:child_process'
import { createHash } from 'node:crypto'
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { join, resolve } from 'node:path'

const repoRoot = resolve(import.meta.dirname, '..')
const webRoot = join(repoRoot, 'services', 'web')
export const storefrontDist = join(webRoot, 'dist')
const STAMP = '.source-hash'

/** SOURCES are what the build reads: a change to any of them makes the build stale. */
const SOURCES = ['index.html', 'vite.config.ts', 'package.json', 'src', 'public']

/** sourceHash is a digest of every storefront source file and the lockfile (its dependencies). */
export async function sourceHash(): Promise<string> {
  const hash = createHash('sha256')
  const add = async (path: string) => {
    hash.update(`${path}\0`)
    hash.update(await readFile(path))
  }
  for (const source of SOURCES) {
    const path = join(webRoot, source)
    const entries = await readdir(path, { recursive: true, withFileTypes: true }).catch(() => null)
    if (entries === null) {
      await add(path).catch(() => hash.update(`${path}\0missing`))
      continue
    }
    const files = entries
      .filter((entry) => entry.isFile())
      .map((entry) => join(entry.parentPath, entry.name))
      .sort()
    for (const file of files) await add(file)
  }
  await add(join(repoRoot, 'package-lock.json'))
  return hash.digest('hex')
}

export interface StorefrontBuild {
  /** built is false when dist was already up to date. */
  built: boolean
  ms: number
}

/**
 * ensureStorefrontBuilt builds the storefront when dist is missing or was built from other
 * sources. The Vite build runs in its own process (it takes a second or two, on another core
 * than the services starting beside it) and prints its summary, the bundle size among it.
 */
export async function ensureStorefrontBuilt(
  options: { output?: 'inherit' | 'quiet' } = {},
): Promise<StorefrontBuild> {
  const started = performance.now()
  const wanted = await sourceHash()
  const builtFrom = () => readFile(join(storefrontDist, STAMP), 'utf8').catch(() => '')
  if ((await builtFrom()) === wanted) return { built: false, ms: performance.now() - started }

  // One build at a time (test files and run modes may ask at once): whoever waited for the lock
  // finds the build made and leaves dist alone, so nobody replaces it under a gateway reading it.
  const release = await buildLock()
  try {
    if ((await builtFrom()) === wanted) return { built: false, ms: performance.now() - started }
    const staging = join(webRoot, `.build-${process.pid}-${Date.now()}`)
    try {
      await runVite(staging, options.output ?? 'inherit')
      await writeFile(join(staging, STAMP), wanted)
      await rm(storefrontDist, { recursive: true, force: true })
      await rename(staging, storefrontDist)
    } finally {
      await rm(staging, { recursive: true, force: true })
    }
  } finally {
    await release()
  }
  return { built: true, ms: performance.now() - started }
}

const LOCK = join(webRoot, '.build-lock')
const LOCK_STALE_MS = 120_000

/**
 * buildLock takes the storefront's build lock (a directory: mkdir is atomic), waiting while
 * another process holds it; a lock older than LOCK_STALE_MS is from a process that died.
 */
async function buildLock(): Promise<() => Promise<void>> {
  for (;;) {
    try {
      await mkdir(LOCK)
      return () => rm(LOCK, { recursive: true, force: true })
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error
      const taken = await stat(LOCK).catch(() => undefined)
      if (taken && Date.now() - taken.mtimeMs > LOCK_STALE_MS) {
        await rm(LOCK, { recursive: true, force: true })
        continue
      }
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
  }
}

function runVite(outDir: string, output: 'inherit' | 'quiet'): Promise<void> {
  const viteBin = join(
    resolve(createRequire(join(webRoot, 'package.json')).resolve('vite/package.json'), '..'),
    'bin',
    'vite.js',
  )
  return new Promise((resolvePromise, reject) => {
    const child = spawn(
      process.execPath,
      [
        viteBin,
        'build',
        '--outDir',
        outDir,
        '--emptyOutDir',
        '--logLevel',
        output === 'quiet' ? 'warn' : 'info',
      ],
      { cwd: webRoot, stdio: ['ignore', output === 'quiet' ? 'pipe' : 'inherit', 'pipe'] },
    )
    let errors = ''
    child.stderr?.on('data', (chunk: Buffer) => {
      errors += chunk.toString()
      if (output === 'inherit') process.stderr.write(chunk)
    })
    child.stdout?.resume()
    child.once('error', reject)
    child.once('exit', (code, signal) => {
      if (code === 0) resolvePromise()
      else
        reject(new Error(`the storefront build failed (${signal ?? `exit ${code}`}):\n${errors}`))
    })
  })
}
