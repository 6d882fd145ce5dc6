// drills/lib/tcp-proxy.ts: a TCP proxy between one service and its NATS server, so a drill can
// cut that service off the network (every connection dropped, new ones refused at once) while
// the server and every other service carry on, then let it back.
import { createServer, connect, type Server, type Socket } from 'node:net'

/** TcpProxy forwards 127.0.0.1:port to a target port until it is cut. */
export interface TcpProxy {
  port: number
  url: string
  /** cut drops every open connection and refuses new ones until restore. */
  cut(): void
  restore(): void
  close(): Promise<void>
}

/** startTcpProxy listens on a free port and forwards each connection to `targetPort`. */
export async function startTcpProxy(targetPort: number, scheme = 'nats'): Promise<TcpProxy> {
  const open = new Set<Socket>()
  let cut = false
  const server: Server = createServer((client) => {
    if (cut) {
      client.destroy()
      return
    }
    // The target may be down (a NATS restart): the client sees its connection drop and retries.
    const upstream = connect(targetPort, '127.0.0.1')
    open.add(client)
    open.add(upstream)
    const drop = () => {
      client.destroy()
      upstream.destroy()
      open.delete(client)
      open.delete(upstream)
    }
    client.on('error', drop).on('close', drop)
    upstream.on('error', drop).on('close', drop)
    client.pipe(upstream)
    upstream.pipe(client)
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => resolve())
  })
  const address = server.address()
  const port = typeof address === 'object' && address ? address.port : 0
  const dropAll = () => {
    for (const socket of open) socket.destroy()
    open.clear()
  }
  return {
    port,
    url: `${scheme}://127.0.0.1:${port}`,
    cut() {
      cut = true
      dropAll()
    },
    restore() {
      cut = false
    },
    close: () =>
      new Promise<void>((resolve) => {
        dropAll()
        server.close(() => resolve())
      }),
  }
}
