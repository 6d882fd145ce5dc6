import type { OrderStatus, Payment } from './api/resources.ts'

/** REASONS are the saga's reasons (order history, payment failures) in a shopper's words. */
const REASONS: Record<string, string> = {
  placed: 'Order placed',
  stock_reserved: 'Items reserved for you',
  payment_succeeded: 'Payment received',
  payment_refunded: 'Payment refunded',
  payment_declined: 'The card was declined',
  card_declined: 'The card was declined',
  insufficient_funds: 'The card has insufficient funds',
  expired_card: 'The card has expired',
  processing_error: 'The card processor kept failing; nothing was charged',
  invalid_payment_method: 'The payment method was not accepted',
  out_of_stock: 'Some items are out of stock',
  unknown_product: 'An item is no longer sold',
  timeout: 'The order took too long to process',
  cancelled_by_customer: 'Cancelled by you',
  cancelled_by_admin: 'Cancelled by the shop',
}

/** reasonInWords explains a reason code; an unknown one is shown readable rather than hidden. */
export function reasonInWords(reason: string | null): string {
  if (reason === null) return ''
  return REASONS[reason] ?? reason.replaceAll('_', ' ')
}

export const STATUS_WORDS: Record<OrderStatus, string> = {
  PENDING: 'Pending',
  CONFIRMED: 'Confirmed',
  REJECTED: 'Rejected',
  CANCELLED: 'Cancelled',
}

export const PAYMENT_WORDS: Record<Payment['status'], string> = {
  PENDING: 'Pending',
  SUCCEEDED: 'Paid',
  FAILED: 'Failed',
  REFUNDED: 'Refunded',
}

/** TEST_CARDS are the simulated processor's payment methods, as Stripe names its test cards. */
export const TEST_CARDS: { method: string; label: string; outcome: string }[] = [
  { method: 'pm_card_visa', label: 'Visa', outcome: 'succeeds' },
  { method: 'pm_card_mastercard', label: 'Mastercard', outcome: 'succeeds' },
  { method: 'pm_card_chargeDeclined', label: 'Declined card', outcome: 'is declined' },
  {
    method: 'pm_card_chargeDeclinedInsufficientFunds',
    label: 'Insufficient funds',
    outcome: 'is declined for insufficient funds',
  },
  {
    method: 'pm_card_chargeDeclinedExpiredCard',
    label: 'Expired card',
    outcome: 'is declined as expired',
  },
  {
    method: 'pm_card_chargeDeclinedProcessingError',
    label: 'Processing error',
    outcome: 'fails at the processor, is retried, then given up',
  },
]
