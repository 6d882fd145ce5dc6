// The end-to-end suite against mode 2 (`npm run start:services`): every service its own Node
// process (from the TypeScript sources, so the code under test is the code in the tree), each on
// its own fresh database and role on the real Postgres. Events go through a nats-server of the
// run's own (a free port, a throwaway store, the production stream names), or, where the binary
// is missing, through the shared NATS (TEST_NATS_URL, default 127.0.0.1:4222) under a namespace of
// the run's own. Databases, roles and streams are removed afterwards, also when a case fails.
import { randomBytes } from 'node:crypto'
import { adminUrl } from '@microshop/platform/testing/databases'
import {
  deleteStreamsOf,
  natsServerAvailable,
  sharedNatsUrl,
  startOwnNatsServer,
} from '@microshop/platform/testing/nats-server'
import { createServiceDatabases, dropServiceDatabases } from '../../scripts/service-databases.ts'
import { startServiceProcesses } from '../../scripts/service-processes.ts'
import { backendServices, freePorts } from '../../scripts/shop-layout.ts'
import { ensureStorefrontBuilt } from '../../scripts/storefront-build.ts'
import { describeShopFlows, SIGN_IN_LIMIT } from './shop-flows.ts'

interface RunNats {
  url: string
  namespace: string
  dispose(): Promise<void>
}

async function natsForRun(run: string): Promise<RunNats> {
  if (natsServerAvailable) {
    const server = await startOwnNatsServer()
    return { url: server.url, namespace: '', dispose: () => server.dispose() }
  }
  return {
    url: sharedNatsUrl,
    namespace: run,
    dispose: () => deleteStreamsOf(sharedNatsUrl, run),
  }
}

describeShopFlows('separate processes: Postgres, NATS JetStream', async () => {
  const run = `e2e_${randomBytes(4).toString('hex')}`
  const nats = await natsForRun(run)
  const prefix = `${run}_`
  const cleanUp = async () => {
    await dropServiceDatabases({ adminUrl, prefix })
    await nats.dispose()
  }
  try {
    // As `npm run start:services` does: the gateway's process serves services/web/dist.
    const [databaseUrls] = await Promise.all([
      createServiceDatabases({ adminUrl, prefix }),
      ensureStorefrontBuilt({ output: 'quiet' }),
    ])
    const processes = await startServiceProcesses({
      ports: await freePorts(),
      databaseUrls,
      natsUrl: nats.url,
      natsNamespace: nats.namespace,
      env: {
        PATH: process.env.PATH,
        LOG_LEVEL: 'warn',
        SEED_DEMO_DATA: 'true',
        // A processing error is retried with this backoff: short, so the cases that wait it out stay fast.
        PROCESSOR_RETRY_BACKOFF_MS: '50,100,200,400',
      },
      serviceEnv: { gateway: { AUTH_RATE_LIMIT_MAX: String(SIGN_IN_LIMIT) } },
      runtime: 'source',
      output: 'capture',
    })
    return {
      gatewayUrl: processes.urls.gateway,
      stopService: (service) => processes.stop(service),
      recentOutput: () =>
        (['gateway', ...backendServices] as const)
          .map(
            (service) =>
              `--- ${service}\n${processes.output(service).split('\n').slice(-15).join('\n')}`,
          )
          .join('\n'),
      close: async () => {
        await processes.close()
        await cleanUp()
      },
    }
  } catch (error) {
    await cleanUp()
    throw error
  }
})
