// bench/bench-nats.ts gives the benchmark its NATS JetStream. By default a server of its own: the
// machine's nats-server binary on a free port with a throwaway store, so the run's streams have
// the production names, no one else's streams or clients share the server, and its CPU time is
// the shop's alone. With --nats-url it uses that server instead, under a namespace of its own.
import { randomBytes } from 'node:crypto'
import {
  deleteStreamsOf,
  NATS_SERVER_BINARY,
  natsServerAvailable,
  startOwnNatsServer,
} from '@microshop/platform/testing/nats-server'
import {
  childPidRunning,
  fixedProcess,
  natsServerProcesses,
  type ProcessGroup,
} from './process-stats.ts'

export interface BenchNats {
  url: string
  /** namespace prefixes the run's streams and subjects; empty on a server of its own. */
  namespace: string
  /** processes are the server's, for its CPU time. */
  processes: ProcessGroup
  description: string
  /** close stops the server of its own, or removes the namespace's streams from the shared one. */
  close(): Promise<void>
}

export async function ownNatsServer(): Promise<BenchNats> {
  if (!natsServerAvailable) {
    throw new Error(
      `${NATS_SERVER_BINARY} is missing: install nats-server (or set NATS_SERVER_BINARY), or pass --nats-url`,
    )
  }
  // One Go thread, as compose and the chart run NATS (GOMAXPROCS from a CPU limit of 1).
  const server = await startOwnNatsServer({ env: { GOMAXPROCS: '1' } })
  const pid = childPidRunning(process.pid, NATS_SERVER_BINARY)
  if (pid === undefined) {
    await server.dispose()
    throw new Error('started nats-server, but could not find its process')
  }
  return {
    url: server.url,
    namespace: '',
    processes: fixedProcess('nats-server', pid),
    description: `its own nats-server (${NATS_SERVER_BINARY}, JetStream, file store, GOMAXPROCS=1) at ${server.url}`,
    close: () => server.dispose(),
  }
}

export function sharedNatsServer(url: string): BenchNats {
  const namespace = `bench_${randomBytes(4).toString('hex')}`
  return {
    url,
    namespace,
    processes: natsServerProcesses(),
    description: `the NATS at ${url}, namespace ${namespace} (CPU: every nats-server process on this machine)`,
    close: () => deleteStreamsOf(url, namespace),
  }
}
