// scripts/build-bundles.ts: the services' bundles (scripts/build.ts) built from another script,
// for the benchmark and the drills, which run each service's bundle as its process, as the
// images do.
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { join, resolve } from 'node:path'

const repoRoot = resolve(import.meta.dirname, '..')

/** buildBundles runs `npm run build` (every service) with its errors shown, and throws unless it succeeds. */
export async function buildBundles(): Promise<void> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', join(repoRoot, 'scripts', 'build.ts')],
    {
      cwd: repoRoot,
      stdio: ['ignore', 'ignore', 'inherit'],
    },
  )
  const [code] = (await once(child, 'exit')) as [number | null]
  if (code !== 0) throw new Error(`scripts/build.ts exited ${String(code)}`)
}
