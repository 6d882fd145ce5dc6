import type { Consumer } from '@microshop/platform/events/consumer'
import type { OrdersContext } from '../domain/orders-context.ts'
import { onPaymentFailed } from './payment-failed.ts'
import { onPaymentRefunded } from './payment-refunded.ts'
import { onPaymentSucceeded } from './payment-succeeded.ts'
import { onProductChanged } from './product-changed.ts'
import { onStockReservationFailed } from './stock-reservation-failed.ts'
import { onStockReserved } from './stock-reserved.ts'

/** ordersSubscriptions are orders' consumers: the saga's answers and the catalogue's changes. */
export const ordersSubscriptions = (ctx: OrdersContext): Consumer[] => [
  onStockReserved(ctx),
  onStockReservationFailed(ctx),
  onPaymentSucceeded(ctx),
  onPaymentFailed(ctx),
  onPaymentRefunded(ctx),
  onProductChanged(ctx),
]
