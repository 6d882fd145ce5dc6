import { api, data } from '../api/client.ts'
import type { OrderStatus } from '../api/resources.ts'
import { Link } from '../components/link.tsx'
import { Loading, ProblemAlert } from '../components/problem-alert.tsx'
import { StatusBadge } from '../components/status-badge.tsx'
import { usePagedList } from '../components/use-paged-list.ts'
import { formatMoney } from '../money.ts'
import { STATUS_WORDS } from '../order-words.ts'
import { hereWithQuery, navigate, place } from '../router.ts'

const PAGE_SIZE = 10
const STATUSES = Object.keys(STATUS_WORDS) as OrderStatus[]

function statusOf(value: string | null): OrderStatus | undefined {
  return STATUSES.find((status) => status === value)
}

/** OrdersPage is the shopper's order history, newest first, filtered by status, a page at a time. */
export function OrdersPage() {
  const status = statusOf(place.value.query.get('status'))
  const { first, reload, items, nextCursor, loadMore, moreError } = usePagedList(
    (cursor, signal) =>
      data(
        api.GET('/api/orders', {
          params: {
            query: {
              ...(status ? { status } : {}),
              limit: PAGE_SIZE,
              ...(cursor ? { cursor } : {}),
            },
          },
          ...(signal ? { signal } : {}),
        }),
      ),
    [status],
  )

  return (
    <section>
      <h1 tabIndex={-1}>Your orders</h1>
      <div class="filter">
        <label for="status-filter">Show</label>
        <select
          id="status-filter"
          value={status ?? ''}
          onChange={(event) => navigate(hereWithQuery({ status: event.currentTarget.value }))}
        >
          <option value="">All orders</option>
          {STATUSES.map((value) => (
            <option key={value} value={value}>
              {STATUS_WORDS[value]}
            </option>
          ))}
        </select>
      </div>
      {first.state === 'loading' && <Loading what="your orders" />}
      {first.state === 'failed' && <ProblemAlert error={first.error} onRetry={reload} />}
      {first.state === 'ready' && items.length === 0 && (
        <p>
          {status ? `No ${STATUS_WORDS[status].toLowerCase()} orders.` : 'You have no orders yet.'}{' '}
          <Link href="/">Browse the products</Link>
        </p>
      )}
      {items.length > 0 && (
        <ul class="order-list" aria-label="Orders">
          {items.map((order) => (
            <li key={order.id} class="order-row">
              <Link href={`/orders/${order.id}`}>Order {order.id.slice(0, 8)}</Link>
              <time dateTime={order.createdAt}>{new Date(order.createdAt).toLocaleString()}</time>
              <span>{order.items.reduce((sum, item) => sum + item.quantity, 0)} items</span>
              <span class="line-total">{formatMoney(order.total)}</span>
              <StatusBadge status={order.status} />
            </li>
          ))}
        </ul>
      )}
      {moreError !== undefined && <ProblemAlert error={moreError} />}
      {nextCursor !== null && (
        <button
          type="button"
          class="button secondary more"
          onClick={() => void loadMore(nextCursor)}
        >
          More orders
        </button>
      )}
    </section>
  )
}
