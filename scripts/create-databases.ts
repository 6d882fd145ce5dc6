// create-databases.ts (`npm run db:create`): one database and one role per service on the Postgres
// at POSTGRES_ADMIN_URL (default postgres://postgres@127.0.0.1:5432/postgres), each role owning
// its database only. Safe to run again. Passwords: <SERVICE>_DB_PASSWORD, else dev-only-<service>.
import { createServiceDatabases } from './service-databases.ts'

const adminUrl = process.env.POSTGRES_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres'
try {
  const urls = await createServiceDatabases({ adminUrl })
  for (const [service, url] of Object.entries(urls)) {
    const shown = new URL(url)
    shown.password = '***'
    console.log(`${service.padEnd(9)} ${shown.toString()}`)
  }
} catch (error) {
  console.error(`could not create the databases on ${adminUrl}:`, error)
  process.exit(1)
}
