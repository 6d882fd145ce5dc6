import { useEffect, useState } from 'preact/hooks'
import { api, data } from '../api/client.ts'
import { ApiError } from '../api/problem.ts'
import type { Order, Payment } from '../api/resources.ts'
import { Link } from '../components/link.tsx'
import { Loading, ProblemAlert } from '../components/problem-alert.tsx'
import { StatusBadge } from '../components/status-badge.tsx'
import { formatMoney } from '../money.ts'
import { PAYMENT_WORDS, reasonInWords, STATUS_WORDS } from '../order-words.ts'
import { NotFoundPage } from './not-found-page.tsx'

/** Polling backs off from FIRST_POLL_MS by half again each time, up to MAX_POLL_MS. */
const FIRST_POLL_MS = 250
const MAX_POLL_MS = 4_000

interface Tracked {
  order: Order
  payment: Payment | undefined
}

/**
 * settled is true when nothing more will happen on its own: the order is final and its payment
 * too (a cancelled order's refund arrives a moment after the cancel).
 */
function settled({ order, payment }: Tracked): boolean {
  if (order.status === 'PENDING') return false
  if (payment?.status === 'PENDING') return false
  if (order.status !== 'CONFIRMED' && payment?.status === 'SUCCEEDED') return false
  return true
}

async function track(id: string, signal: AbortSignal): Promise<Tracked> {
  const order = await data(api.GET('/api/orders/{id}', { params: { path: { id } }, signal }))
  if (order.paymentId === null) return { order, payment: undefined }
  const payment = await data(
    api.GET('/api/payments/{id}', { params: { path: { id: order.paymentId } }, signal }),
  )
  return { order, payment }
}

/**
 * OrderPage follows an order live, polling with backoff until it settles: PENDING to CONFIRMED or
 * REJECTED with the reason in words, its items, total, payment and status history; a pending or
 * confirmed order can be cancelled here, and the refund shows when it lands.
 */
export function OrderPage({ id }: { id: string }) {
  const [tracked, setTracked] = useState<Tracked>()
  const [error, setError] = useState<unknown>()
  const [generation, setGeneration] = useState(0)
  const [cancelling, setCancelling] = useState(false)
  const [cancelError, setCancelError] = useState<unknown>()

  useEffect(() => {
    const controller = new AbortController()
    let timer: ReturnType<typeof setTimeout> | undefined
    let delayMs = FIRST_POLL_MS
    const poll = async () => {
      try {
        const next = await track(id, controller.signal)
        if (controller.signal.aborted) return
        setTracked(next)
        setError(undefined)
        if (settled(next)) return
      } catch (failure) {
        if (controller.signal.aborted) return
        setError(failure)
        if (failure instanceof ApiError && [400, 401, 403, 404].includes(failure.status)) return
      }
      timer = setTimeout(() => void poll(), delayMs)
      delayMs = Math.min(MAX_POLL_MS, Math.round(delayMs * 1.5))
    }
    void poll()
    return () => {
      controller.abort()
      clearTimeout(timer)
    }
  }, [id, generation])

  const cancel = async () => {
    setCancelling(true)
    setCancelError(undefined)
    try {
      await data(api.POST('/api/orders/{id}/cancel', { params: { path: { id } } }))
      setGeneration((n) => n + 1)
    } catch (failure) {
      setCancelError(failure)
    } finally {
      setCancelling(false)
    }
  }

  if (tracked === undefined) {
    if (error instanceof ApiError && (error.status === 404 || error.status === 400)) {
      return <NotFoundPage what="order" />
    }
    if (error !== undefined) {
      return (
        <section>
          <h1 tabIndex={-1}>Order</h1>
          <ProblemAlert error={error} onRetry={() => setGeneration((n) => n + 1)} />
        </section>
      )
    }
    return <Loading what="your order" />
  }

  const { order, payment } = tracked
  const rejection = order.statusHistory.findLast((entry) => entry.status === 'REJECTED')
  const cancellable = order.status === 'PENDING' || order.status === 'CONFIRMED'
  return (
    <section class="order">
      <h1 tabIndex={-1}>Order {order.id.slice(0, 8)}</h1>
      <div class="order-status" role="status" aria-live="polite">
        <p>
          Status: <StatusBadge status={order.status} />
          {order.status === 'PENDING' && (
            <span class="hint"> We are reserving stock and charging your card…</span>
          )}
        </p>
        {order.status === 'REJECTED' && rejection && (
          <p class="alert">Your order was rejected: {reasonInWords(rejection.reason)}.</p>
        )}
        {order.status === 'CONFIRMED' && <p class="success">Thank you: your order is confirmed.</p>}
        {order.status === 'CANCELLED' && (
          <p class="notice">
            This order is cancelled.
            {payment?.status === 'REFUNDED' &&
              ` ${formatMoney(payment.amount)} was refunded to your card.`}
            {payment?.status === 'SUCCEEDED' && ' The refund is on its way…'}
          </p>
        )}
      </div>

      <h2>Items</h2>
      <ul class="lines" aria-label="Order items">
        {order.items.map((item) => (
          <li class="line" key={item.productId}>
            <span class="line-name">
              <Link href={`/products/${item.productId}`}>{item.name}</Link>
              <span class="unit-price">
                {item.quantity} × {formatMoney(item.unitPrice)}
              </span>
            </span>
            <span class="line-total">{formatMoney(item.lineTotal)}</span>
          </li>
        ))}
      </ul>
      <p class="total">
        Total <strong>{formatMoney(order.total)}</strong>
      </p>

      <h2>Payment</h2>
      {payment === undefined ? (
        <p>No payment yet.</p>
      ) : (
        <dl class="facts">
          <dt>Amount</dt>
          <dd>{formatMoney(payment.amount)}</dd>
          <dt>Payment status</dt>
          <dd>{PAYMENT_WORDS[payment.status]}</dd>
          {payment.failureReason !== null && (
            <>
              <dt>Why it failed</dt>
              <dd>{reasonInWords(payment.failureReason)}</dd>
            </>
          )}
        </dl>
      )}

      <h2>History</h2>
      <ol class="history">
        {order.statusHistory.map((entry, index) => (
          <li key={index}>
            <time dateTime={entry.at}>{new Date(entry.at).toLocaleString()}</time>{' '}
            <strong>{STATUS_WORDS[entry.status]}</strong>
            {entry.reason && `: ${reasonInWords(entry.reason)}`}
          </li>
        ))}
      </ol>

      {cancelError !== undefined && <ProblemAlert error={cancelError} />}
      <div class="actions">
        <Link href="/orders">All your orders</Link>
        {cancellable && (
          <button
            type="button"
            class="button danger"
            disabled={cancelling}
            onClick={() => void cancel()}
          >
            {cancelling
              ? 'Cancelling…'
              : order.status === 'CONFIRMED'
                ? 'Cancel and refund'
                : 'Cancel order'}
          </button>
        )}
      </div>
    </section>
  )
}
