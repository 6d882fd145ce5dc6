// The end-to-end suite against mode 1 (`npm start`): every service inside this test's process,
// each with its own in-memory PGlite, all on one in-process event broker.
import { startAllInOne } from '../../scripts/all-in-one.ts'
import { freePorts } from '../../scripts/shop-layout.ts'
import { ensureStorefrontBuilt } from '../../scripts/storefront-build.ts'
import { describeShopFlows, SIGN_IN_LIMIT } from './shop-flows.ts'

describeShopFlows('all in one process: PGlite, in-process bus', async () => {
  const ports = await freePorts()
  const shop = await startAllInOne({
    env: {
      LOG_LEVEL: 'silent',
      SEED_DEMO_DATA: 'true',
      // A processing error is retried with this backoff: short, so the cases that wait it out stay fast.
      PROCESSOR_RETRY_BACKOFF_MS: '50,100,200,400',
      AUTH_RATE_LIMIT_MAX: String(SIGN_IN_LIMIT),
    },
    dataDir: 'memory://',
    ports,
    gatewayHost: '127.0.0.1',
    // As `npm start` does: the storefront is built, when missing or stale, while the services start.
    beforeGateway: ensureStorefrontBuilt({ output: 'quiet' }),
  })
  return {
    gatewayUrl: `http://127.0.0.1:${ports.gateway}`,
    stopService: (service) => shop.stop(service),
    close: () => shop.close(),
  }
})
