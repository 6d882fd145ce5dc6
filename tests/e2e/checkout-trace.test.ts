// One checkout is one trace, in both run modes: every service in this process with the spans
// recorded in memory, and every service its own process exporting over OTLP/HTTP to a receiver
// of the test's own. See checkout-trace.ts for what the trace must show.
import { randomBytes } from 'node:crypto'
import { createServer } from 'node:net'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { adminUrl } from '@microshop/platform/testing/databases'
import {
  deleteStreamsOf,
  natsServerAvailable,
  sharedNatsUrl,
  startOwnNatsServer,
} from '@microshop/platform/testing/nats-server'
import {
  inMemorySpans,
  startOtlpReceiver,
  type OtlpReceiver,
} from '@microshop/platform/testing/recorded-spans'
import { waitFor } from '@microshop/platform/testing/wait-for'
import { startAllInOne, type AllInOne } from '../../scripts/all-in-one.ts'
import { createServiceDatabases, dropServiceDatabases } from '../../scripts/service-databases.ts'
import { startServiceProcesses, type ServiceProcesses } from '../../scripts/service-processes.ts'
import { backendServices, freePorts, type ShopPorts } from '../../scripts/shop-layout.ts'
import {
  attributeTexts,
  checkOut,
  checkoutTraceComplete,
  expectNoSecrets,
  expectOneCheckoutTrace,
} from './checkout-trace.ts'

async function freePort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  await new Promise((resolve) => server.close(resolve))
  return port
}

async function metricsAt(url: string): Promise<string> {
  const response = await fetch(url)
  expect(response.status).toBe(200)
  return response.text()
}

/** sample reads one sample's value from a Prometheus text exposition, or undefined. */
function sample(text: string, name: string, labels: Record<string, string> = {}) {
  const line = text
    .split('\n')
    .find((candidate) =>
      candidate.startsWith(`${name}{`) || candidate.startsWith(`${name} `)
        ? Object.entries(labels).every(([key, value]) => candidate.includes(`${key}="${value}"`))
        : false,
    )
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1))
}

describe('a checkout in the all-in-one process', () => {
  const recorded = inMemorySpans()
  let shop: AllInOne
  let gatewayUrl: string
  let ports: ShopPorts
  let gatewayMetricsPort: number

  beforeAll(async () => {
    ports = await freePorts()
    gatewayMetricsPort = await freePort()
    shop = await startAllInOne({
      env: {
        LOG_LEVEL: 'silent',
        SEED_DEMO_DATA: 'true',
        OTEL_TRACES_SAMPLER: 'always_on',
        METRICS_PORT: String(gatewayMetricsPort),
      },
      dataDir: 'memory://',
      ports,
      gatewayHost: '127.0.0.1',
      spanProcessors: [recorded.processor],
    })
    gatewayUrl = `http://127.0.0.1:${ports.gateway}`
  })
  afterAll(async () => {
    await shop?.close()
  })

  it('when a shopper checks out, then one trace covers the gateway, orders, catalog, payments and the events between them, and the saga metrics count it', async () => {
    const checkout = await checkOut(gatewayUrl)
    await waitFor(() => checkoutTraceComplete(recorded.spans(), checkout))
    expectOneCheckoutTrace(recorded.spans(), checkout, { postgres: false })
    expectNoSecrets(attributeTexts(recorded.spans()), checkout.secrets)

    // The saga's figures count it, on orders' /metrics; the others count their part.
    const orders = await metricsAt(`http://127.0.0.1:${ports.orders}/metrics`)
    expect(sample(orders, 'checkouts_placed_total')).toBeGreaterThanOrEqual(1)
    expect(
      sample(orders, 'checkouts_total', { outcome: 'confirmed', reason: 'payment_succeeded' }),
    ).toBeGreaterThanOrEqual(1)
    expect(
      sample(orders, 'checkout_duration_seconds_count', { outcome: 'confirmed' }),
    ).toBeGreaterThanOrEqual(1)
    for (const step of ['awaiting_stock', 'awaiting_payment']) {
      expect(sample(orders, 'saga_step_duration_seconds_count', { step })).toBeGreaterThanOrEqual(1)
    }
    expect(sample(orders, 'outbox_pending_events')).toBeGreaterThanOrEqual(0)
    const payments = await metricsAt(`http://127.0.0.1:${ports.payments}/metrics`)
    expect(sample(payments, 'payments_total', { status: 'succeeded' })).toBeGreaterThanOrEqual(1)
    const catalog = await metricsAt(`http://127.0.0.1:${ports.catalog}/metrics`)
    expect(sample(catalog, 'stock_reservations_held')).toBeGreaterThanOrEqual(0)

    // The process's own figures are on the gateway's /metrics only: one process, one copy.
    const gateway = await metricsAt(`http://127.0.0.1:${gatewayMetricsPort}/metrics`)
    expect(sample(gateway, 'process_cpu_seconds_total', { service: 'gateway' })).toBeDefined()
    for (const text of [orders, payments, catalog]) {
      expect(sample(text, 'process_cpu_seconds_total')).toBeUndefined()
    }
  })
})

describe('a checkout across separate processes', () => {
  let receiver: OtlpReceiver
  let processes: ServiceProcesses | undefined
  let cleanUp: () => Promise<void> = async () => undefined

  beforeAll(async () => {
    receiver = await startOtlpReceiver()
    const run = `trace_${randomBytes(4).toString('hex')}`
    const prefix = `${run}_`
    const nats = natsServerAvailable
      ? await startOwnNatsServer().then((server) => ({
          url: server.url,
          namespace: '',
          dispose: () => server.dispose(),
        }))
      : { url: sharedNatsUrl, namespace: run, dispose: () => deleteStreamsOf(sharedNatsUrl, run) }
    cleanUp = async () => {
      await dropServiceDatabases({ adminUrl, prefix })
      await nats.dispose()
    }
    processes = await startServiceProcesses({
      ports: await freePorts(),
      databaseUrls: await createServiceDatabases({ adminUrl, prefix }),
      natsUrl: nats.url,
      natsNamespace: nats.namespace,
      env: {
        PATH: process.env.PATH,
        LOG_LEVEL: 'info',
        SEED_DEMO_DATA: 'true',
        OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
        OTEL_BSP_SCHEDULE_DELAY: '200',
      },
      runtime: 'source',
      output: 'capture',
    })
  })
  afterAll(async () => {
    await processes?.close()
    await cleanUp()
    await receiver?.close()
  })

  it('when a shopper checks out, then the spans every process exports over OTLP make one trace, and no span or log line holds a secret', async () => {
    const checkout = await checkOut(processes!.urls.gateway)
    await waitFor(() => checkoutTraceComplete(receiver.spans(), checkout), 60_000)
    expectOneCheckoutTrace(receiver.spans(), checkout, { postgres: true })
    expectNoSecrets(attributeTexts(receiver.spans()), checkout.secrets)

    const lines = (['gateway', ...backendServices] as const).flatMap((service) =>
      processes!
        .output(service)
        .split('\n')
        .filter((line) => line.startsWith('{')),
    )
    expectNoSecrets(lines, checkout.secrets)
    // The log lines of the checkout's work carry its trace.
    const traced = lines.filter((line) => line.includes(`"traceId":"${checkout.traceId}"`))
    expect(traced.some((line) => line.includes('"service":"orders"'))).toBe(true)
    expect(traced.some((line) => line.includes('"service":"payments"'))).toBe(true)
  })
})
