import { useState } from 'preact/hooks'
import { api, data } from '../api/client.ts'
import type { Product } from '../api/resources.ts'
import { addToCart, quantityInCart } from '../cart/cart.ts'
import { Link } from '../components/link.tsx'
import { Loading, ProblemAlert } from '../components/problem-alert.tsx'
import { ProductArt } from '../components/product-art.tsx'
import { usePagedList } from '../components/use-paged-list.ts'
import { formatMoney } from '../money.ts'
import { hereWithQuery, navigate, place } from '../router.ts'

const PAGE_SIZE = 12

/** CataloguePage lists the products, searched by `q`, a page at a time (cursor paging). */
export function CataloguePage() {
  const q = place.value.query.get('q') ?? ''
  const [search, setSearch] = useState(q)
  const { first, reload, items, nextCursor, loadMore, moreError } = usePagedList(
    (cursor, signal) =>
      data(
        api.GET('/api/products', {
          params: {
            query: { ...(q ? { q } : {}), limit: PAGE_SIZE, ...(cursor ? { cursor } : {}) },
          },
          ...(signal ? { signal } : {}),
        }),
      ),
    [q],
  )

  return (
    <section>
      <h1 tabIndex={-1}>{q ? `Products matching “${q}”` : 'Products'}</h1>
      <form
        class="search"
        role="search"
        onSubmit={(event) => {
          event.preventDefault()
          navigate(hereWithQuery({ q: search.trim() }))
        }}
      >
        <label for="search">Search products</label>
        <input
          id="search"
          type="search"
          name="q"
          value={search}
          onInput={(event) => setSearch(event.currentTarget.value)}
        />
        <button class="button" type="submit">
          Search
        </button>
      </form>
      {first.state === 'loading' && <Loading what="products" />}
      {first.state === 'failed' && <ProblemAlert error={first.error} onRetry={reload} />}
      {first.state === 'ready' && items.length === 0 && (
        <p>No products match “{q}”. Try another word.</p>
      )}
      {items.length > 0 && (
        <ul class="product-grid" aria-label="Products">
          {items.map((product) => (
            <ProductCard key={product.id} product={product} />
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

function ProductCard({ product }: { product: Product }) {
  const [note, setNote] = useState('')
  const available = product.stock.available
  const inCart = quantityInCart(product.id)
  const canAdd = available - inCart > 0
  return (
    <li class="product-card">
      <ProductArt sku={product.sku} name={product.name} />
      <h2>
        <Link href={`/products/${product.id}`}>{product.name}</Link>
      </h2>
      <p class="price">{formatMoney(product.price)}</p>
      <p class={available > 0 ? 'stock' : 'stock out'}>
        {available > 0 ? `${available} in stock` : 'Out of stock'}
      </p>
      <button
        type="button"
        class="button"
        disabled={!canAdd}
        onClick={() =>
          setNote(addToCart(product.id, 1, available) > 0 ? 'Added to your cart.' : '')
        }
      >
        {available === 0 ? 'Out of stock' : canAdd ? 'Add to cart' : 'All in your cart'}
        {canAdd && <span class="visually-hidden"> for {product.name}</span>}
      </button>
      <p class="note" role="status">
        {note}
      </p>
    </li>
  )
}
