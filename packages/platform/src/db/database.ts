import { createHash } from 'node:crypto'
import { existsSync } from 'node:fs'
import { mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import {
  CamelCasePlugin,
  Kysely,
  PGliteDialect,
  PostgresDialect,
  sql,
  type KyselyConfig,
} from 'kysely'
import pg from 'pg'
import { tracePostgresStatements } from './postgres-spans.ts'
import type { PGlite as PGliteType } from '@electric-sql/pglite'

/**
 * SqlSession runs plain SQL inside one transaction: migrations and scripts that Kysely's
 * builder does not express (several statements at once, advisory locks).
 */
export interface SqlSession {
  exec(script: string): Promise<void>
  query<Row>(text: string, params?: unknown[]): Promise<Row[]>
}

/**
 * Database is a service's own database: a typed Kysely instance over node-postgres when a URL
 * is given, or over an embedded PGlite otherwise. Both run the same SQL.
 */
export interface Database<DB> {
  db: Kysely<DB>
  kind: 'postgres' | 'pglite'
  /** inTransaction runs plain SQL in one transaction on one connection. */
  inTransaction<T>(work: (session: SqlSession) => Promise<T>): Promise<T>
  ping(): Promise<void>
  close(): Promise<void>
}

export interface DatabaseOptions {
  /** url is a postgres:// URL; without it PGlite keeps the data in `dataDir`. */
  url?: string | undefined
  /** dataDir is PGlite's folder, or `memory://` for a throwaway in-memory database. */
  dataDir: string
  poolSize?: number
  /**
   * connectTimeoutMs bounds the wait for a pooled connection (a new one, or a free one when all
   * are busy); past it the call fails. Default 5 s.
   */
  connectTimeoutMs?: number
  applicationName?: string
  /**
   * onStatement hears every statement sent to the database: one call per round trip (on
   * Postgres BEGIN and COMMIT too; PGlite's driver opens and ends transactions without one).
   * Tests count a use case's round trips with it.
   */
  onStatement?: ((sql: string) => void) | undefined
}

const INT8_OID = 20

// Counts and amounts are well inside Number's safe range; reading int8 as a number keeps
// repositories free of string-to-number conversions.
const parseInt8 = (value: string) => Number(value)

function getTypeParser(oid: number, format?: 'text' | 'binary'): (value: string) => unknown {
  return oid === INT8_OID
    ? parseInt8
    : (pg.types.getTypeParser(oid, format) as (v: string) => unknown)
}

// statementNames remembers the name of each parameterized statement text; the service's
// statements are a fixed set (their texts differ only by the length of IN lists), so it stays small.
const statementNames = new Map<string, string>()
const MAX_STATEMENT_NAMES = 2_000

function statementName(text: string): string {
  let name = statementNames.get(text)
  if (name === undefined) {
    name = `ms_${createHash('sha1').update(text).digest('base64url').slice(0, 20)}`
    if (statementNames.size < MAX_STATEMENT_NAMES) statementNames.set(text, name)
  }
  return name
}

/**
 * prepareStatements has a pooled connection send every parameterized statement as a named one:
 * Postgres parses and plans it once per connection and then only binds and executes it, where an
 * unnamed statement is parsed and planned on every call (parse and plan were more of its CPU
 * than execution). Statements without parameters (BEGIN, COMMIT, scripts) go as they are.
 */
function prepareStatements(client: pg.PoolClient): void {
  const query = client.query.bind(client) as (...args: unknown[]) => unknown
  client.query = ((text: unknown, values?: unknown, callback?: unknown) =>
    typeof text === 'string' && Array.isArray(values) && values.length > 0
      ? query({ name: statementName(text), text, values }, callback)
      : query(text, values, callback)) as typeof client.query
}

export async function openDatabase<DB>(options: DatabaseOptions): Promise<Database<DB>> {
  return options.url ? openPostgres<DB>(options.url, options) : openPGlite<DB>(options)
}

// statementLog gives Kysely's log hook when someone listens (without one Kysely adds no wrapper).
// A statement that fails made its round trip too: Kysely logs it as an error.
function statementLog(onStatement: DatabaseOptions['onStatement']): Pick<KyselyConfig, 'log'> {
  return onStatement ? { log: (event) => onStatement(event.query.sql) } : {}
}

function openPostgres<DB>(url: string, options: DatabaseOptions): Database<DB> {
  tracePostgresStatements()
  const pool = new pg.Pool({
    connectionString: url,
    max: options.poolSize ?? 10,
    idleTimeoutMillis: 30_000,
    connectionTimeoutMillis: options.connectTimeoutMs ?? 5_000,
    application_name: options.applicationName,
    types: { getTypeParser: getTypeParser as typeof pg.types.getTypeParser },
  })
  // An idle client that loses its connection emits here; the pool replaces it on next use.
  pool.on('error', () => undefined)
  pool.on('connect', (client) => {
    // A connection that dies while checked out (the server restarting) emits here; its query
    // fails with the error, and the pool drops the broken client when it comes back.
    client.on('error', () => undefined)
    prepareStatements(client)
  })
  const db = new Kysely<DB>({
    dialect: new PostgresDialect({ pool }),
    plugins: [new CamelCasePlugin()],
    ...statementLog(options.onStatement),
  })
  const pinger = pingConnection(url, options.applicationName)
  return {
    db,
    kind: 'postgres',
    async inTransaction(work) {
      const client = await pool.connect()
      try {
        await client.query('begin')
        const result = await work({
          exec: async (script) => {
            await client.query(script)
          },
          query: async <Row>(text: string, params?: unknown[]) =>
            (await client.query(text, params)).rows as Row[],
        })
        await client.query('commit')
        return result
      } catch (error) {
        await client.query('rollback').catch(() => undefined)
        throw error
      } finally {
        client.release()
      }
    },
    ping: () => pinger.ping(),
    async close() {
      await pinger.close()
      await db.destroy()
    },
  }
}

/**
 * pingConnection answers readiness checks on a connection of their own: when the work in
 * flight holds every pooled connection, or the database restarts, the check still answers at
 * once whether the database is there. A broken connection is dropped and made again next time.
 */
function pingConnection(url: string, applicationName: string | undefined) {
  let connected: Promise<pg.Client> | undefined
  const connect = async () => {
    const client = new pg.Client({
      connectionString: url,
      connectionTimeoutMillis: 2_000,
      ...(applicationName === undefined ? {} : { application_name: `${applicationName}-health` }),
    })
    client.on('error', () => undefined)
    await client.connect()
    return client
  }
  const drop = (client: Promise<pg.Client>) => {
    if (connected === client) connected = undefined
    void client.then((c) => c.end()).catch(() => undefined)
  }
  return {
    async ping() {
      const client = (connected ??= connect())
      try {
        await (await client).query('select 1')
      } catch (error) {
        drop(client)
        throw error
      }
    },
    async close() {
      if (connected) drop(connected)
    },
  }
}

// PGLITE_SHARED_BUFFERS is each embedded database's buffer cache. Postgres' default, 128MB, lives
// in the WebAssembly heap of every instance, and `npm start` runs four: 8MB (1024 pages) holds a
// local shop's working set and keeps the four under 500 MB together.
const PGLITE_SHARED_BUFFERS = '8MB'

type PGliteClass = typeof PGliteType
let freshCluster: Promise<Blob | undefined> | undefined

/**
 * freshClusterOnce is a newly initialised database cluster as a tarball, made once per process:
 * initdb is most of a new PGlite database's cost (seconds of WebAssembly), and every cluster it
 * makes is the same, so the four databases of `npm start` (and every test's) start from one copy.
 * Undefined when it could not be made: then each database runs its own initdb.
 */
function freshClusterOnce(PGlite: PGliteClass, startParams: string[]): Promise<Blob | undefined> {
  freshCluster ??= (async () => {
    try {
      const maker = await PGlite.create(undefined, { startParams })
      const tarball = await maker.dumpDataDir('none')
      await maker.close()
      return tarball
    } catch {
      return undefined
    }
  })()
  return freshCluster
}

/**
 * forgetFreshCluster lets the fresh cluster's tarball go (38.5 MB, held outside the JS heap): `npm
 * start` calls it once its four databases are open, and a later fresh database runs its own initdb.
 */
export function forgetFreshCluster(): void {
  freshCluster = undefined
}

async function openPGlite<DB>(options: DatabaseOptions): Promise<Database<DB>> {
  const { dataDir } = options
  const inMemory = dataDir.startsWith('memory://')
  if (!inMemory) await mkdir(dataDir, { recursive: true })
  // PGlite is loaded only when it is used, so container images (always on Postgres) ship without it.
  const { PGlite } = await import('@electric-sql/pglite')
  const startParams = [
    ...PGlite.defaultStartParams,
    '-c',
    `shared_buffers=${PGLITE_SHARED_BUFFERS}`,
  ]
  const fresh = inMemory || !existsSync(join(dataDir, 'PG_VERSION'))
  const loadDataDir = fresh ? await freshClusterOnce(PGlite, startParams) : undefined
  const pglite = await PGlite.create(inMemory ? undefined : dataDir, {
    parsers: { [INT8_OID]: parseInt8 },
    startParams,
    ...(loadDataDir === undefined ? {} : { loadDataDir }),
  })
  const db = new Kysely<DB>({
    dialect: new PGliteDialect({ pglite }),
    plugins: [new CamelCasePlugin()],
    ...statementLog(options.onStatement),
  })
  return {
    db,
    kind: 'pglite',
    inTransaction: (work) =>
      pglite.transaction((tx) =>
        work({
          exec: async (script) => {
            await tx.exec(script)
          },
          query: async <Row>(text: string, params?: unknown[]) =>
            (await tx.query<Row>(text, params)).rows,
        }),
      ),
    async ping() {
      await sql`select 1`.execute(db)
    },
    close: () => db.destroy(),
  }
}

/**
 * serviceDataDir is where a service keeps its embedded database: `<DATA_DIR>/<service>/pg`, or
 * a fresh in-memory one when DATA_DIR is `memory://` (tests).
 */
export function serviceDataDir(dataDir: string, service: string): string {
  return dataDir.startsWith('memory://') ? dataDir : `${dataDir}/${service}/pg`
}

/** ServiceDatabaseSettings are the database settings every service reads (serviceEnv). */
export interface ServiceDatabaseSettings {
  DATABASE_URL?: string | undefined
  DATA_DIR: string
  DATABASE_POOL_SIZE: number
}

/**
 * openServiceDatabase opens a service's own database from its settings: Postgres at
 * DATABASE_URL, else PGlite in `<DATA_DIR>/<service>/pg`.
 */
export function openServiceDatabase<DB>(
  service: string,
  settings: ServiceDatabaseSettings,
): Promise<Database<DB>> {
  return openDatabase<DB>({
    url: settings.DATABASE_URL,
    dataDir: serviceDataDir(settings.DATA_DIR, service),
    poolSize: settings.DATABASE_POOL_SIZE,
    applicationName: service,
  })
}
