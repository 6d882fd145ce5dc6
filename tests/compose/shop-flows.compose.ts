// The end-to-end suite against mode 3 (`docker compose up`): the images and compose.yaml as a user
// runs them. It does not start the shop: `npm run test:compose` brings the compose project up first
// and names it in COMPOSE_PROJECT_NAME (unset: compose's own default, the `microshop` project).
// The suite stops a service and spends the gateway's sign-in budget, so close() brings the project
// back to how compose.yaml describes it.
import { composeProject } from '../../scripts/compose-project.ts'
import { describeShopFlows, SIGN_IN_LIMIT } from '../e2e/shop-flows.ts'

const project = composeProject()

describeShopFlows('docker compose: the images, Postgres, NATS JetStream', async () => {
  // Like the other run modes, the gateway gets the suite's sign-in limit; `up` recreates only it.
  await project.compose(['up', '-d', '--wait', 'gateway'], {
    env: { AUTH_RATE_LIMIT_MAX: String(SIGN_IN_LIMIT) },
    timeoutMs: 240_000,
  })
  return {
    gatewayUrl: await project.publishedUrl('gateway', 8080),
    stopService: async (service) => {
      await project.compose(['stop', service])
    },
    close: async () => {
      await project.compose(['up', '-d', '--wait'], { timeoutMs: 240_000 })
    },
  }
})
