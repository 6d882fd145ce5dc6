import Type from 'typebox'

/** PAYMENT_METHOD_TOKEN is the shape of a processor's payment method token, e.g. `pm_card_visa`. */
export const PAYMENT_METHOD_TOKEN = '^pm_[A-Za-z0-9_]{1,100}$'
const paymentMethodToken = new RegExp(PAYMENT_METHOD_TOKEN)

// CARD_NUMBER is 12 or more digits with nothing but separators (spaces, dashes, underscores, dots,
// slashes) between them: a raw card number (PAN, 12 to 19 digits) written any way, even inside
// something shaped like a token (`pm_4242_4242_4242_4242`). No processor token looks like that.
const CARD_NUMBER = /\d(?:[\s_./-]*\d){11,}/

/**
 * PaymentMethodSchema is the payment method of a checkout as the API documents it. The token
 * rule is checked by paymentMethodProblem rather than a schema pattern, so that a card number
 * gets its own answer (and is never echoed back).
 */
export const PaymentMethodSchema = Type.String({
  minLength: 1,
  maxLength: 200,
  description: `A payment method token (${PAYMENT_METHOD_TOKEN}) such as pm_card_visa; a card number is refused and never stored.`,
  examples: ['pm_card_visa'],
})

/**
 * paymentMethodProblem tells what is wrong with a payment method: `card_number` when it holds
 * what looks like a raw card number (the shop takes processor tokens only, which keeps card
 * numbers, and PCI DSS scope, out of it), `not_a_token` when it is not a token; undefined when
 * it is fine. Orders refuses such a checkout; payments fails such a payment without calling the
 * processor.
 */
export function paymentMethodProblem(value: string): 'card_number' | 'not_a_token' | undefined {
  if (CARD_NUMBER.test(value)) return 'card_number'
  if (!paymentMethodToken.test(value)) return 'not_a_token'
  return undefined
}
