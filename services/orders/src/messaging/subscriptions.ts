import type { EventBus } from '@microshop/platform/events/event-bus'
import type { OrdersContext } from '../domain/orders-context.ts'
import { onPaymentFailed } from './payment-failed.ts'
import { onPaymentRefunded } from './payment-refunded.ts'
import { onPaymentSucceeded } from './payment-succeeded.ts'
import { onProductChanged } from './product-changed.ts'
import { onStockReservationFailed } from './stock-reservation-failed.ts'
import { onStockReserved } from './stock-reserved.ts'

/** subscribeConsumers starts every consumer of orders: the saga's answers and the catalogue's changes. */
export async function subscribeConsumers(bus: EventBus, ctx: OrdersContext): Promise<void> {
  await Promise.all([
    bus.subscribe(onStockReserved(ctx)),
    bus.subscribe(onStockReservationFailed(ctx)),
    bus.subscribe(onPaymentSucceeded(ctx)),
    bus.subscribe(onPaymentFailed(ctx)),
    bus.subscribe(onPaymentRefunded(ctx)),
    bus.subscribe(onProductChanged(ctx)),
  ])
}
