// bench/shop-setup.ts prepares a fresh shop for measuring, through the gateway like any client:
// products with stock for the whole run (so no order is rejected for stock, and orders spread
// over many rows instead of queueing on one), and a pool of signed-in shoppers.
import { randomBytes } from 'node:crypto'
import type { Pool } from 'undici'
import type { Shopper } from './checkout-load.ts'
import { BENCH_ADMIN } from './shop-under-bench.ts'

// BENCH_STOCK is far more than any run can sell: the catalog's upper bound for stock on hand.
const BENCH_STOCK = 1_000_000_000

async function callJson<T>(
  pool: Pool,
  method: 'GET' | 'POST',
  path: string,
  expectedStatus: number,
  options: { token?: string; body?: unknown } = {},
): Promise<T> {
  const response = await pool.request({
    path,
    method,
    headers: {
      ...(options.body === undefined ? {} : { 'content-type': 'application/json' }),
      ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
    },
    ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
  })
  const text = await response.body.text()
  if (response.statusCode !== expectedStatus) {
    throw new Error(
      `${method} ${path}: expected ${expectedStatus}, got ${response.statusCode} ${text}`,
    )
  }
  return JSON.parse(text) as T
}

async function logIn(pool: Pool, email: string, password: string): Promise<string> {
  const tokens = await callJson<{ accessToken: string }>(pool, 'POST', '/api/auth/login', 200, {
    body: { email, password },
  })
  return tokens.accessToken
}

/** createBenchProducts adds `count` products with stock for any run, as the admin; it returns their ids. */
export async function createBenchProducts(pool: Pool, count: number): Promise<string[]> {
  const token = await logIn(pool, BENCH_ADMIN.email, BENCH_ADMIN.password)
  const run = randomBytes(3).toString('hex')
  const ids: string[] = []
  for (let index = 0; index < count; index++) {
    const product = await callJson<{ id: string }>(pool, 'POST', '/api/products', 201, {
      token,
      body: {
        sku: `BENCH-${run}-${index}`,
        name: `Benchmark item ${index}`,
        description: 'Made by npm run bench.',
        price: { amount: 1_000 + index, currency: 'USD' },
        stock: BENCH_STOCK,
      },
    })
    ids.push(product.id)
  }
  return ids
}

/**
 * signUpShoppers registers and signs in `count` shoppers, `concurrency` at a time: password
 * hashing is deliberately slow (argon2), and more at once than there are cores only queues.
 */
export async function signUpShoppers(
  pool: Pool,
  count: number,
  concurrency: number,
): Promise<Shopper[]> {
  const run = randomBytes(3).toString('hex')
  const shoppers: Shopper[] = []
  let next = 0
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) {
        const index = next++
        const email = `bench-${run}-${index}@example.com`
        const password = `bench-password-${run}-${index}`
        await callJson(pool, 'POST', '/api/auth/register', 201, {
          body: { email, password, name: `Bench shopper ${index}` },
        })
        shoppers.push({ token: await logIn(pool, email, password) })
      }
    }),
  )
  return shoppers
}

/** readPaths are the paths of the read load: the product list and some products' pages. */
export async function readPaths(pool: Pool): Promise<string[]> {
  const page = await callJson<{ items: { id: string }[] }>(
    pool,
    'GET',
    '/api/products?limit=20',
    200,
  )
  // Half lists, half product pages, interleaved: autocannon walks the paths in order.
  return page.items
    .slice(0, 10)
    .flatMap((product) => ['/api/products?limit=20', `/api/products/${product.id}`])
}
