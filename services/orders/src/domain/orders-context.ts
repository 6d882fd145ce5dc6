import type { CloudEvent } from '@microshop/contracts/envelope'
import type { Store } from '@microshop/platform/db/store'
import type { Logger } from '@microshop/platform/logger'
import type { Position } from '@microshop/platform/pagination'
import type { CheckoutAdmission } from './checkout-admission.ts'
import type { SagaInput, SagaOutcome } from './checkout-saga.ts'
import type { Order, OrderRecord, OrderStatus, SagaOrder, StatusChange } from './order.ts'
import type { PendingHoldLimits } from './pending-holds.ts'
import type { CatalogProduct, FetchProduct } from './product-prices.ts'

/**
 * SagaObserver watches the checkout saga: `step` runs one step as a unit of its own (a span),
 * `stepped` reports what the step did, `placed` that a checkout started.
 */
export interface SagaObserver {
  step<T>(orderId: string, input: SagaInput['type'], work: () => Promise<T>): Promise<T>
  stepped(report: SagaStepReport): void
  placed(orderId: string): void
  /** replayed: a request with an idempotency key got the stored response again. */
  replayed(): void
}

/** SagaStepReport is one applied saga input: the order as the step found it, and the outcome. */
export interface SagaStepReport {
  input: SagaInput['type']
  /** before is the order as the step read it; undefined for a duplicate it did not read. */
  before: SagaOrder | undefined
  outcome: SagaOutcome | 'duplicate'
  now: Date
}

/** SagaState is an order's saga as a step reads it: the state, its version, and whether the step's event was handled. */
export interface SagaState {
  order: SagaOrder
  version: number
  /** handled is true when the consumer already handled this event (the inbox has it). */
  handled: boolean
}

/** SagaWrite is what one saga step writes, all or nothing, if the order is still at `expectedVersion`. */
export interface SagaWrite {
  orderId: string
  expectedVersion: number
  /** transition is the new state and its history entry; absent when the event changes nothing. */
  transition?: { order: SagaOrder; change: StatusChange } | undefined
  events: readonly CloudEvent[]
  inbox: { consumer: string; eventId: string }
}

/**
 * SagaStepResult says whether a step was written; when it was not, `current` is the order's saga
 * as the same statement found it (undefined when it could not tell), to decide again from.
 */
export type SagaStepResult = { applied: true } | { applied: false; current?: SagaState | undefined }

/** StoredResponse is the response first given to a request with an idempotency key. */
export interface StoredResponse {
  requestHash: string
  orderId: string
  status: number
  body: unknown
}

/** HeldLine is a line of one of a customer's PENDING orders: what they hold until it settles. */
export interface HeldLine {
  orderId: string
  productId: string
  quantity: number
}

/** OrdersRepositories are orders' tables as the use cases need them (db/ implements them). */
export interface OrdersRepositories {
  orders: {
    /**
     * insert adds an order with its lines and writes `events` to the outbox, in one statement,
     * which also reads what the customer's other PENDING orders hold: after their placement lock
     * (lockPlacementsOf, or a claimed key), every earlier placement of theirs.
     */
    insert(record: OrderRecord, events: readonly CloudEvent[]): Promise<HeldLine[]>
    /**
     * lockPlacementsOf takes the customer's placement lock for the rest of the transaction:
     * placements of one customer run one after the other.
     */
    lockPlacementsOf(userId: string): Promise<void>
    /** lockForSaga reads an order's saga state FOR UPDATE: its transitions happen one at a time. */
    lockForSaga(id: string): Promise<SagaOrder | undefined>
    /**
     * lockOverdue takes up to `limit` PENDING orders whose step deadline passed, skipping those
     * another transaction holds: sweepers on several replicas share the work without waiting.
     */
    lockOverdue(now: Date, limit: number): Promise<SagaOrder[]>
    /** saveTransition writes the saga's new state and appends `change` to the status history. */
    saveTransition(order: SagaOrder, change: StatusChange): Promise<void>
    /** sagaState reads an order's saga without a lock, with whether `inbox` handled its event. */
    sagaState(
      id: string,
      inbox: { consumer: string; eventId: string },
    ): Promise<SagaState | undefined>
    /**
     * recentSagaState is the order's saga as this process last wrote or read it, if it still
     * remembers (no query): a guess for a step to start from, which applySagaStep checks. Its
     * `handled` is false: whether the event was handled is what the write finds out.
     */
    recentSagaState(id: string): SagaState | undefined
    /**
     * applySagaStep writes a step in one statement: the transition (if any), its events and the
     * inbox record, only if the order is still at `expectedVersion` and the event unhandled.
     * Not applied when another step or delivery came first (or the guess was stale): then it
     * answers with the order's saga as it found it.
     */
    applySagaStep(write: SagaWrite): Promise<SagaStepResult>
    /** countPending counts the orders whose saga is in flight (PENDING), in every replica. */
    countPending(): Promise<number>
    /** find reads one order; with `ownerId`, only if it belongs to that user. */
    find(id: string, ownerId?: string): Promise<Order | undefined>
    /** list pages through orders newest first, optionally one user's and one status's. */
    list(options: {
      userId?: string | undefined
      status?: OrderStatus | undefined
      after?: Position | undefined
      limit: number
    }): Promise<Order[]>
  }
  /** catalogProducts is orders' read model of the catalogue. */
  catalogProducts: {
    findMany(ids: readonly string[]): Promise<CatalogProduct[]>
    /** addMissing stores fetched products that are not there yet; an event's copy wins. */
    addMissing(products: readonly CatalogProduct[]): Promise<void>
    /** applyChange stores a product unless the stored copy is as new or newer; true when it did. */
    applyChange(product: CatalogProduct): Promise<boolean>
  }
  /** idempotencyKeys remembers responses per (user, key). */
  idempotencyKeys: {
    find(userId: string, key: string): Promise<StoredResponse | undefined>
    /**
     * claim records the response for a key, in the caller's transaction, unless another request
     * has it: `claimed`, `taken` (a committed response exists) or `in_flight` (another request
     * with the key is still running). Unless `in_flight`, it has also taken the customer's
     * placement lock, as orders.lockPlacementsOf does.
     */
    claim(
      userId: string,
      key: string,
      response: StoredResponse,
    ): Promise<'claimed' | 'taken' | 'in_flight'>
    /** prune forgets up to `limit` keys recorded before `before`; returns how many. */
    prune(before: Date, limit: number): Promise<number>
  }
}

/** OrdersSettings are the saga's and the API's knobs, from config.ts. */
export interface OrdersSettings {
  /** stockStepTimeoutMs is how long a new order waits for the catalog's answer. */
  stockStepTimeoutMs: number
  /** paymentStepTimeoutMs is how long an order with reserved stock waits for the payment's outcome. */
  paymentStepTimeoutMs: number
  /** idempotencyKeyRetentionMs is how long a key's response is replayed; at least a day. */
  idempotencyKeyRetentionMs: number
  /** pendingHolds bounds what one customer may hold in PENDING orders. */
  pendingHolds: PendingHoldLimits
}

/**
 * OrdersContext is what the order use cases work with: the service's store, the catalog for
 * products the read model has not seen, the settings, a logger, and the clock.
 */
export interface OrdersContext {
  store: Store<OrdersRepositories>
  fetchProduct: FetchProduct
  /** admission bounds the checkouts in flight: past saturation new ones are refused at once. */
  admission: CheckoutAdmission
  /** saga watches the saga's steps: their spans and metrics (observability/saga-observer.ts). */
  saga: SagaObserver
  settings: OrdersSettings
  logger: Logger
  now(): Date
}
