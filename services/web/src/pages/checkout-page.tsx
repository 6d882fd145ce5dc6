import { useRef, useState } from 'preact/hooks'
import { api, data } from '../api/client.ts'
import { ApiError } from '../api/problem.ts'
import { cart, emptyCart } from '../cart/cart.ts'
import { useCartProducts } from '../cart/use-cart-products.ts'
import { CheckoutAttempt } from '../checkout-key.ts'
import { Link } from '../components/link.tsx'
import { Loading, ProblemAlert } from '../components/problem-alert.tsx'
import { formatMoney } from '../money.ts'
import { TEST_CARDS } from '../order-words.ts'
import { navigate } from '../router.ts'

// IN_FLIGHT_RETRIES: a 409 means the same key's first request is still being handled; asking
// again shortly gets its order.
const IN_FLIGHT_RETRIES = 5

/**
 * CheckoutPage places the order: the cart's lines, one of the simulated processor's test cards,
 * and one Idempotency-Key per attempt, so a double click or a resent request makes one order.
 */
export function CheckoutPage() {
  const { products, reload, lines, total } = useCartProducts()
  const [method, setMethod] = useState('pm_card_visa')
  const [placing, setPlacing] = useState(false)
  const [error, setError] = useState<unknown>()
  const attempt = useRef(new CheckoutAttempt())
  const inFlight = useRef(false)

  const placeOrder = async (event: Event) => {
    event.preventDefault()
    // A second click before the page re-renders lands here too: it waits for the first.
    if (inFlight.current) return
    inFlight.current = true
    setPlacing(true)
    setError(undefined)
    const body = {
      items: cart.value.map(({ productId, quantity }) => ({ productId, quantity })),
      paymentMethod: method,
    }
    const key = attempt.current.keyFor(body)
    try {
      for (let retry = 0; ; retry++) {
        try {
          const order = await data(
            api.POST('/api/orders', { body, params: { header: { 'Idempotency-Key': key } } }),
          )
          attempt.current.done()
          emptyCart()
          navigate(`/orders/${order.id}`)
          return
        } catch (failure) {
          if (!(failure instanceof ApiError) || failure.status !== 409) throw failure
          if (retry >= IN_FLIGHT_RETRIES) throw failure
          await new Promise((resolve) => setTimeout(resolve, 300 * (retry + 1)))
        }
      }
    } catch (failure) {
      setError(failure)
    } finally {
      inFlight.current = false
      setPlacing(false)
    }
  }

  if (cart.value.length === 0) {
    return (
      <section>
        <h1 tabIndex={-1}>Checkout</h1>
        <p>
          Your cart is empty. <Link href="/">Browse the products</Link>
        </p>
      </section>
    )
  }
  const anyShort = lines.some((line) => line.short)
  return (
    <section>
      <h1 tabIndex={-1}>Checkout</h1>
      {products.state === 'loading' && <Loading what="your order" />}
      {products.state === 'failed' && <ProblemAlert error={products.error} onRetry={reload} />}
      {products.state === 'ready' && (
        <form class="checkout" onSubmit={(event) => void placeOrder(event)} noValidate>
          <h2>Your order</h2>
          <ul class="lines summary" aria-label="Order lines">
            {lines.map((line) => (
              <li class="line" key={line.productId}>
                <span class="line-name">
                  {line.product?.name ?? 'A product that is no longer sold'} × {line.quantity}
                  {line.short && (
                    <span class="field-error">
                      {line.product && line.product.stock.available > 0
                        ? ` Only ${line.product.stock.available} in stock.`
                        : ' Out of stock.'}
                    </span>
                  )}
                </span>
                <span class="line-total">{line.lineTotal && formatMoney(line.lineTotal)}</span>
              </li>
            ))}
          </ul>
          <p class="total">
            Total <strong>{formatMoney(total)}</strong>
          </p>
          <fieldset class="cards">
            <legend>Payment: choose a test card</legend>
            <p class="hint">
              This shop takes no real cards: its simulated processor answers as the card says.
            </p>
            {TEST_CARDS.map((card) => (
              <label class="card-choice" key={card.method}>
                <input
                  type="radio"
                  name="paymentMethod"
                  value={card.method}
                  checked={method === card.method}
                  onChange={() => setMethod(card.method)}
                />
                <span>
                  <strong>{card.label}</strong> <span class="hint">{card.outcome}</span>
                </span>
              </label>
            ))}
          </fieldset>
          {error !== undefined && <ProblemAlert error={error} />}
          {anyShort && (
            <p class="alert" role="alert">
              Some items are out of stock in the quantity you chose: change them in your{' '}
              <Link href="/cart">cart</Link>.
            </p>
          )}
          <button class="button primary" type="submit" disabled={placing || anyShort}>
            {placing ? 'Placing your order…' : `Place order (${formatMoney(total)})`}
          </button>
        </form>
      )}
    </section>
  )
}
