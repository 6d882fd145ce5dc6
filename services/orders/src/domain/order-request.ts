import { createHash } from 'node:crypto'
import { paymentMethodProblem } from '@microshop/contracts/payment-method'
import { invalid, type FieldError } from '@microshop/platform/errors'

/** MAX_LINES and MAX_QUANTITY bound one order: a cart, not a wholesale import. */
export const MAX_LINES = 50
export const MAX_QUANTITY = 100

/** OrderRequest is the body of POST /orders, once its shape passed the HTTP schema. */
export interface OrderRequest {
  items: { productId: string; quantity: number }[]
  paymentMethod: string
}

/** RequestedLine is one line of a request, with its index in the request for error pointers. */
export interface RequestedLine {
  index: number
  productId: string
  quantity: number
}

/**
 * checkOrderRequest applies the rules the schema cannot: each product once per order (the
 * quantity says how many), and a payment method that is a token. A card number is refused with
 * its own message and never echoed: the shop must not receive, store or log one.
 */
export function checkOrderRequest(request: OrderRequest): RequestedLine[] {
  const errors: FieldError[] = []
  const firstIndex = new Map<string, number>()
  request.items.forEach((item, index) => {
    const productId = item.productId.toLowerCase()
    const first = firstIndex.get(productId)
    if (first === undefined) firstIndex.set(productId, index)
    else {
      errors.push({
        pointer: `/body/items/${index}/productId`,
        detail: `repeats the product of line ${first}; put the whole quantity on one line`,
      })
    }
  })
  const paymentMethod = paymentMethodProblem(request.paymentMethod)
  if (paymentMethod === 'card_number') {
    errors.push({
      pointer: '/body/paymentMethod',
      detail:
        'looks like a card number; send a payment method token (e.g. pm_card_visa), never card details',
    })
  } else if (paymentMethod === 'not_a_token') {
    errors.push({
      pointer: '/body/paymentMethod',
      detail: 'must be a payment method token such as pm_card_visa',
    })
  }
  if (errors.length > 0) throw invalid('The order is not valid.', errors)
  return request.items.map((item, index) => ({
    index,
    productId: item.productId.toLowerCase(),
    quantity: item.quantity,
  }))
}

/**
 * requestHash fingerprints a request body for its idempotency key: SHA-256 of its canonical JSON
 * (object keys sorted at every level), so the same body sent with keys in another order matches.
 */
export function requestHash(body: unknown): string {
  return createHash('sha256').update(canonicalJson(body)).digest('hex')
}

export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value)
      .filter(([, member]) => member !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([key, member]) => `${JSON.stringify(key)}:${canonicalJson(member)}`)
    return `{${entries.join(',')}}`
  }
  return JSON.stringify(value) ?? 'null'
}
