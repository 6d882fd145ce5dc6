// The storefront in a real browser against the real shop: every service in this process (PGlite
// in memory, the in-process bus) behind the real gateway, which serves the storefront's build.
// Each case is a person (a browser context of its own) doing what a shopper or the admin does.
import { randomUUID } from 'node:crypto'
import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startAllInOne, type AllInOne } from '../../scripts/all-in-one.ts'
import { freePorts, waitUntilReady } from '../../scripts/shop-layout.ts'
import { ensureStorefrontBuilt } from '../../scripts/storefront-build.ts'
import {
  expectAccessible,
  launchChromium,
  newShopper,
  noHorizontalScroll,
  screenshot,
  tabTo,
  waitUntil,
  type Shopper,
} from './browser.ts'

const ADMIN = { email: 'admin@storefront.test', password: 'storefront admin password' }
/** ACCESS_TOKEN_TTL_SECONDS is the users service's shortest: every case outlives a token or two. */
const ACCESS_TOKEN_TTL_SECONDS = 30
const SETTLE_TIMEOUT_MS = 20_000
const CASE_TIMEOUT_MS = 120_000

interface Product {
  id: string
  sku: string
  name: string
  price: { amount: number; currency: string }
  stock: { available: number }
}

describe('the storefront in Chromium, against the shop in one process', () => {
  let shop: AllInOne | undefined
  let browser: Browser | undefined
  let baseUrl: string
  const shoppers: Shopper[] = []
  /** sleeper signs up first and sits idle while the other cases run, for the session case. */
  let sleeper: Shopper | undefined
  /** sleeperGrants are the access tokens the sleeper's page was given, when, and for how long. */
  const sleeperGrants: { at: number; expiresIn: number }[] = []

  /** api calls the shop's public API directly, as the tests' own client. */
  async function api<T>(
    method: string,
    path: string,
    options: { token?: string; body?: unknown } = {},
  ): Promise<{ status: number; body: T }> {
    const response = await fetch(`${baseUrl}${path}`, {
      method,
      headers: {
        ...(options.body === undefined ? {} : { 'content-type': 'application/json' }),
        ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
      },
      ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
      signal: AbortSignal.timeout(10_000),
    })
    const text = await response.text()
    return { status: response.status, body: (text ? JSON.parse(text) : undefined) as T }
  }

  async function tokenOf(credentials: { email: string; password: string }): Promise<string> {
    const { status, body } = await api<{ accessToken: string }>('POST', '/api/auth/login', {
      body: credentials,
    })
    expect(status).toBe(200)
    return body.accessToken
  }

  async function productBySku(sku: string): Promise<Product> {
    const { body } = await api<{ items: Product[] }>('GET', `/api/products?q=${sku}&limit=5`)
    const product = body.items.find((item) => item.sku === sku)
    if (!product) throw new Error(`no product ${sku}`)
    return product
  }

  async function createProduct(stock: number, priceAmount = 2_500): Promise<Product> {
    const sku = `T-${randomUUID().slice(0, 8)}`
    const { status, body } = await api<Product>('POST', '/api/products', {
      token: await tokenOf(ADMIN),
      body: {
        sku,
        name: `Test lamp ${sku}`,
        description: 'A lamp made for one test.',
        price: { amount: priceAmount, currency: 'USD' },
        stock,
      },
    })
    expect(status).toBe(201)
    return body
  }

  async function shopper(viewport?: { width: number; height: number }): Promise<Shopper> {
    if (!browser) throw new Error('no browser')
    const person = await newShopper(browser, baseUrl, viewport)
    shoppers.push(person)
    return person
  }

  /** signUp opens an account through the sign-up page and ends signed in, where it began. */
  async function signUp(page: Page): Promise<{ email: string; password: string }> {
    const credentials = {
      email: `shopper-${randomUUID()}@example.com`,
      password: 'correct horse battery',
    }
    if (!page.url().includes('/sign-up')) await page.goto('/sign-up')
    await page.getByLabel('Name').fill('Ada Shopper')
    await page.getByLabel('Email').fill(credentials.email)
    await page.getByLabel('Password').fill(credentials.password)
    await page.getByRole('button', { name: 'Create account' }).click()
    await page.getByRole('button', { name: 'Sign out' }).waitFor()
    return credentials
  }

  /** addToCart adds a product from its page, in a quantity. */
  async function addToCart(page: Page, product: Product, quantity = 1) {
    await page.goto(`/products/${product.id}`)
    await page.getByRole('heading', { name: product.name }).waitFor()
    await page.getByLabel('Quantity').fill(String(quantity))
    await page.getByRole('button', { name: 'Add to cart' }).click()
    await page.getByText(`Added ${quantity} to your cart.`).waitFor()
  }

  /** checkOut places the cart's order with a test card and waits for the order page. */
  async function checkOut(page: Page, card: string): Promise<string> {
    await page.goto('/checkout')
    await page.getByRole('heading', { name: 'Checkout' }).waitFor()
    await page.getByRole('radio', { name: card }).check()
    await page.getByRole('button', { name: 'Place order' }).click()
    await page.waitForURL(/\/orders\/[0-9a-f-]{36}$/)
    return page.url().split('/').at(-1) ?? ''
  }

  async function statusShown(page: Page, status: string) {
    await page
      .getByRole('status')
      .filter({ hasText: `Status: ${status}` })
      .waitFor({ timeout: SETTLE_TIMEOUT_MS })
  }

  beforeAll(async () => {
    const ports = await freePorts()
    baseUrl = `http://127.0.0.1:${ports.gateway}`
    shop = await startAllInOne({
      env: {
        LOG_LEVEL: 'silent',
        SEED_DEMO_DATA: 'true',
        ADMIN_EMAIL: ADMIN.email,
        ADMIN_PASSWORD: ADMIN.password,
        ACCESS_TOKEN_TTL_SECONDS: String(ACCESS_TOKEN_TTL_SECONDS),
        AUTH_RATE_LIMIT_MAX: '1000',
        RATE_LIMIT_MAX: '100000',
        PROCESSOR_RETRY_BACKOFF_MS: '50,100,200,400',
      },
      dataDir: 'memory://',
      ports,
      gatewayHost: '127.0.0.1',
      beforeGateway: ensureStorefrontBuilt({ output: 'quiet' }),
    })
    await waitUntilReady(baseUrl, 30_000)
    browser = await launchChromium()
    sleeper = await shopper()
    sleeper.page.on('response', (response) => {
      if (!response.url().includes('/api/auth/session') || response.status() !== 200) return
      const at = Date.now()
      void response.json().then(
        (body: { expiresIn: number }) => sleeperGrants.push({ at, expiresIn: body.expiresIn }),
        () => undefined,
      )
    })
    await signUp(sleeper.page)
    await waitUntil(
      'the sign-in grant',
      async () => sleeperGrants.length,
      (n) => n === 1,
    )
  }, 180_000)

  afterAll(async () => {
    for (const person of shoppers) {
      expect(person.cspErrors, 'Content Security Policy errors').toEqual([])
    }
    await browser?.close()
    await shop?.close()
  }, 60_000)

  it(
    'when a shopper signs up, adds two products and checks out with visa, then the order is shown CONFIRMED',
    async () => {
      const { page } = await shopper()
      await page.goto('/')
      await page.getByRole('heading', { name: 'Products' }).waitFor()
      await expectAccessible(page, 'the catalogue')
      await screenshot(page, 'catalogue', false)

      // Cursor paging: the demo catalogue has more than a page.
      const cards = page.getByRole('list', { name: 'Products' }).getByRole('listitem')
      const firstPage = await waitUntil(
        'the first page',
        () => cards.count(),
        (n) => n > 0,
      )
      await page.getByRole('button', { name: 'More products' }).click()
      await waitUntil(
        'the second page',
        () => cards.count(),
        (n) => n > firstPage,
      )

      // Search.
      await page.getByLabel('Search products').fill('keyboard')
      await page.getByRole('button', { name: 'Search' }).click()
      await page.getByRole('heading', { name: 'Products matching “keyboard”' }).waitFor()
      await page.getByRole('link', { name: 'Split Ergonomic Keyboard' }).click()
      await page.getByRole('heading', { name: 'Split Ergonomic Keyboard' }).waitFor()
      await expectAccessible(page, 'a product page')

      const keyboard = await productBySku('KB-ERGO-01')
      const mouse = await productBySku('MS-VERT-02')
      await page.getByLabel('Quantity').fill('2')
      await page.getByRole('button', { name: 'Add to cart' }).click()
      await page.getByText('Added 2 to your cart.').waitFor()
      await page.goto('/?q=mouse')
      await page.getByRole('button', { name: `Add to cart for ${mouse.name}` }).click()
      await page.getByRole('link', { name: /^Cart 3/ }).click()

      await page.getByRole('heading', { name: 'Your cart' }).waitFor()
      const total = keyboard.price.amount * 2 + mouse.price.amount
      const dollars = (cents: number) =>
        `$${(cents / 100).toLocaleString('en-US', { minimumFractionDigits: 2 })}`
      await page.getByText(dollars(keyboard.price.amount * 2), { exact: true }).waitFor()
      await page.getByText(dollars(total), { exact: true }).waitFor()
      await expectAccessible(page, 'the cart')

      // Checking out needs an account: sign-in, then sign-up, then back to the checkout.
      await page.getByRole('link', { name: 'Check out' }).click()
      await page.getByRole('heading', { name: 'Sign in' }).waitFor()
      await expectAccessible(page, 'the sign-in page')
      await page.getByRole('link', { name: 'Create an account' }).click()
      await page.getByRole('heading', { name: 'Create an account' }).waitFor()
      await expectAccessible(page, 'the sign-up page')
      await signUp(page)
      await page.getByRole('heading', { name: 'Checkout' }).waitFor()
      await expectAccessible(page, 'the checkout')
      await screenshot(page, 'checkout')

      await page.getByRole('radio', { name: 'Visa' }).check()
      await page.getByRole('button', { name: 'Place order' }).click()
      await page.waitForURL(/\/orders\/[0-9a-f-]{36}$/)
      await statusShown(page, 'Confirmed')
      await page.getByText('Thank you: your order is confirmed.').waitFor()
      await page.getByText(`Total ${dollars(total)}`).waitFor()
      await page.getByText('Paid', { exact: true }).waitFor()
      await expectAccessible(page, 'a confirmed order')
      await screenshot(page, 'order-confirmed')

      await page.getByRole('link', { name: 'Cart 0' }).waitFor()
      await page.getByRole('link', { name: 'Orders', exact: true }).click()
      await page.getByRole('heading', { name: 'Your orders' }).waitFor()
      await page.getByRole('list', { name: 'Orders' }).getByText('Confirmed').waitFor()
      await expectAccessible(page, 'the order history')
    },
    CASE_TIMEOUT_MS,
  )

  it(
    'when the card is declined, then the order is REJECTED with the reason in words and the stock is back',
    async () => {
      const product = await createProduct(5)
      const { page } = await shopper()
      await signUp(page)
      await addToCart(page, product, 2)
      await checkOut(page, 'Declined card')
      await statusShown(page, 'Rejected')
      await page.getByText('Your order was rejected: The card was declined.').waitFor()
      await expectAccessible(page, 'a rejected order')
      await screenshot(page, 'order-rejected')
      await waitUntil(
        'the stock released',
        async () => (await productBySku(product.sku)).stock.available,
        (available) => available === 5,
      )
    },
    CASE_TIMEOUT_MS,
  )

  it(
    'when a line asks for more than the stock, then the shopper is told it is out of stock, before and during checkout',
    async () => {
      const product = await createProduct(2)
      const { page } = await shopper()
      await signUp(page)
      await addToCart(page, product, 2)
      await page.getByText('All 2 you can order are in your').waitFor()

      await page.goto('/cart')
      const quantity = page.getByRole('spinbutton', { name: 'Quantity' })
      await quantity.fill('3')
      await quantity.press('Tab')
      await page.getByText('Out of stock in this quantity: only 2 available.').waitFor()
      await page
        .getByRole('alert')
        .getByText(/Some items are out of stock/)
        .waitFor()
      expect(await page.getByRole('link', { name: 'Check out' }).count()).toBe(0)
      await expectAccessible(page, 'a cart beyond the stock')

      // The stock drops while the shopper is at the checkout: the saga rejects the order.
      await quantity.fill('2')
      await quantity.press('Tab')
      await page.getByRole('link', { name: 'Check out' }).click()
      await page.getByRole('button', { name: 'Place order' }).waitFor()
      const changed = await api('PATCH', `/api/products/${product.id}`, {
        token: await tokenOf(ADMIN),
        body: { stock: 1 },
      })
      expect(changed.status).toBe(200)
      await page.getByRole('button', { name: 'Place order' }).click()
      await statusShown(page, 'Rejected')
      await page.getByText('Your order was rejected: Some items are out of stock.').waitFor()

      // An out-of-stock product cannot go into the cart at all.
      const soldOut = await createProduct(0)
      await page.goto(`/products/${soldOut.id}`)
      await page
        .getByText('This product is out of stock and cannot be added to the cart.')
        .waitFor()
      expect(await page.getByRole('button', { name: 'Add to cart' }).count()).toBe(0)
    },
    CASE_TIMEOUT_MS,
  )

  it(
    'when "Place order" is double-clicked, then exactly one order is made',
    async () => {
      const product = await createProduct(10)
      const { page } = await shopper()
      const credentials = await signUp(page)
      await addToCart(page, product, 1)
      await page.goto('/checkout')
      await page.getByRole('button', { name: 'Place order' }).dblclick()
      await page.waitForURL(/\/orders\/[0-9a-f-]{36}$/)
      await statusShown(page, 'Confirmed')
      const { body } = await api<{ items: unknown[] }>('GET', '/api/orders', {
        token: await tokenOf(credentials),
      })
      expect(body.items).toHaveLength(1)
      expect((await productBySku(product.sku)).stock.available).toBe(9)

      // Signing out ends the session: the orders are behind sign-in again.
      await page.getByRole('button', { name: 'Sign out' }).click()
      await page.getByRole('link', { name: 'Sign in' }).waitFor()
      await page.goto('/orders')
      await page.getByRole('heading', { name: 'Sign in' }).waitFor()
    },
    CASE_TIMEOUT_MS,
  )

  it(
    'when a confirmed order is cancelled, then it shows CANCELLED and refunded; another shopper cannot see it',
    async () => {
      const product = await createProduct(4)
      const { page } = await shopper()
      await signUp(page)
      await addToCart(page, product, 1)
      const orderId = await checkOut(page, 'Mastercard')
      await statusShown(page, 'Confirmed')
      await page.getByRole('button', { name: 'Cancel and refund' }).click()
      await statusShown(page, 'Cancelled')
      await page
        .getByText('$25.00 was refunded to your card.')
        .waitFor({ timeout: SETTLE_TIMEOUT_MS })
      await page.getByText('Refunded', { exact: true }).waitFor()
      await expectAccessible(page, 'a cancelled order')
      await screenshot(page, 'order-cancelled')

      // The history filters by status.
      await page.getByRole('link', { name: 'All your orders' }).click()
      await page.getByLabel('Show').selectOption('CONFIRMED')
      await page.getByText('No confirmed orders.').waitFor()
      await page.getByLabel('Show').selectOption('CANCELLED')
      await page.getByRole('list', { name: 'Orders' }).getByText('Cancelled').waitFor()
      expect(new URL(page.url()).search).toBe('?status=CANCELLED')

      const other = await shopper()
      await signUp(other.page)
      await other.page.goto(`/orders/${orderId}`)
      await other.page.getByRole('heading', { name: 'Not found' }).waitFor()
      await other.page.getByText('We could not find this order.').waitFor()
      await expectAccessible(other.page, 'the not-found page')
    },
    CASE_TIMEOUT_MS,
  )

  it(
    'when the admin edits a price, then the catalogue shows it; the API field errors show beside the fields',
    async () => {
      const product = await createProduct(7, 4_200)
      const { page } = await shopper()
      await page.goto('/sign-in')
      await page.getByLabel('Email').fill(ADMIN.email)
      await page.getByLabel('Password').fill(ADMIN.password)
      await page.getByRole('button', { name: 'Sign in' }).click()
      await page.getByRole('link', { name: 'Manage' }).click()
      await page.getByRole('heading', { name: 'Manage products' }).waitFor()
      await expectAccessible(page, 'the product admin list')

      await page.goto(`/admin/products/${product.id}`)
      await page.getByRole('heading', { name: `Edit ${product.name}` }).waitFor()
      await waitUntil(
        'the form filled',
        () => page.getByLabel('Price (USD)').inputValue(),
        (v) => v === '42.00',
      )
      await page.getByLabel('Stock on hand').fill('-1')
      await page.getByLabel('Name').fill('')
      await page.getByRole('button', { name: 'Save changes' }).click()
      await page.getByText('Must be at least 0.').waitFor()
      await page.getByText('Must not be empty.').waitFor()
      expect(await page.getByLabel('Stock on hand').getAttribute('aria-invalid')).toBe('true')
      await expectAccessible(page, 'the product form with field errors')
      await screenshot(page, 'admin-field-errors')

      await page.getByLabel('Name').fill(product.name)
      await page.getByLabel('Stock on hand').fill('7')
      await page.getByLabel('Price (USD)').fill('123.45')
      await page.getByRole('button', { name: 'Save changes' }).click()
      await page.getByText('Saved.').waitFor()

      await page.getByRole('link', { name: 'Products', exact: true }).click()
      await page.getByLabel('Search products').fill(product.sku)
      await page.getByRole('button', { name: 'Search' }).click()
      const card = page.getByRole('listitem').filter({ hasText: product.name })
      await card.getByText('$123.45').waitFor()
      expect((await productBySku(product.sku)).price.amount).toBe(12_345)

      // A new product through the form.
      await page.goto('/admin/products/new')
      const sku = `NEW-${randomUUID().slice(0, 6)}`
      await page.getByLabel('SKU').fill(sku)
      await page.getByLabel('Name').fill('Desk plant')
      await page.getByLabel('Description').fill('Green, quiet, undemanding.')
      await page.getByLabel('Price (USD)').fill('19.99')
      await page.getByLabel('Stock on hand').fill('12')
      await expectAccessible(page, 'the new product form')
      await page.getByRole('button', { name: 'Create product' }).click()
      await page.getByRole('heading', { name: 'Edit Desk plant' }).waitFor()
      expect((await productBySku(sku)).price).toEqual({ amount: 1_999, currency: 'USD' })
    },
    CASE_TIMEOUT_MS,
  )

  it(
    'when the access token expires, then the session renews itself and survives reloads; a reused refresh token sends the shopper to sign in',
    async () => {
      if (!sleeper) throw new Error('no sleeper')
      const { page, context } = sleeper
      const grants = sleeperGrants
      // The sleeper signed up before the first case, so its access token has had time to expire.
      const first = grants[0] ?? { at: 0, expiresIn: 0 }
      expect(first.expiresIn).toBe(ACCESS_TOKEN_TTL_SECONDS)

      // Wait out the access token, then use the shop: the storefront renews before it asks.
      await waitUntil(
        'the access token expired',
        async () => Date.now(),
        (now) => now > first.at + first.expiresIn * 1_000 + 500,
        60_000,
      )
      await page.getByRole('link', { name: 'Orders', exact: true }).click()
      await page.getByRole('heading', { name: 'Your orders' }).waitFor()
      await page.getByText('You have no orders yet.').waitFor()
      expect(grants.length).toBeGreaterThan(1)

      // A reload keeps the session: the cookie is traded for a new access token.
      const cookieBefore = (await context.cookies()).find((c) => c.name === 'microshop_session')
      expect(cookieBefore?.httpOnly).toBe(true)
      expect(cookieBefore?.sameSite).toBe('Strict')
      expect(await page.evaluate('document.cookie')).toBe('')
      await page.reload()
      await page.getByText('You have no orders yet.').waitFor()
      await page.getByRole('button', { name: 'Sign out' }).waitFor()
      const cookieAfter = (await context.cookies()).find((c) => c.name === 'microshop_session')
      expect(cookieAfter?.value).not.toBe(cookieBefore?.value)

      // The old refresh token comes back (stolen, or replayed): the session is revoked.
      if (cookieBefore) await context.addCookies([cookieBefore])
      await page.reload()
      await page.getByRole('heading', { name: 'Sign in' }).waitFor()
      expect(new URL(page.url()).searchParams.get('next')).toBe('/orders')
      await page.goto('/orders')
      await page.getByRole('heading', { name: 'Sign in' }).waitFor()
    },
    CASE_TIMEOUT_MS,
  )

  it(
    'when a shopper uses only the keyboard on a 375 px wide screen, then they can check out',
    async () => {
      const product = await createProduct(3, 1_050)
      const { page } = await shopper({ width: 375, height: 812 })
      await signUp(page)
      await page.goto(`/products/${product.id}`)
      await page.getByRole('heading', { name: product.name }).waitFor()
      expect(await noHorizontalScroll(page), 'the product page fits 375 px').toBe(true)

      await tabTo(page, page.getByLabel('Quantity'))
      await page.keyboard.press('ArrowUp')
      await tabTo(page, page.getByRole('button', { name: 'Add to cart' }))
      await page.keyboard.press('Enter')
      await page.getByText('Added 2 to your cart.').waitFor()
      await tabTo(page, page.getByRole('link', { name: 'See your cart' }))
      await page.keyboard.press('Enter')
      await page.getByRole('heading', { name: 'Your cart' }).waitFor()
      expect(await noHorizontalScroll(page), 'the cart fits 375 px').toBe(true)
      await screenshot(page, 'cart-375px')

      await tabTo(page, page.getByRole('link', { name: 'Check out' }))
      await page.keyboard.press('Enter')
      await page.getByRole('heading', { name: 'Checkout' }).waitFor()
      expect(await noHorizontalScroll(page), 'the checkout fits 375 px').toBe(true)
      await tabTo(page, page.getByRole('radio', { name: 'Visa' }))
      await page.keyboard.press('ArrowDown')
      expect(await page.getByRole('radio', { name: 'Mastercard' }).isChecked()).toBe(true)
      await tabTo(page, page.getByRole('button', { name: 'Place order' }))
      await page.keyboard.press('Enter')
      await page.waitForURL(/\/orders\/[0-9a-f-]{36}$/)
      await statusShown(page, 'Confirmed')
      expect(await noHorizontalScroll(page), 'the order fits 375 px').toBe(true)
      await expectAccessible(page, 'an order at 375 px')
      await screenshot(page, 'order-375px')
      await page.goto('/')
      await page.getByRole('heading', { name: 'Products' }).waitFor()
      expect(await noHorizontalScroll(page), 'the catalogue fits 375 px').toBe(true)
      await screenshot(page, 'catalogue-375px', false)
    },
    CASE_TIMEOUT_MS,
  )

  it(
    'when the shop throttles or a service is down, then the page says to try again later',
    async () => {
      const { page } = await shopper()
      const email = `throttled-${randomUUID()}@example.com`
      await page.goto('/sign-in')
      await page.getByLabel('Email').fill(email)
      await page.getByLabel('Password').fill('wrong password')
      const signIn = page.getByRole('button', { name: 'Sign in' })
      await signIn.click()
      await page.getByText('The email or password is wrong.').waitFor()
      // The users service throttles an email after five failures: the next try is a 429.
      const alert = page.getByRole('alert')
      await waitUntil(
        'a 429 shown',
        async () => {
          await signIn.click()
          await signIn.isEnabled()
          return (await alert.textContent()) ?? ''
        },
        (text) => text.includes('Too many requests right now. Please try again in'),
      )
      await expectAccessible(page, 'the sign-in page with an error')

      await shop?.stop('catalog')
      await page.goto('/')
      await page.getByText('The shop is busy or part of it is down.').waitFor()
      await page.getByRole('button', { name: 'Try again' }).waitFor()
      await screenshot(page, 'catalog-down')
    },
    CASE_TIMEOUT_MS,
  )
})
