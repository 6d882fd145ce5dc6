import { removeFromCart, setCartQuantity, cart } from '../cart/cart.ts'
import { MAX_QUANTITY } from '../cart/cart-lines.ts'
import { useCartProducts, type PricedLine } from '../cart/use-cart-products.ts'
import { Link } from '../components/link.tsx'
import { Loading, ProblemAlert } from '../components/problem-alert.tsx'
import { formatMoney } from '../money.ts'

/** CartPage shows the cart with today's prices and stock: quantities, line totals and the total. */
export function CartPage() {
  const { products, reload, lines, total } = useCartProducts()
  const anyShort = lines.some((line) => line.short)
  return (
    <section>
      <h1 tabIndex={-1}>Your cart</h1>
      {cart.value.length === 0 ? (
        <p>
          Your cart is empty. <Link href="/">Browse the products</Link>
        </p>
      ) : products.state === 'loading' ? (
        <Loading what="your cart" />
      ) : products.state === 'failed' ? (
        <ProblemAlert error={products.error} onRetry={reload} />
      ) : (
        <>
          <ul class="lines" aria-label="Cart lines">
            {lines.map((line) => (
              <CartLineRow key={line.productId} line={line} />
            ))}
          </ul>
          <p class="total">
            Total <strong>{formatMoney(total)}</strong>
          </p>
          {anyShort && (
            <p class="alert" role="alert">
              Some items are out of stock in the quantity you chose. Lower the quantity or remove
              them to check out.
            </p>
          )}
          <div class="actions">
            <Link href="/">Keep shopping</Link>
            {anyShort ? (
              <span class="button disabled" aria-disabled="true">
                Check out
              </span>
            ) : (
              <Link class="button" href="/checkout">
                Check out
              </Link>
            )}
          </div>
        </>
      )}
    </section>
  )
}

function CartLineRow({ line }: { line: PricedLine }) {
  const id = `quantity-${line.productId}`
  if (line.product === null) {
    return (
      <li class="line">
        <span class="line-name">A product that is no longer sold</span>
        <button
          type="button"
          class="button secondary"
          onClick={() => removeFromCart(line.productId)}
        >
          Remove
        </button>
      </li>
    )
  }
  const { product } = line
  const available = product.stock.available
  return (
    <li class="line">
      <div class="line-name">
        <Link href={`/products/${product.id}`}>{product.name}</Link>
        <span class="unit-price">{formatMoney(product.price)} each</span>
        {line.short && (
          <span class="field-error" id={`${id}-error`}>
            {available === 0
              ? 'Out of stock.'
              : `Out of stock in this quantity: only ${available} available.`}
          </span>
        )}
      </div>
      <div class="line-quantity">
        <label for={id}>Quantity</label>
        <input
          id={id}
          type="number"
          min={1}
          max={Math.min(MAX_QUANTITY, Math.max(available, 1))}
          value={line.quantity}
          aria-invalid={line.short}
          aria-describedby={line.short ? `${id}-error` : undefined}
          onChange={(event) => {
            const quantity = Number(event.currentTarget.value)
            if (Number.isInteger(quantity) && quantity >= 1) setCartQuantity(product.id, quantity)
          }}
        />
      </div>
      <span class="line-total">{line.lineTotal && formatMoney(line.lineTotal)}</span>
      <button
        type="button"
        class="button secondary"
        aria-label={`Remove ${product.name}`}
        onClick={() => removeFromCart(product.id)}
      >
        Remove
      </button>
    </li>
  )
}
