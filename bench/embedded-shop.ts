// bench/embedded-shop.ts is the child process the embedded benchmark loads: the shop as `npm start`
// runs it (scripts/all-in-one.ts: every service in one process, PGlite each, the in-process bus),
// on free ports and the DATA_DIR its parent gives. It sends its ports to the parent once ready
// and closes on SIGTERM. A child of its own, so that the load generator does not share its CPU
// time or its event loop with the shop it measures.
import { startAllInOne } from '../scripts/all-in-one.ts'
import { freePorts } from '../scripts/shop-layout.ts'

const ports = await freePorts()
const shop = await startAllInOne({
  env: process.env,
  dataDir: process.env.DATA_DIR ?? '.data',
  ports,
  gatewayHost: '127.0.0.1',
})
process.send?.({ ports })

let closing = false
process.on('SIGTERM', () => {
  if (closing) return
  closing = true
  shop.close().then(
    () => process.exit(0),
    (error: unknown) => {
      console.error('the embedded shop did not close cleanly:', error)
      process.exit(1)
    },
  )
})
// The parent gone (killed), nothing would stop this process: leave rather than keep ports taken.
process.on('disconnect', () => process.emit('SIGTERM'))
