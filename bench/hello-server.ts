// bench/hello-server.ts is the Fastify hello world the ceilings load; it tells its parent its port.
import Fastify from 'fastify'

const app = Fastify({ logger: false })
app.get('/', async () => ({ hello: 'world' }))
await app.listen({ host: '127.0.0.1', port: 0 })
const address = app.server.address()
process.send?.(typeof address === 'object' && address ? address.port : 0)
process.on('SIGTERM', () => void app.close().then(() => process.exit(0)))
