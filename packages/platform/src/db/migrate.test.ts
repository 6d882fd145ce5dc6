import { mkdtemp, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { sql } from 'kysely'
import { afterEach, describe, expect, it } from 'vitest'
import { createTestDatabase, databaseKinds, type TestDatabase } from '../testing/databases.ts'
import { openDatabase, type Database } from './database.ts'
import { migrate, type MigrationSource } from './migrate.ts'

async function sourceWith(files: Record<string, string>): Promise<MigrationSource> {
  const directory = await mkdtemp(join(tmpdir(), 'migrations-'))
  for (const [name, text] of Object.entries(files)) await writeFile(join(directory, name), text)
  return { name: 'test', directory }
}

describe.each(databaseKinds)('migrate on %s', (kind) => {
  let testDb: TestDatabase
  const opened: Database<unknown>[] = []
  const open = async () => {
    const database = await openDatabase<unknown>({ url: testDb.url, dataDir: testDb.dataDir })
    opened.push(database)
    return database
  }

  afterEach(async () => {
    await Promise.all(opened.splice(0).map((d) => d.close()))
    await testDb.drop()
  })

  it('when run twice, then each migration applies once', async () => {
    testDb = await createTestDatabase(kind)
    const database = await open()
    const source = await sourceWith({
      '0001_things.sql': 'create table things (id int primary key); insert into things values (1);',
      '0002_more.sql': 'insert into things values (2);',
    })
    expect(await migrate(database, [source])).toEqual([
      'test/0001_things.sql',
      'test/0002_more.sql',
    ])
    expect(await migrate(database, [source])).toEqual([])
    const { rows } = await sql<{ n: number }>`select count(*)::int as n from things`.execute(
      database.db,
    )
    expect(rows[0]?.n).toBe(2)
  })

  it('when a migration fails, then nothing of the batch stays applied', async () => {
    testDb = await createTestDatabase(kind)
    const database = await open()
    const source = await sourceWith({
      '0001_ok.sql': 'create table kept (id int);',
      '0002_bad.sql': 'create table broken (id nonexistent_type);',
    })
    await expect(migrate(database, [source])).rejects.toThrow()
    const { rows } = await sql<{
      name: string | null
    }>`select to_regclass('kept')::text as name`.execute(database.db)
    expect(rows[0]?.name).toBeNull()
  })

  it.runIf(kind === 'postgres')(
    'when two replicas start at once, then migrations apply once',
    async () => {
      testDb = await createTestDatabase(kind)
      const [a, b] = [await open(), await open()]
      const source = await sourceWith({
        '0001_counter.sql': 'create table counter (n int); insert into counter values (1);',
      })
      const results = await Promise.all([migrate(a, [source]), migrate(b, [source])])
      expect(results.flat()).toEqual(['test/0001_counter.sql'])
      const { rows } = await sql<{ n: number }>`select count(*)::int as n from counter`.execute(
        a.db,
      )
      expect(rows[0]?.n).toBe(1)
    },
  )
})
