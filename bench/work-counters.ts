// bench/work-counters.ts counts the work a checkout causes underneath the shop: Postgres
// transactions committed in the run's databases, and events stored in the run's JetStream
// streams. Divided by confirmed checkouts they say how much each costs, and so where the CPU goes.
import { jetstreamManager } from '@nats-io/jetstream'
import { connect, type NatsConnection } from '@nats-io/transport-node'
import pg from 'pg'

export interface WorkCounts {
  /** postgresCommits per database. */
  postgresCommits: Record<string, number>
  streamMessages: number
}

export interface WorkCounters {
  read(): Promise<WorkCounts>
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
  let nc: NatsConnection
  try {
    nc = await connect({ servers: nats.url, name: 'bench-counters' })
  } catch (error) {
    await client.end()
    throw error
  }
  const jsm = await jetstreamManager(nc)
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
      return { postgresCommits, streamMessages }
    },
    async close() {
      await client.end()
      await nc.close()
    },
  }
}
