import { Writable } from 'node:stream'
import { sql } from 'kysely'
import { pino } from 'pino'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openDatabase, type Database } from './db/database.ts'
import { loggerOptions } from './logger.ts'
import { createTestDatabase, databaseKinds, type TestDatabase } from './testing/databases.ts'

/** capturedLogger is the services' logger writing into an array instead of stdout. */
function capturedLogger() {
  const lines: string[] = []
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(chunk.toString('utf8'))
      done()
    },
  })
  return { logger: pino(loggerOptions({ service: 'test', level: 'info' }), sink), lines }
}

const HASH = '$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA'
const EMAIL = 'ann.secret@example.com'

describe.each(databaseKinds)('the logger, with errors from %s', (kind) => {
  let testDb: TestDatabase
  let database: Database<{ accounts: { id: string; email: string; hash: string } }>

  beforeAll(async () => {
    testDb = await createTestDatabase(kind)
    database = await openDatabase({ url: testDb.url, dataDir: testDb.dataDir })
    await sql`create table accounts (id uuid primary key, email text unique, hash text)`.execute(
      database.db,
    )
    await database.db
      .insertInto('accounts')
      .values({ id: '00000000-0000-4000-8000-000000000001', email: EMAIL, hash: HASH })
      .execute()
  })
  afterAll(async () => {
    await database.close()
    await testDb.drop()
  })

  const failingInserts = [
    ['a duplicate', { email: EMAIL, hash: HASH }],
    ['text with a NUL', { email: 'x@example.com', hash: `${HASH}\u0000` }],
  ] as const

  it.each(failingInserts)(
    'when an insert of %s fails, then the error is logged without its SQL, parameters or detail',
    async (_case, values) => {
      const error = await database.db
        .insertInto('accounts')
        .values({ id: '00000000-0000-4000-8000-000000000002', ...values })
        .execute()
        .then(
          () => undefined,
          (failure: unknown) => failure,
        )
      expect(error).toBeInstanceOf(Error)
      const { logger, lines } = capturedLogger()
      logger.error({ err: error }, 'request failed')
      logger.error({ err: new Error('the use case failed', { cause: error }) }, 'wrapped')
      logger.warn({ error }, 'under another name')
      expect(lines).toHaveLength(3)
      for (const line of lines) {
        expect(line).not.toContain(EMAIL)
        expect(line).not.toContain('argon2id')
        expect(line).not.toContain('insert into')
        expect(line).not.toMatch(/"(params|parameters|query|detail)"/)
      }
      const [first] = lines.map((line) => JSON.parse(line) as { err: Record<string, unknown> })
      expect(first?.err).toMatchObject({ message: (error as Error).message })
      expect(first?.err.code).toMatch(/^[0-9A-Z]{5}$/)
    },
  )
})
