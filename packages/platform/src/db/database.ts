import { mkdir } from 'node:fs/promises'
import { CamelCasePlugin, Kysely, PGliteDialect, PostgresDialect, sql } from 'kysely'
import pg from 'pg'

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
  /**
   * listen calls `onNotify` for every NOTIFY on `channel` until the returned stop is called. On
   * Postgres it keeps its own connection and reconnects when it drops, calling `onNotify` once
   * after reconnecting since notifications sent meanwhile are lost; `onError` hears why.
   */
  listen(
    channel: string,
    onNotify: () => void,
    onError?: (error: unknown) => void,
  ): Promise<() => Promise<void>>
  ping(): Promise<void>
  close(): Promise<void>
}

export interface DatabaseOptions {
  /** url is a postgres:// URL; without it PGlite keeps the data in `dataDir`. */
  url?: string | undefined
  /** dataDir is PGlite's folder, or `memory://` for a throwaway in-memory database. */
  dataDir: string
  poolSize?: number
  applicationName?: string
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

export async function openDatabase<DB>(options: DatabaseOptions): Promise<Database<DB>> {
  return options.url ? openPostgres<DB>(options.url, options) : openPGlite<DB>(options.dataDir)
}

function openPostgres<DB>(url: string, options: DatabaseOptions): Database<DB> {
  const pool = new pg.Pool({
    connectionString: url,
    max: options.poolSize ?? 10,
    idleTimeoutMillis: 30_000,
    connectionTimeoutMillis: 5_000,
    application_name: options.applicationName,
    types: { getTypeParser: getTypeParser as typeof pg.types.getTypeParser },
  })
  // An idle client that loses its connection emits here; the pool replaces it on next use.
  pool.on('error', () => undefined)
  const db = new Kysely<DB>({
    dialect: new PostgresDialect({ pool }),
    plugins: [new CamelCasePlugin()],
  })
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
    listen: (channel, onNotify, onError) =>
      listenOnPostgres(url, options, channel, onNotify, onError),
    async ping() {
      await sql`select 1`.execute(db)
    },
    close: () => db.destroy(),
  }
}

const LISTEN_RETRY_MS = 1_000

async function listenOnPostgres(
  url: string,
  options: DatabaseOptions,
  channel: string,
  onNotify: () => void,
  onError: (error: unknown) => void = () => undefined,
): Promise<() => Promise<void>> {
  let client: pg.Client | undefined
  let retry: NodeJS.Timeout | undefined
  let stopped = false
  const connectListener = async (reconnecting: boolean) => {
    const next = new pg.Client({
      connectionString: url,
      application_name: options.applicationName,
      connectionTimeoutMillis: 5_000,
    })
    next.on('notification', (message) => {
      if (message.channel === channel) onNotify()
    })
    next.on('error', (error) => {
      onError(error)
      void next.end().catch(() => undefined)
    })
    next.on('end', () => {
      if (client === next) scheduleRetry()
    })
    try {
      await next.connect()
      await next.query(`listen ${next.escapeIdentifier(channel)}`)
    } catch (error) {
      onError(error)
      await next.end().catch(() => undefined)
      scheduleRetry()
      return
    }
    if (stopped) return void (await next.end().catch(() => undefined))
    client = next
    if (reconnecting) onNotify()
  }
  const scheduleRetry = () => {
    client = undefined
    if (stopped || retry) return
    retry = setTimeout(() => {
      retry = undefined
      void connectListener(true)
    }, LISTEN_RETRY_MS)
  }
  await connectListener(false)
  return async () => {
    stopped = true
    clearTimeout(retry)
    await client?.end().catch(() => undefined)
  }
}

async function openPGlite<DB>(dataDir: string): Promise<Database<DB>> {
  const inMemory = dataDir.startsWith('memory://')
  if (!inMemory) await mkdir(dataDir, { recursive: true })
  // PGlite is loaded only when it is used, so container images (always on Postgres) ship without it.
  const { PGlite } = await import('@electric-sql/pglite')
  const pglite = await PGlite.create(inMemory ? undefined : dataDir, {
    parsers: { [INT8_OID]: parseInt8 },
  })
  const db = new Kysely<DB>({
    dialect: new PGliteDialect({ pglite }),
    plugins: [new CamelCasePlugin()],
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
    listen: (channel, onNotify) => pglite.listen(channel, () => onNotify()),
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
