// CARD_NUMBER is 12 or more digits in a row, with any spaces or dashes between them: card
// numbers (PANs) have 12 to 19 digits, and no processor token looks like that.
const CARD_NUMBER = /\d(?:[\s-]*\d){11,}/

/**
 * containsCardNumber tells whether a payment method holds what looks like a raw card number.
 * Such a value is refused without being stored or logged: the shop takes processor tokens only,
 * which keeps card numbers (and PCI DSS scope) out of it.
 */
export function containsCardNumber(paymentMethod: string): boolean {
  return CARD_NUMBER.test(paymentMethod)
}
