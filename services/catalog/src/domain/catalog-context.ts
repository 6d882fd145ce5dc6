import type { CloudEvent } from '@microshop/contracts/envelope'
import type { Store } from '@microshop/platform/db/store'
import type { Logger } from '@microshop/platform/logger'

/** ProductRecord is a product as the catalogue keeps it: price and stock counts in columns. */
export interface ProductRecord {
  id: string
  sku: string
  name: string
  description: string
  priceAmount: number
  currency: string
  stockOnHand: number
  stockReserved: number
  version: number
  createdAt: Date
  updatedAt: Date
}

export type ProductFields = Pick<
  ProductRecord,
  'sku' | 'name' | 'description' | 'priceAmount' | 'currency' | 'stockOnHand'
>

export type ReservationStatus =
  'HELD' | 'COMMITTED' | 'RELEASED' | 'EXPIRED' | 'FAILED' | 'RESTOCKED'

/** Reservation is the stock held for one order (without lines: a tombstone, see migrations). */
export interface Reservation {
  id: string
  orderId: string
  status: ReservationStatus
  expiresAt: Date
}

export interface ReservedLine {
  productId: string
  quantity: number
}

/** StockChange says how each line's quantity moves each stock column: +1, -1 or 0 times it. */
export interface StockChange {
  onHand: -1 | 0 | 1
  reserved: -1 | 0 | 1
}

/** InboxEntry is the event a step handles, as its consumer records it in the inbox. */
export interface InboxEntry {
  consumer: string
  eventId: string
}

/**
 * ProductsClaim is what opening a reservation found: the event handled before, the order known
 * already (it has a reservation, or a tombstone), or the order's products, locked.
 */
export type ProductsClaim =
  | { outcome: 'handled_before' }
  | { outcome: 'order_known' }
  | { outcome: 'claimed'; products: ProductRecord[] }

/** ReservationTransition is one way a step changes a reservation, and the stock with it. */
export interface ReservationTransition {
  from: ReservationStatus
  to: ReservationStatus
  stock: StockChange
  /** announce has the step's announcement written when this transition is the one applied. */
  announce?: boolean
}

/** ReservationStep is a change to an order's reservation, as one statement applies it. */
export interface ReservationStep {
  orderId: string
  inbox: InboxEntry
  /** transitions are the changes by the reservation's status; a status not among them stays. */
  transitions: readonly ReservationTransition[]
  /**
   * tombstone is written when the order has no reservation yet (its placement is still on its
   * way). Without one, such a step is not applied, nor recorded as handled.
   */
  tombstone?: Reservation | undefined
  /**
   * announcement is the event of an announcing transition. It names the reservation, which the
   * statement finds: its `data.reservationId` is written as the id of the reservation changed.
   */
  announcement?: CloudEvent | undefined
}

/**
 * ReservationStepResult says what a step's statement did: `applied` a transition, found the
 * reservation `unchanged` in a status no transition starts from, wrote the `tombstoned` order's
 * tombstone, or, with nothing written and nothing recorded, found the event `handled_before`,
 * found `no_reservation`, or had the change refused because the stock is gone (`stock_short`).
 */
export type ReservationStepResult =
  | { outcome: 'applied'; from: ReservationStatus; to: ReservationStatus }
  | { outcome: 'unchanged'; status: ReservationStatus }
  | { outcome: 'tombstoned' | 'handled_before' | 'no_reservation' | 'stock_short' }

/** CatalogRepositories are the catalog's tables as its use cases need them (db/ implements them). */
export interface CatalogRepositories {
  products: {
    find(id: string): Promise<ProductRecord | undefined>
    /** list pages in sku order after `afterSku`; `query` matches sku, name or description. */
    list(options: {
      query?: string | undefined
      afterSku?: string | undefined
      limit: number
    }): Promise<ProductRecord[]>
    /** insert adds a product, or gives undefined when its sku is taken in any letter case. */
    insert(product: ProductFields & { id: string }): Promise<ProductRecord | undefined>
    skuTaken(sku: string, exceptId?: string): Promise<boolean>
    count(): Promise<number>
    /** lock reads a product FOR UPDATE, so an edit and a reservation never interleave. */
    lock(id: string): Promise<ProductRecord | undefined>
    save(id: string, changes: Partial<ProductFields>): Promise<ProductRecord>
  }
  reservations: {
    /**
     * claimProducts opens an order's reservation in one statement: it records `inbox`, and unless
     * the event was handled or the order is known already, locks the products in id order (so
     * reservations never deadlock) and reads them. The caller's transaction keeps the locks.
     */
    claimProducts(
      orderId: string,
      productIds: readonly string[],
      inbox: InboxEntry,
    ): Promise<ProductsClaim>
    /**
     * save writes a new reservation, its lines, the stock a HELD one holds, and `events` in one
     * statement. The products must be locked by this transaction (claimProducts); the table
     * refuses overselling all the same.
     */
    save(
      reservation: Reservation,
      lines: readonly ReservedLine[],
      events: readonly CloudEvent[],
    ): Promise<void>
    /**
     * applyStep changes an order's reservation in one statement that commits on its own: the
     * inbox record, the reservation's lock, the stock of its lines (products locked in id order),
     * its new status and its announcement, or the tombstone, all or nothing.
     */
    applyStep(step: ReservationStep): Promise<ReservationStepResult>
    /** lockExpired claims held reservations past their expiry; replicas skip each other's. */
    lockExpired(now: Date, limit: number): Promise<Reservation[]>
    /**
     * expire marks claimed reservations EXPIRED, gives their reserved units back and writes
     * `events`, in one statement.
     */
    expire(reservations: readonly Reservation[], events: readonly CloudEvent[]): Promise<void>
    /** countHeld counts the reservations holding stock now (the index of held ones answers it). */
    countHeld(): Promise<number>
  }
}

/** CatalogSettings are the catalogue's knobs, from config.ts. */
export interface CatalogSettings {
  /** reservationTtlSeconds is how long stock stays held for an order that is not confirmed. */
  reservationTtlSeconds: number
}

/** CatalogContext is what the catalog's use cases work with. */
export interface CatalogContext {
  store: Store<CatalogRepositories>
  settings: CatalogSettings
  logger: Logger
  now(): Date
}
