// restart-drill.compose.ts: the shop in Docker keeps the spec's invariants when its containers
// restart. Orders restarts (`docker compose restart orders`) in the middle of a batch of
// checkouts; then each other service restarts alone. Like shop-flows.compose.ts, it runs against
// the compose project that `npm run test:compose` brought up.
import { setTimeout as sleep } from 'node:timers/promises'
import { beforeAll, describe, expect, it } from 'vitest'
import { composeProject } from '../../scripts/compose-project.ts'
import { shopClient, terminalStatuses, type Order, type Product } from './shop-client.ts'

const project = composeProject()
let shop: ReturnType<typeof shopClient>

beforeAll(async () => {
  shop = shopClient(await project.publishedUrl('gateway', 8080))
})

/**
 * batch: a checkout starts every `paceMs`. Orders restarts when checkout `restartAt` starts: the
 * last ones before it are still settling when it stops, the next ones meet it down or starting,
 * and those from `afterRestartAt` on wait for the restart to end, so that some come after it
 * whatever the machine's speed.
 */
const batch = { orders: 40, paceMs: 150, restartAt: 15, afterRestartAt: 30, settleWithinMs: 60_000 }

describe('when orders restarts in the middle of a batch of checkouts', () => {
  let token: string
  let products: Product[]
  const placed: { id: string; productId: string; card: string }[] = []
  const stockBefore = new Map<string, number>()
  let settled: Order[] = []

  beforeAll(async () => {
    ;({ token } = await shop.signUp())
    products = (await shop.listProducts())
      .filter((product) => product.stock.available >= batch.orders)
      .slice(0, 4)
    expect(products.length).toBeGreaterThanOrEqual(2)
    for (const product of products) stockBefore.set(product.id, product.stock.available)

    const started = performance.now()
    let restart: Promise<void> | undefined
    let retried = 0
    await Promise.all(
      Array.from({ length: batch.orders }, async (_, index) => {
        await sleep(index * batch.paceMs)
        if (index === batch.restartAt) {
          const restartStartedAt = performance.now()
          restart = project.compose(['restart', 'orders']).then(() => {
            const took = Math.round(performance.now() - restartStartedAt)
            console.log(`docker compose restart orders: ${took} ms`)
          })
        }
        if (index >= batch.afterRestartAt) await restart
        // Every fourth card is declined: the batch has both outcomes.
        const line = {
          productId: products[index % products.length]!.id,
          card: index % 4 === 3 ? 'pm_card_chargeDeclined' : 'pm_card_visa',
        }
        const order = {
          items: [{ productId: line.productId, quantity: 1 }],
          paymentMethod: line.card,
        }
        const { id, tries } = await shop.placeOrder(token, order, 60_000)
        placed.push({ id, ...line })
        if (tries > 1) retried += 1
      }),
    )
    await restart
    const placedAt = performance.now()
    console.log(
      `${placed.length} checkouts placed in ${Math.round(placedAt - started)} ms, ` +
        `${retried} of them retried with their key while orders was away`,
    )

    // Orders may still be starting: a failed poll is tried again until the deadline.
    const deadline = Date.now() + batch.settleWithinMs
    for (;;) {
      const orders = await shop.listOrders(token).catch(() => undefined)
      if (orders) {
        const byId = new Map(orders.map((order) => [order.id, order]))
        settled = placed.flatMap(({ id }) => byId.get(id) ?? [])
        const done = settled.filter((order) => terminalStatuses.has(order.status))
        if (done.length === placed.length || Date.now() > deadline) break
      } else if (Date.now() > deadline) break
      await sleep(250)
    }
    console.log(
      `the batch settled ${Math.round(performance.now() - placedAt)} ms after the last checkout`,
    )
  })

  it('then every order reaches a terminal status', () => {
    const pending = settled.filter((order) => !terminalStatuses.has(order.status))
    expect(settled).toHaveLength(batch.orders)
    expect(pending.map((order) => `${order.id} ${order.status}`)).toEqual([])
  })

  it('then each order ends as its card says: visa CONFIRMED, declined REJECTED', () => {
    const cardOf = (order: Order) => placed.find((line) => line.id === order.id)?.card
    const outcome = (order: Order) =>
      order.status === 'REJECTED'
        ? `REJECTED ${order.statusHistory.at(-1)?.reason ?? 'without a reason'}`
        : order.status
    const expected = (order: Order) =>
      cardOf(order) === 'pm_card_visa' ? 'CONFIRMED' : 'REJECTED payment_declined'
    expect(settled.map((order) => `${order.id} ${outcome(order)}`)).toEqual(
      settled.map((order) => `${order.id} ${expected(order)}`),
    )
  })

  it('then no Idempotency-Key made two orders', async () => {
    expect(await shop.listOrders(token)).toHaveLength(batch.orders)
  })

  it('then stock moved by exactly the confirmed quantities', async () => {
    const expected = new Map(stockBefore)
    for (const line of placed) {
      if (settled.find((order) => order.id === line.id)?.status === 'CONFIRMED') {
        expected.set(line.productId, expected.get(line.productId)! - 1)
      }
    }
    // A rejected order's reservation is released after its REJECTED status: give it a moment.
    const deadline = Date.now() + 10_000
    let now = new Map<string, number>()
    do {
      now = new Map(
        (await shop.listProducts()).map((product) => [product.id, product.stock.available]),
      )
      if ([...expected].every(([id, available]) => now.get(id) === available)) break
      await sleep(250)
    } while (Date.now() < deadline)
    expect(Object.fromEntries([...expected].map(([id]) => [id, now.get(id)]))).toEqual(
      Object.fromEntries(expected),
    )
  })

  it('then each confirmed order has one succeeded payment for its total, the others none', async () => {
    for (const order of settled) {
      const succeeded = (await shop.paymentsOf(token, order.id)).filter(
        (payment) => payment.status === 'SUCCEEDED',
      )
      const expected = order.status === 'CONFIRMED' ? [order.total] : []
      expect({ order: order.id, charged: succeeded.map((payment) => payment.amount) }).toEqual({
        order: order.id,
        charged: expected,
      })
    }
  })
})

describe('when each other service restarts alone', () => {
  const services = ['users', 'catalog', 'payments', 'gateway']
  let token: string

  beforeAll(async () => {
    ;({ token } = await shop.signUp())
  })

  it('then each is healthy again', async () => {
    const readyMs: Record<string, number | undefined> = {}
    for (const service of services) {
      await project.compose(['restart', service])
      await project.waitUntilHealthy(service, 60_000)
      readyMs[service] = await project.readyMs(service)
    }
    console.log(`ready after a restart, from container start: ${JSON.stringify(readyMs)} (ms)`)
  }, 300_000)

  it('then a token issued before users restarted still works: its signing key was kept', async () => {
    expect((await shop.call('GET', '/api/users/me', { token })).status).toBe(200)
  })
})
