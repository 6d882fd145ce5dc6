// bench/order-settlement.ts tells the checkout client when each order it placed settled, and how.
// Over NATS the client hears the orders service's own `order.confirmed` / `order.rejected` events
// on plain core NATS subscriptions (no consumer, no ack, nothing left on the server), so the time
// is the time the fact was published, with no polling load added to the shop. Without a broker to
// listen to (embedded mode: the bus is inside the shop's process) it polls GET /api/orders/{id}.
import { setTimeout as sleep } from 'node:timers/promises'
import { connect, type NatsConnection, type Subscription } from '@nats-io/transport-node'
import { NatsNames } from '@microshop/platform/events/nats-event-bus'
import { orderConfirmed, orderRejected } from '@microshop/contracts/orders-events'
import type { Pool } from 'undici'

export type SettledStatus = 'CONFIRMED' | 'REJECTED'

/** Settled is an order's outcome and when (performance.now()) the client learned it. */
export interface Settled {
  status: SettledStatus
  atMs: number
}

export interface SettlementWatch {
  /** how says how outcomes are learned, for the report. */
  readonly how: string
  /** settled resolves with the order's outcome, or undefined when it has none by `deadlineMs`. */
  settled(orderId: string, token: string, deadlineMs: number): Promise<Settled | undefined>
  /** quiet resolves once no outcome has arrived for `quietMs` (a backlog drained), or at `maxMs`. */
  quiet(quietMs: number, maxMs: number): Promise<void>
  /** confirmationsBetween counts the confirmations learned in a span: throughput at the sink. */
  confirmationsBetween(fromMs: number, toMs: number): number
  close(): Promise<void>
}

/** ConfirmationLog keeps the moments confirmations were learned, in order. */
class ConfirmationLog {
  private readonly times: number[] = []
  lastOutcomeMs = performance.now()

  add(status: SettledStatus, atMs: number): void {
    this.lastOutcomeMs = atMs
    if (status === 'CONFIRMED') this.times.push(atMs)
  }

  between(fromMs: number, toMs: number): number {
    return this.times.filter((time) => time >= fromMs && time < toMs).length
  }

  async quiet(quietMs: number, maxMs: number): Promise<void> {
    const giveUpAt = performance.now() + maxMs
    while (performance.now() < giveUpAt && performance.now() - this.lastOutcomeMs < quietMs) {
      await sleep(100)
    }
  }
}

/**
 * watchSettlementOverNats subscribes to the namespace's confirmed and rejected subjects. An
 * outcome can arrive before the client has read the 202 that names the order, so outcomes wait
 * in `early` until asked for.
 */
export async function watchSettlementOverNats(
  url: string,
  namespace: string,
): Promise<SettlementWatch> {
  const names = new NatsNames(namespace)
  const nc: NatsConnection = await connect({ servers: url, name: 'bench-settlement' })
  const log = new ConfirmationLog()
  const early = new Map<string, Settled>()
  const waiting = new Map<string, (settled: Settled) => void>()
  const decoder = new TextDecoder()

  const listen = (subscription: Subscription, status: SettledStatus) =>
    (async () => {
      for await (const message of subscription) {
        const atMs = performance.now()
        const event = JSON.parse(decoder.decode(message.data)) as { data: { orderId: string } }
        const settled = { status, atMs }
        log.add(status, atMs)
        const resolve = waiting.get(event.data.orderId)
        if (resolve) {
          waiting.delete(event.data.orderId)
          resolve(settled)
        } else {
          early.set(event.data.orderId, settled)
        }
      }
    })()
  const listening = [
    listen(nc.subscribe(names.subject(orderConfirmed.type)), 'CONFIRMED'),
    listen(nc.subscribe(names.subject(orderRejected.type)), 'REJECTED'),
  ]
  await nc.flush()

  return {
    how: `core NATS subscription to ${names.subject('orders.order.{confirmed,rejected}.v1')}`,
    settled(orderId, _token, deadlineMs) {
      const known = early.get(orderId)
      if (known) {
        early.delete(orderId)
        return Promise.resolve(known)
      }
      return new Promise((resolve) => {
        const timer = setTimeout(
          () => {
            waiting.delete(orderId)
            resolve(undefined)
          },
          Math.max(0, deadlineMs - performance.now()),
        )
        waiting.set(orderId, (settled) => {
          clearTimeout(timer)
          resolve(settled)
        })
      })
    },
    quiet: (quietMs, maxMs) => log.quiet(quietMs, maxMs),
    confirmationsBetween: (fromMs, toMs) => log.between(fromMs, toMs),
    async close() {
      await nc.drain()
      await Promise.all(listening)
    },
  }
}

// POLL_BACKOFF_MS are the waits between polls of one order: short first, for an honest p50.
const POLL_BACKOFF_MS = [10, 20, 40, 80, 160, 250]

/**
 * watchSettlementByPolling polls each order through the gateway until it is CONFIRMED or
 * REJECTED. The time it reports is when the poll saw it: later than the change by up to one
 * backoff step, and the polls add reads to the shop's load.
 */
export function watchSettlementByPolling(pool: Pool): SettlementWatch {
  const log = new ConfirmationLog()
  let open = true
  return {
    how: `polling GET /api/orders/{id} (waits ${POLL_BACKOFF_MS.join(', ')} ms, then every ${POLL_BACKOFF_MS.at(-1)} ms)`,
    async settled(orderId, token, deadlineMs) {
      for (let attempt = 0; open && performance.now() < deadlineMs; attempt++) {
        await sleep(POLL_BACKOFF_MS[Math.min(attempt, POLL_BACKOFF_MS.length - 1)])
        try {
          const response = await pool.request({
            path: `/api/orders/${orderId}`,
            method: 'GET',
            headers: { authorization: `Bearer ${token}` },
          })
          const text = await response.body.text()
          if (response.statusCode !== 200) continue
          const { status } = JSON.parse(text) as { status: string }
          if (status === 'CONFIRMED' || status === 'REJECTED') {
            const settled = { status, atMs: performance.now() } as const
            log.add(status, settled.atMs)
            return settled
          }
        } catch {
          // A failed poll is tried again: the order's deadline bounds the tries.
        }
      }
      return undefined
    },
    quiet: (quietMs, maxMs) => log.quiet(quietMs, maxMs),
    confirmationsBetween: (fromMs, toMs) => log.between(fromMs, toMs),
    async close() {
      open = false
    },
  }
}
