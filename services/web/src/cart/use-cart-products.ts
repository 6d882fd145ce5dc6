import { api, data } from '../api/client.ts'
import { ApiError } from '../api/problem.ts'
import type { Product } from '../api/resources.ts'
import { useResource } from '../components/use-resource.ts'
import { sumMoney, timesQuantity, type Money } from '../money.ts'
import { cart } from './cart.ts'
import type { CartLine } from './cart-lines.ts'

/** PricedLine is a cart line with its product as the catalogue says now (null: no longer sold). */
export interface PricedLine extends CartLine {
  product: Product | null
  lineTotal: Money | undefined
  /** short is true when the line asks for more than is available. */
  short: boolean
}

/**
 * useCartProducts reads every product in the cart from the catalogue, for current prices and
 * stock: the cart stores only ids and quantities, never prices.
 */
export function useCartProducts() {
  const ids = cart.value.map((line) => line.productId).sort()
  const [products, reload] = useResource(
    async (signal) => {
      const found = await Promise.all(
        ids.map((id) =>
          data(api.GET('/api/products/{id}', { params: { path: { id } }, signal })).catch(
            (error: unknown) => {
              if (error instanceof ApiError && (error.status === 404 || error.status === 400)) {
                return null
              }
              throw error
            },
          ),
        ),
      )
      return new Map(ids.map((id, index) => [id, found[index] ?? null]))
    },
    [ids.join(',')],
  )
  const lines: PricedLine[] =
    products.state === 'ready'
      ? cart.value.map((line) => {
          const product = products.value.get(line.productId) ?? null
          return {
            ...line,
            product,
            lineTotal: product ? timesQuantity(product.price, line.quantity) : undefined,
            short: product === null || line.quantity > product.stock.available,
          }
        })
      : []
  const priced = lines.flatMap((line) => (line.lineTotal ? [line.lineTotal] : []))
  const total = sumMoney(priced, priced[0]?.currency ?? 'USD')
  return { products, reload, lines, total }
}
