// service-databases.ts: one database and one login role per service on a Postgres server, each
// role owning its database and nothing else, no other role allowed to connect. The same layout
// docker/postgres/init-databases.sh makes for compose, with the same dev passwords.
import pg from 'pg'
import { backendServices, type BackendService } from './shop-layout.ts'

export interface ServiceDatabasesOptions {
  /** adminUrl is a superuser connection to the server, e.g. postgres://postgres@127.0.0.1:5432/postgres. */
  adminUrl: string
  /** prefix goes before every database and role name: tests use a fresh one per run. */
  prefix?: string
  /** passwords per service; default `<SERVICE>_DB_PASSWORD` from the environment, else `dev-only-<service>`. */
  passwords?: Partial<Record<BackendService, string>>
}

/** databasePassword is a service's role password: `<SERVICE>_DB_PASSWORD`, else the dev default. */
export function databasePassword(service: BackendService, env = process.env): string {
  return env[`${service.toUpperCase()}_DB_PASSWORD`] || `dev-only-${service}`
}

/**
 * createServiceDatabases makes sure every service has its role and database, and returns each
 * service's DATABASE_URL. It is safe to run again: what exists is kept (its data too), the
 * password and the ownership are set again.
 */
export async function createServiceDatabases(
  options: ServiceDatabasesOptions,
): Promise<Record<BackendService, string>> {
  const prefix = options.prefix ?? ''
  const urls = {} as Record<BackendService, string>
  await withAdmin(options.adminUrl, async (client) => {
    for (const service of backendServices) {
      const name = `${prefix}${service}`
      const password = options.passwords?.[service] ?? databasePassword(service)
      const role = client.escapeIdentifier(name)
      const roleExists = await client.query('select 1 from pg_roles where rolname = $1', [name])
      await client.query(
        `${roleExists.rowCount === 0 ? 'create' : 'alter'} role ${role} login nosuperuser ` +
          `nocreatedb nocreaterole password ${client.escapeLiteral(password)}`,
      )
      const databaseExists = await client.query('select 1 from pg_database where datname = $1', [
        name,
      ])
      if (databaseExists.rowCount === 0) await client.query(`create database ${role} owner ${role}`)
      else await client.query(`alter database ${role} owner to ${role}`)
      await client.query(`revoke all on database ${role} from public`)
      urls[service] = serviceUrl(options.adminUrl, name, password)
    }
  })
  return urls
}

/** dropServiceDatabases removes the databases and roles createServiceDatabases made (tests). */
export async function dropServiceDatabases(
  options: Pick<ServiceDatabasesOptions, 'adminUrl' | 'prefix'>,
): Promise<void> {
  await withAdmin(options.adminUrl, async (client) => {
    for (const service of backendServices) {
      const name = client.escapeIdentifier(`${options.prefix ?? ''}${service}`)
      await client.query(`drop database if exists ${name} with (force)`)
      await client.query(`drop role if exists ${name}`)
    }
  })
}

function serviceUrl(adminUrl: string, name: string, password: string): string {
  const url = new URL(adminUrl)
  url.username = encodeURIComponent(name)
  url.password = encodeURIComponent(password)
  url.pathname = `/${encodeURIComponent(name)}`
  return url.toString()
}

async function withAdmin(url: string, work: (client: pg.Client) => Promise<void>): Promise<void> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5_000 })
  await client.connect()
  try {
    await work(client)
  } finally {
    await client.end()
  }
}
