import { execFileSync, spawn } from 'node:child_process'
import { existsSync, readdirSync } from 'node:fs'
import { chown, mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { freePort } from './nats-server.ts'

// POSTGRES_BIN is the newest server installed from Debian's packages, or POSTGRES_BIN_DIR.
const POSTGRES_BIN =
  process.env.POSTGRES_BIN_DIR ??
  (() => {
    const root = '/usr/lib/postgresql'
    if (!existsSync(root)) return join(root, 'none', 'bin')
    const majors = readdirSync(root).sort((a, b) => Number(b) - Number(a))
    return join(root, majors[0] ?? 'none', 'bin')
  })()

/** postgresServerAvailable tells whether tests and drills can start a Postgres of their own. */
export const postgresServerAvailable = existsSync(join(POSTGRES_BIN, 'initdb'))

/**
 * OwnPostgresServer is a Postgres a test or drill starts on a free port in a throwaway data
 * folder, so it can restart or crash it without touching the machine's.
 */
export interface OwnPostgresServer {
  /** adminUrl is the superuser's URL to the `postgres` database (trust auth, 127.0.0.1). */
  adminUrl: string
  port: number
  /** stop shuts it down: `fast` as for a minor upgrade, `immediate` like a crash (recovery on start). */
  stop(mode?: 'fast' | 'immediate'): Promise<void>
  start(): Promise<void>
  dispose(): Promise<void>
}

// Postgres refuses to run as root: as root, the server and its folder belong to `postgres`.
function runAs(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined
  const uid = Number(execFileSync('id', ['-u', 'postgres']).toString().trim())
  const gid = Number(execFileSync('id', ['-g', 'postgres']).toString().trim())
  return { uid, gid }
}

function run(command: string, args: string[], user: { uid: number; gid: number } | undefined) {
  return new Promise<void>((resolve, reject) => {
    const child = spawn(join(POSTGRES_BIN, command), args, {
      stdio: ['ignore', 'ignore', 'pipe'],
      ...(user ?? {}),
    })
    let stderr = ''
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
    child.once('error', reject)
    child.once('exit', (code) =>
      code === 0 ? resolve() : reject(new Error(`${command} exited ${code}: ${stderr.trim()}`)),
    )
  })
}

export async function startOwnPostgresServer(): Promise<OwnPostgresServer> {
  const user = runAs()
  const root = await mkdtemp(join(tmpdir(), 'postgres-test-'))
  const dataDir = join(root, 'data')
  if (user) await chown(root, user.uid, user.gid)
  await run('initdb', ['-D', dataDir, '-A', 'trust', '-U', 'postgres', '--no-sync'], user)
  const port = await freePort()
  const options = [
    `-p ${port}`,
    `-k ${root}`,
    "-c listen_addresses='127.0.0.1'",
    // A restart in a test must not wait for a checkpoint to reach the disk.
    '-c fsync=off',
    '-c max_connections=200',
  ].join(' ')
  const server: OwnPostgresServer = {
    adminUrl: `postgres://postgres@127.0.0.1:${port}/postgres`,
    port,
    start: () =>
      run('pg_ctl', ['-D', dataDir, '-o', options, '-l', join(root, 'log'), '-w', 'start'], user),
    stop: (mode = 'fast') => run('pg_ctl', ['-D', dataDir, '-m', mode, '-w', 'stop'], user),
    async dispose() {
      await server.stop('immediate').catch(() => undefined)
      await rm(root, { recursive: true, force: true })
    },
  }
  await server.start()
  return server
}
