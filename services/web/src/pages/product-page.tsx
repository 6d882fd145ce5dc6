import { useState } from 'preact/hooks'
import { api, data } from '../api/client.ts'
import { ApiError } from '../api/problem.ts'
import { addToCart, quantityInCart } from '../cart/cart.ts'
import { MAX_QUANTITY } from '../cart/cart-lines.ts'
import { Link } from '../components/link.tsx'
import { Loading, ProblemAlert } from '../components/problem-alert.tsx'
import { ProductArt } from '../components/product-art.tsx'
import { useResource } from '../components/use-resource.ts'
import { formatMoney } from '../money.ts'
import { NotFoundPage } from './not-found-page.tsx'

/** ProductPage shows one product with its price and stock, and adds it to the cart up to the stock. */
export function ProductPage({ id }: { id: string }) {
  const [product, reload] = useResource(
    (signal) => data(api.GET('/api/products/{id}', { params: { path: { id } }, signal })),
    [id],
  )
  const [quantity, setQuantity] = useState('1')
  const [note, setNote] = useState('')

  if (product.state === 'loading') return <Loading what="the product" />
  if (product.state === 'failed') {
    const status = product.error instanceof ApiError ? product.error.status : 0
    if (status === 404 || status === 400) return <NotFoundPage what="product" />
    return (
      <section>
        <h1 tabIndex={-1}>Product</h1>
        <ProblemAlert error={product.error} onRetry={reload} />
      </section>
    )
  }
  const { value } = product
  const available = value.stock.available
  const inCart = quantityInCart(value.id)
  const room = Math.max(0, Math.min(available, MAX_QUANTITY) - inCart)
  const wanted = Number(quantity)
  const valid = Number.isInteger(wanted) && wanted >= 1 && wanted <= room

  const add = (event: Event) => {
    event.preventDefault()
    if (!valid) return
    const added = addToCart(value.id, wanted, available)
    setNote(added > 0 ? `Added ${added} to your cart.` : 'None could be added.')
    setQuantity('1')
  }

  return (
    <article class="product-detail">
      <ProductArt sku={value.sku} name={value.name} />
      <div>
        <h1 tabIndex={-1}>{value.name}</h1>
        <p class="price large">{formatMoney(value.price)}</p>
        <p>{value.description}</p>
        <p class="sku">SKU {value.sku}</p>
        <p class={available > 0 ? 'stock' : 'stock out'}>
          {available > 0 ? `${available} in stock` : 'Out of stock'}
          {inCart > 0 && ` · ${inCart} in your cart`}
        </p>
        {available === 0 ? (
          <p class="alert" role="alert">
            This product is out of stock and cannot be added to the cart.
          </p>
        ) : room === 0 ? (
          <p class="notice">
            All {Math.min(available, MAX_QUANTITY)} you can order are in your{' '}
            <Link href="/cart">cart</Link>.
          </p>
        ) : (
          <form class="add-to-cart" onSubmit={add} noValidate>
            <div class="field">
              <label for="quantity">Quantity</label>
              <input
                id="quantity"
                type="number"
                min={1}
                max={room}
                value={quantity}
                aria-invalid={!valid}
                aria-describedby="quantity-hint"
                onInput={(event) => setQuantity(event.currentTarget.value)}
              />
              <p class={valid ? 'hint' : 'field-error'} id="quantity-hint">
                {valid
                  ? `Up to ${room}.`
                  : `Choose between 1 and ${room}: only ${available} in stock${inCart > 0 ? `, ${inCart} already in your cart` : ''}.`}
              </p>
            </div>
            <button class="button" type="submit" disabled={!valid}>
              Add to cart
            </button>
          </form>
        )}
        <p class="note" role="status">
          {note}
          {note && (
            <>
              {' '}
              <Link href="/cart">See your cart</Link>
            </>
          )}
        </p>
      </div>
    </article>
  )
}
