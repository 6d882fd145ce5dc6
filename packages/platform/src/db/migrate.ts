import { readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { Database } from './database.ts'

/** MigrationSource is a folder of numbered `.sql` files, applied in name order, each once. */
export interface MigrationSource {
  /** name namespaces the versions, so the platform's tables and a service's never collide. */
  name: string
  directory: string
}

const MIGRATION_FILE = /^\d{4}[-_][\w-]+\.sql$/

/**
 * migrate applies every migration not yet recorded in `schema_migrations`, all in one
 * transaction under an advisory lock: re-running is a no-op, and replicas that start at once
 * wait for each other instead of applying twice. Returns the versions it applied.
 */
export async function migrate<DB>(
  database: Database<DB>,
  sources: MigrationSource[],
): Promise<string[]> {
  const pending: { version: string; path: string }[] = []
  for (const source of sources) {
    const files = (await readdir(source.directory)).filter((f) => MIGRATION_FILE.test(f)).sort()
    for (const file of files) {
      pending.push({ version: `${source.name}/${file}`, path: join(source.directory, file) })
    }
  }
  return database.inTransaction(async (session) => {
    await session.query(`select pg_advisory_xact_lock(hashtext('microshop:migrate'))`)
    await session.exec(`create table if not exists schema_migrations (
      version text primary key,
      applied_at timestamptz not null default now()
    )`)
    const applied = new Set(
      (await session.query<{ version: string }>('select version from schema_migrations')).map(
        (row) => row.version,
      ),
    )
    const appliedNow: string[] = []
    for (const migration of pending) {
      if (applied.has(migration.version)) continue
      await session.exec(await readFile(migration.path, 'utf8'))
      await session.query('insert into schema_migrations (version) values ($1)', [
        migration.version,
      ])
      appliedNow.push(migration.version)
    }
    return appliedNow
  })
}
