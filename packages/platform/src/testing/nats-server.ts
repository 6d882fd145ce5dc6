import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { createServer, connect as connectTcp } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { connect } from '@nats-io/transport-node'
import { jetstreamManager } from '@nats-io/jetstream'

/** sharedNatsUrl is the NATS the suites run beside (the machine's own, or TEST_NATS_URL). */
export const sharedNatsUrl = process.env.TEST_NATS_URL ?? 'nats://127.0.0.1:4222'

export const NATS_SERVER_BINARY = process.env.NATS_SERVER_BINARY ?? '/usr/sbin/nats-server'

/** natsServerAvailable tells whether tests can start a NATS server of their own. */
export const natsServerAvailable = existsSync(NATS_SERVER_BINARY)

/**
 * OwnNatsServer is a nats-server a test starts on a free port with a throwaway store, so it can
 * stop (even kill) and restart it without touching the shared one.
 */
export interface OwnNatsServer {
  url: string
  /** stop ends the process: SIGKILL by default, like a crash. */
  stop(signal?: NodeJS.Signals): Promise<void>
  /** start runs it again on the same port and store. */
  start(): Promise<void>
  dispose(): Promise<void>
}

export async function startOwnNatsServer(
  options: { env?: Record<string, string> } = {},
): Promise<OwnNatsServer> {
  const port = await freePort()
  const storeDir = await mkdtemp(join(tmpdir(), 'nats-test-'))
  let child: ChildProcess | undefined
  const server: OwnNatsServer = {
    url: `nats://127.0.0.1:${port}`,
    async start() {
      child = spawn(
        NATS_SERVER_BINARY,
        ['-a', '127.0.0.1', '-p', String(port), '-js', '-sd', storeDir],
        { stdio: 'ignore', env: { ...process.env, ...options.env } },
      )
      await waitForPort(port)
    },
    async stop(signal = 'SIGKILL') {
      const running = child
      child = undefined
      if (!running || running.exitCode !== null) return
      const exited = new Promise((resolve) => running.once('exit', resolve))
      running.kill(signal)
      await exited
    },
    async dispose() {
      await server.stop()
      await rm(storeDir, { recursive: true, force: true })
    },
  }
  await server.start()
  return server
}

/** deleteStreamsOf removes every stream of a test namespace from a server. */
export async function deleteStreamsOf(url: string, namespace: string): Promise<void> {
  const nc = await connect({ servers: url })
  try {
    const jsm = await jetstreamManager(nc)
    const prefix = `${namespace.toUpperCase()}_`
    for await (const name of jsm.streams.names()) {
      if (name.startsWith(prefix)) await jsm.streams.delete(name)
    }
  } finally {
    await nc.close()
  }
}

/** freePort asks the kernel for a port nobody listens on. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer()
    probe.once('error', reject)
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address()
      probe.close(() => resolve(typeof address === 'object' && address ? address.port : 0))
    })
  })
}

async function waitForPort(port: number, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    const open = await new Promise<boolean>((resolve) => {
      const socket = connectTcp(port, '127.0.0.1')
      socket.once('connect', () => {
        socket.destroy()
        resolve(true)
      })
      socket.once('error', () => {
        socket.destroy()
        resolve(false)
      })
    }).catch(() => false)
    if (open) return
    await sleep(25)
  }
  throw new Error(`nats-server did not listen on ${port} within ${timeoutMs} ms`)
}
