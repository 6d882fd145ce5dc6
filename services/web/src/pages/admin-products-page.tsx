import { api, data } from '../api/client.ts'
import { Link } from '../components/link.tsx'
import { Loading, ProblemAlert } from '../components/problem-alert.tsx'
import { usePagedList } from '../components/use-paged-list.ts'
import { formatMoney } from '../money.ts'

const PAGE_SIZE = 25

/** AdminProductsPage lists every product for the admin to edit, and links to a new one. */
export function AdminProductsPage() {
  const { first, reload, items, nextCursor, loadMore, moreError } = usePagedList(
    (cursor, signal) =>
      data(
        api.GET('/api/products', {
          params: { query: { limit: PAGE_SIZE, ...(cursor ? { cursor } : {}) } },
          ...(signal ? { signal } : {}),
        }),
      ),
    [],
  )
  return (
    <section>
      <h1 tabIndex={-1}>Manage products</h1>
      <p>
        <Link class="button" href="/admin/products/new">
          New product
        </Link>
      </p>
      {first.state === 'loading' && <Loading what="products" />}
      {first.state === 'failed' && <ProblemAlert error={first.error} onRetry={reload} />}
      {items.length > 0 && (
        <ul class="order-list" aria-label="Products to manage">
          {items.map((product) => (
            <li key={product.id} class="order-row">
              <Link href={`/admin/products/${product.id}`} aria-label={`Edit ${product.name}`}>
                {product.name}
              </Link>
              <span class="sku">{product.sku}</span>
              <span>{formatMoney(product.price)}</span>
              <span>{product.stock.available} available</span>
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
          More products
        </button>
      )}
    </section>
  )
}
