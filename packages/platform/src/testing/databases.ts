import { randomBytes } from 'node:crypto'
import pg from 'pg'

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

async function withAdmin(work: (client: pg.Client) => Promise<unknown>): Promise<void> {
  const client = new pg.Client({ connectionString: adminUrl })
  await client.connect()
  try {
    await work(client)
  } finally {
    await client.end()
  }
}
