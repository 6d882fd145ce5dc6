// bench/profiling/step-batching.ts (`node --import tsx bench/profiling/step-batching.ts [BATCH]`)
// measures what batching would buy a saga step on this machine's Postgres before anyone builds
// it: Postgres CPU per step and steps/s from 10 busy clients (the services' pool size), for a
// step shaped like the shop's (an inbox insert and a guarded update in one statement), run
//   - alone, one transaction per step (what every consumer does today),
//   - BATCH steps, one statement each, in one transaction (a consumer batch in one commit),
//   - BATCH steps in one statement over arrays (a set-based step).
// Each 5 s, twice, in turn. POSTGRES_ADMIN_URL as for `npm run bench`; it creates and drops its
// own two tables there.
import { randomUUID } from 'node:crypto'
import { readdirSync, readFileSync } from 'node:fs'
import pg from 'pg'

const url = process.env.POSTGRES_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres'
const CLIENTS = 10
const SECONDS = 5
const BATCH = Number(process.argv[2] ?? 8)
const ROWS = 10_000
const CLOCK_TICKS = 100

type Mode = 'alone' | 'one transaction' | 'one statement'

const STEP = `with handled as (
    insert into step_batching_inbox (consumer, event_id) values ($1, $2)
    on conflict do nothing returning 1)
  update step_batching_rows set n = n + 1 where id = $3 and exists (select 1 from handled)`
const STEPS = `with handled as (
    insert into step_batching_inbox (consumer, event_id)
    select 'bench', unnest($1::uuid[]) on conflict do nothing returning event_id),
  steps as (select unnest($1::uuid[]) as event_id, unnest($2::int[]) as id)
  update step_batching_rows r set n = r.n + 1
  from steps s join handled h using (event_id) where r.id = s.id`

/** postgresCpuSeconds sums user + system time of every process named postgres on this machine. */
function postgresCpuSeconds(): number {
  let total = 0
  for (const pid of readdirSync('/proc').filter((name) => /^\d+$/.test(name))) {
    try {
      if (!readFileSync(`/proc/${pid}/cmdline`, 'utf8').startsWith('postgres')) continue
      const fields = (readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1] ?? '').split(' ')
      total += (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS
    } catch {
      // The process ended meanwhile.
    }
  }
  return total
}

async function run(mode: Mode): Promise<void> {
  const clients = await Promise.all(
    Array.from({ length: CLIENTS }, async () => {
      const client = new pg.Client({ connectionString: url })
      await client.connect()
      return client
    }),
  )
  let steps = 0
  let next = 0
  const row = () => 1 + (next++ % ROWS)
  const step = (client: pg.Client) =>
    client.query({ name: 'step', text: STEP, values: ['bench', randomUUID(), row()] })
  const endAt = Date.now() + SECONDS * 1000
  const cpuBefore = postgresCpuSeconds()
  const startedAt = Date.now()
  await Promise.all(
    clients.map(async (client) => {
      while (Date.now() < endAt) {
        if (mode === 'alone') {
          await step(client)
          steps++
        } else if (mode === 'one transaction') {
          await client.query('begin')
          for (let i = 0; i < BATCH; i++) await step(client)
          await client.query('commit')
          steps += BATCH
        } else {
          const ids = Array.from({ length: BATCH }, () => randomUUID())
          const rows = ids.map(() => row())
          await client.query({ name: 'steps', text: STEPS, values: [ids, rows] })
          steps += BATCH
        }
      }
    }),
  )
  const seconds = (Date.now() - startedAt) / 1000
  const cpu = postgresCpuSeconds() - cpuBefore
  await Promise.all(clients.map((client) => client.end()))
  const size = mode === 'alone' ? 1 : BATCH
  console.log(
    `${mode.padEnd(16)} ${String(size).padStart(3)} per commit: ` +
      `${Math.round(steps / seconds)} steps/s, Postgres CPU ${Math.round((cpu * 1e6) / steps)} µs per step`,
  )
}

const admin = new pg.Client({ connectionString: url })
await admin.connect()
try {
  await admin.query('drop table if exists step_batching_inbox, step_batching_rows')
  await admin.query(`create table step_batching_inbox (consumer text, event_id uuid,
    handled_at timestamptz not null default now(), primary key (consumer, event_id))`)
  await admin.query(`create table step_batching_rows (id int primary key, n bigint not null)`)
  await admin.query(`insert into step_batching_rows select g, 0 from generate_series(1, ${ROWS}) g`)
  for (const mode of [
    'alone',
    'one transaction',
    'one statement',
    'alone',
    'one transaction',
    'one statement',
  ] as const) {
    await run(mode)
  }
} finally {
  await admin.query('drop table if exists step_batching_inbox, step_batching_rows')
  await admin.end()
}
