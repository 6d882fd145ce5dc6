import type { Consumer } from '@microshop/platform/events/consumer'
import type { CatalogContext } from '../domain/catalog-context.ts'
import { onOrderCancelled } from './order-cancelled.ts'
import { onOrderConfirmed } from './order-confirmed.ts'
import { onOrderPlaced } from './order-placed.ts'
import { onOrderRejected } from './order-rejected.ts'

/** catalogSubscriptions are the catalog's consumers: the saga's stock steps, fed by orders. */
export const catalogSubscriptions = (ctx: CatalogContext): Consumer[] => [
  onOrderPlaced(ctx),
  onOrderConfirmed(ctx),
  onOrderRejected(ctx),
  onOrderCancelled(ctx),
]
