// bench/ceilings.ts measures what this machine can do at all, in the same run as the shop's
// figures, so that every figure can be read as a fraction of its ceiling: Postgres single-row
// commits, JetStream publish+ack from Node, and Fastify hello-world requests.
import { fork } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { once } from 'node:events'
import autocannon from 'autocannon'
import { jetstream, jetstreamManager } from '@nats-io/jetstream'
import { connect } from '@nats-io/transport-node'
import pg from 'pg'

export interface Ceilings {
  postgresCommitsPerSecond: number
  jetstreamPublishAcksPerSecond: number
  fastifyHelloRequestsPerSecond: number
}

/**
 * postgresCommitsPerSecond runs `concurrency` clients, each inserting one row per autocommit
 * transaction, for `durationMs`: the most single-row transactions the server commits.
 */
export async function postgresCommitsPerSecond(
  adminUrl: string,
  concurrency: number,
  durationMs: number,
): Promise<number> {
  const table = `bench_ceiling_${randomBytes(4).toString('hex')}`
  const pool = new pg.Pool({ connectionString: adminUrl, max: concurrency })
  await pool.query(
    `create table ${table} (id bigint generated always as identity primary key, payload text not null)`,
  )
  try {
    let commits = 0
    const deadline = performance.now() + durationMs
    const started = performance.now()
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        const client = await pool.connect()
        try {
          while (performance.now() < deadline) {
            await client.query(`insert into ${table} (payload) values ($1)`, ['x'])
            commits++
          }
        } finally {
          client.release()
        }
      }),
    )
    return commits / ((performance.now() - started) / 1000)
  } finally {
    await pool.query(`drop table if exists ${table}`)
    await pool.end()
  }
}

/**
 * jetstreamPublishAcksPerSecond publishes to a file-backed stream with up to `inFlight`
 * unacknowledged publishes at once and counts the acks, as the outbox relay does.
 */
export async function jetstreamPublishAcksPerSecond(
  natsUrl: string,
  inFlight: number,
  durationMs: number,
): Promise<number> {
  const nc = await connect({ servers: natsUrl })
  const name = `BENCH_CEILING_${randomBytes(4).toString('hex').toUpperCase()}`
  const jsm = await jetstreamManager(nc)
  await jsm.streams.add({ name, subjects: [`${name.toLowerCase()}.>`], max_bytes: 256 * 1024 ** 2 })
  try {
    const js = jetstream(nc)
    const payload = new TextEncoder().encode(
      JSON.stringify({ id: randomBytes(16).toString('hex'), data: 'x'.repeat(300) }),
    )
    let acks = 0
    let sequence = 0
    const deadline = performance.now() + durationMs
    const started = performance.now()
    await Promise.all(
      Array.from({ length: inFlight }, async () => {
        while (performance.now() < deadline) {
          await js.publish(`${name.toLowerCase()}.event`, payload, { msgID: `m${sequence++}` })
          acks++
        }
      }),
    )
    return acks / ((performance.now() - started) / 1000)
  } finally {
    await jsm.streams.delete(name)
    await nc.drain()
  }
}

/**
 * fastifyHelloRequestsPerSecond serves `{"hello":"world"}` from Fastify in a child process and
 * loads it with autocannon from this one, as the benchmark loads the gateway.
 */
export async function fastifyHelloRequestsPerSecond(
  connections: number,
  durationSeconds: number,
): Promise<number> {
  const server = fork(new URL('./hello-server.ts', import.meta.url), [], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  })
  try {
    const [port] = (await once(server, 'message')) as [number]
    const result = await autocannon({
      url: `http://127.0.0.1:${port}/`,
      connections,
      duration: durationSeconds,
    })
    return result.requests.average
  } finally {
    server.kill('SIGTERM')
  }
}
