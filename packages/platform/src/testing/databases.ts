import { randomBytes } from 'node:crypto'
import pg from 'pg'
import { openDatabase, type Database, type DatabaseOptions } from '../db/database.ts'
import { migrate, type MigrationSource } from '../db/migrate.ts'

export type DatabaseKind = 'pglite' | 'postgres'

/** databaseKinds is what shared suites run over: `describe.each(databaseKinds)`. */
export const databaseKinds: DatabaseKind[] = ['pglite', 'postgres']

/** adminUrl is the Postgres the tests run beside (the machine's own, or TEST_POSTGRES_URL). */
export const adminUrl =
  process.env.TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres'

/** TestDatabase is a fresh, empty database: PGlite in memory, or a new database on Postgres. */
export interface TestDatabase {
  kind: DatabaseKind
  /** url is set for Postgres: pass it as DATABASE_URL. */
  url: string | undefined
  /** dataDir is `memory://` for PGlite: pass it as DATA_DIR. */
  dataDir: string
  drop(): Promise<void>
}

export async function createTestDatabase(kind: DatabaseKind): Promise<TestDatabase> {
  if (kind === 'pglite') {
    return { kind, url: undefined, dataDir: 'memory://', drop: async () => undefined }
  }
  const name = `microshop_test_${randomBytes(6).toString('hex')}`
  await withAdmin((client) => client.query(`create database ${name}`))
  const url = new URL(adminUrl)
  url.pathname = `/${name}`
  return {
    kind,
    url: url.toString(),
    dataDir: 'memory://',
    drop: () => withAdmin((client) => client.query(`drop database if exists ${name} with (force)`)),
  }
}

/**
 * openMigratedDatabase opens `testDb` with `migrations` applied in order, as a service's start-up
 * applies its own; `options` sizes the pool or listens to the statements.
 */
export async function openMigratedDatabase<Tables>(
  testDb: TestDatabase,
  migrations: MigrationSource[],
  options: Omit<DatabaseOptions, 'url' | 'dataDir'> = {},
): Promise<Database<Tables>> {
  const database = await openDatabase<Tables>({
    ...options,
    url: testDb.url,
    dataDir: testDb.dataDir,
  })
  await migrate(database, migrations)
  return database
}

async function withAdmin(work: (client: pg.Client) => Promise<unknown>): Promise<void> {
  const client = new pg.Client({ connectionString: adminUrl })
  await client.connect()
  try {
    await work(client)
  } finally {
    await client.end()
  }
}
