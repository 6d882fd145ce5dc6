// browser.ts: a real Chromium for the storefront suite (Debian's `chromium` package, driven by
// playwright-core), with what the cases share: an accessibility check with axe-core, screenshots
// as test artifacts, keyboard moves, and a watch on the console for Content Security Policy errors.
import { access, mkdir, readFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { join, resolve } from 'node:path'
import {
  chromium,
  type Browser,
  type BrowserContext,
  type Locator,
  type Page,
} from 'playwright-core'

/** CHROMIUM is Debian's Chromium (`apt-get install chromium`; .ci/run installs it). */
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'

/** artifactsDir is where screenshots go: git-ignored, kept by CI with the run. */
export const artifactsDir = resolve(import.meta.dirname, '../../test-artifacts/storefront')

export async function launchChromium(): Promise<Browser> {
  await access(CHROMIUM).catch(() => {
    throw new Error(
      `no Chromium at ${CHROMIUM}: install Debian's package (apt-get install -y chromium) or set CHROMIUM_PATH`,
    )
  })
  await mkdir(artifactsDir, { recursive: true })
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    timeout: 60_000,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  })
}

/** Shopper is one person's browser: a context of its own (cookies, storage) and a page. */
export interface Shopper {
  context: BrowserContext
  page: Page
  /** cspErrors are the page's Content Security Policy violations: the suite expects none. */
  cspErrors: string[]
}

export async function newShopper(
  browser: Browser,
  baseURL: string,
  viewport = { width: 1280, height: 900 },
): Promise<Shopper> {
  const context = await browser.newContext({ baseURL, viewport, locale: 'en-US' })
  context.setDefaultTimeout(20_000)
  context.setDefaultNavigationTimeout(30_000)
  const page = await context.newPage()
  const cspErrors: string[] = []
  page.on('console', (message) => {
    if (message.type() === 'error' && /Content Security Policy/i.test(message.text())) {
      cspErrors.push(message.text())
    }
  })
  page.on('pageerror', (error) => cspErrors.push(`page error: ${error.message}`))
  return { context, page, cspErrors }
}

let axeSource: Promise<string> | undefined

interface AxeViolation {
  id: string
  impact: string | null
  help: string
  nodes: { target: unknown[] }[]
}

/**
 * expectAccessible runs axe-core on the page as it is and fails on any serious or critical
 * violation, naming each rule and where it hit.
 */
export async function expectAccessible(page: Page, what: string): Promise<void> {
  axeSource ??= readFile(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8')
  // page.evaluate runs over the DevTools protocol, which the page's CSP does not govern.
  await page.evaluate(await axeSource)
  const violations = await page.evaluate<AxeViolation[]>(
    'axe.run(document, { resultTypes: ["violations"] }).then((r) => r.violations)',
  )
  const serious = violations.filter((v) => v.impact === 'serious' || v.impact === 'critical')
  const report = serious.map(
    (v) =>
      `${v.id} (${v.impact}): ${v.help} at ${v.nodes.map((n) => JSON.stringify(n.target)).join(', ')}`,
  )
  if (report.length > 0) throw new Error(`axe on ${what}:\n${report.join('\n')}`)
}

/** screenshot saves the page as test-artifacts/storefront/<name>.png. */
export async function screenshot(page: Page, name: string, fullPage = true): Promise<void> {
  await page.screenshot({ path: join(artifactsDir, `${name}.png`), fullPage })
}

/**
 * tabTo presses Tab until target has the focus, as a keyboard user would move to it; it fails
 * when the target is not reached in maxPresses (it is not in the tab order).
 */
export async function tabTo(page: Page, target: Locator, maxPresses = 60): Promise<void> {
  for (let press = 0; press < maxPresses; press++) {
    await page.keyboard.press('Tab')
    const focused = await target.evaluate(
      (element: { ownerDocument: { activeElement: unknown } }) =>
        element === element.ownerDocument.activeElement,
    )
    if (focused) return
  }
  throw new Error(`${target.toString()} was not reached with ${maxPresses} presses of Tab`)
}

/** noHorizontalScroll is true when the page fits its viewport's width (nothing sticks out). */
export async function noHorizontalScroll(page: Page): Promise<boolean> {
  return page.evaluate<boolean>(
    'document.documentElement.scrollWidth <= document.documentElement.clientWidth',
  )
}

/** waitUntil polls a condition until it holds, or fails with what it last saw after timeoutMs. */
export async function waitUntil<T>(
  what: string,
  probe: () => Promise<T>,
  holds: (value: T) => boolean,
  timeoutMs = 20_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await probe()
    if (holds(value)) return value
    if (Date.now() > deadline) throw new Error(`${what}: still ${JSON.stringify(value)}`)
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}
