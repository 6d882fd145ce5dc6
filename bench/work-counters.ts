// bench/work-counters.ts counts the work a checkout causes underneath the shop: Postgres
// transactions committed in the run's databases (and, exactly, the server's write transactions),
// and events stored in the run's JetStream streams. Divided by confirmed checkouts they say how
// much each costs, and so where the CPU goes.
// Where the Postgres has pg_stat_statements loaded, each statement's calls, execution time and
// WAL records too: which statement of which service a checkout spends its database time on.
import { jetstreamManager } from '@nats-io/jetstream'
import { connect, type NatsConnection } from '@nats-io/transport-node'
import pg from 'pg'

export interface WorkCounts {
  /** postgresCommits per database. */
  postgresCommits: Record<string, number>
  streamMessages: number
  /**
   * processorWrites are the rows the built-in simulated card processor wrote in payments'
   * database: each is a transaction of its own, a stand-in for work a real processor does on its
   * side, so it is told apart from the shop's commits.
   */
  processorWrites: number
  /**
   * transactionIds is the next transaction id of the whole Postgres server: exact, unlike the
   * statistics, which backends publish up to a second late (or ten, once idle). Only a
   * transaction that writes takes one, so its difference counts write transactions, the ones that
   * flush a commit to the WAL, in every database the server holds.
   */
  transactionIds: number
  /** statements by pg_stat_statements entry, when the server has it loaded (else undefined). */
  statements?: Map<string, StatementCounts> | undefined
}

/** StatementCounts are one pg_stat_statements entry's totals in one of the run's databases. */
export interface StatementCounts {
  database: string
  /** query is the normalised statement text, its whitespace folded, cut at 160 characters. */
  query: string
  calls: number
  execMs: number
  walRecords: number
}

export interface WorkCounters {
  read(): Promise<WorkCounts>
  /** statementsReadable says whether the server has pg_stat_statements to read. */
  statementsReadable: boolean
  close(): Promise<void>
}

/**
 * openWorkCounters reads pg_stat_database for `databases` and the stream states of a NATS
 * namespace. Postgres publishes its counters with a delay of up to about a second, small beside
 * a measured step.
 */
export async function openWorkCounters(
  adminUrl: string,
  databases: readonly string[],
  nats: { url: string; namespace: string },
): Promise<WorkCounters> {
  const client = new pg.Client({ connectionString: adminUrl })
  await client.connect()
  // Table statistics are per database: the processor's are read in payments' own.
  const paymentsDatabase = databases.find((name) => name.endsWith('payments'))
  const paymentsUrl = new URL(adminUrl)
  paymentsUrl.pathname = `/${paymentsDatabase ?? ''}`
  const payments = paymentsDatabase
    ? new pg.Client({ connectionString: paymentsUrl.toString() })
    : undefined
  try {
    await payments?.connect()
  } catch (error) {
    await client.end()
    throw error
  }
  let nc: NatsConnection
  try {
    nc = await connect({ servers: nats.url, name: 'bench-counters' })
  } catch (error) {
    await client.end()
    await payments?.end()
    throw error
  }
  const jsm = await jetstreamManager(nc)
  // The view exists where the extension is created; it reads only where the library is preloaded.
  const statementsReadable = await client.query('select 1 from pg_stat_statements limit 1').then(
    () => true,
    () => false,
  )
  // A namespace's streams are named <NAMESPACE>_<PRODUCER>; without one, every stream is the run's.
  const streamPrefix = nats.namespace ? `${nats.namespace.toUpperCase()}_` : ''
  return {
    async read() {
      // A fresh snapshot: otherwise a transaction sees the statistics it first read.
      await client.query('select pg_stat_clear_snapshot()')
      const { rows } = await client.query<{ datname: string; commits: string }>(
        'select datname, xact_commit::text as commits from pg_stat_database where datname = any($1)',
        [databases],
      )
      let streamMessages = 0
      for await (const stream of jsm.streams.list()) {
        if (stream.config.name.startsWith(streamPrefix)) streamMessages += stream.state.messages
      }
      const postgresCommits = Object.fromEntries(
        rows.map((row) => [row.datname, Number(row.commits)]),
      )
      return {
        postgresCommits,
        streamMessages,
        processorWrites: payments ? await readProcessorWrites(payments) : 0,
        transactionIds: await readNextTransactionId(client),
        statements: statementsReadable ? await readStatements(client, databases) : undefined,
      }
    },
    statementsReadable,
    async close() {
      await client.end()
      await payments?.end()
      await nc.close()
    },
  }
}

async function readStatements(
  client: pg.Client,
  databases: readonly string[],
): Promise<Map<string, StatementCounts>> {
  const { rows } = await client.query<{
    key: string
    database: string
    query: string
    calls: string
    execMs: number
    walRecords: string
  }>(
    `select s.dbid || ':' || s.userid || ':' || s.queryid || ':' || s.toplevel as key,
            d.datname as database, left(regexp_replace(s.query, '\\s+', ' ', 'g'), 160) as query,
            s.calls::text as calls, s.total_exec_time as "execMs", s.wal_records::text as "walRecords"
     from pg_stat_statements s join pg_database d on d.oid = s.dbid
     where d.datname = any($1)`,
    [databases],
  )
  return new Map(
    rows.map((row) => [
      row.key,
      {
        database: row.database,
        query: row.query,
        calls: Number(row.calls),
        execMs: row.execMs,
        walRecords: Number(row.walRecords),
      },
    ]),
  )
}

// The processor's rows, counted: exact at any moment, as the transaction ids they are set against.
async function readProcessorWrites(payments: pg.Client): Promise<number> {
  const { rows } = await payments.query<{ written: string }>(
    `select ((select count(*) from simulated_processor_charges)
           + (select count(*) from simulated_processor_refunds))::text as written`,
  )
  return Number(rows[0]?.written ?? 0)
}

async function readNextTransactionId(client: pg.Client): Promise<number> {
  const { rows } = await client.query<{ next: string }>(
    'select pg_snapshot_xmax(pg_current_snapshot())::text as next',
  )
  return Number(rows[0]?.next ?? 0)
}
