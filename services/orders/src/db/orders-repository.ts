import { sql, type Selectable } from 'kysely'
import type { Executor, OutboxRecorder } from '@microshop/platform/db/store'
import { isUniqueViolation, notInInbox } from '@microshop/platform/events/inbox'
import {
  outboxInsert,
  PUBLISHED_POSITIONS,
  publishedEntries,
} from '@microshop/platform/events/outbox'
import type { Order, OrderLine, SagaOrder } from '../domain/order.ts'
import type { HeldLine, OrdersRepositories } from '../domain/orders-context.ts'
import { customerPlacementLock } from './placement-lock.ts'
import type { RecentSagas } from './recent-sagas.ts'
import type { OrderLinesTable, OrdersTable, OrdersTables } from './tables.ts'

type Db = Executor<OrdersTables>

const sagaColumns = [
  'id',
  'userId',
  'status',
  'sagaStep',
  'stepDeadline',
  'totalAmount',
  'currency',
  'paymentMethod',
  'paymentId',
  'reservationId',
  'createdAt',
  'updatedAt',
] as const

const viewColumns = [
  'id',
  'userId',
  'status',
  'totalAmount',
  'currency',
  'paymentId',
  'statusHistory',
  'createdAt',
  'updatedAt',
] as const

/**
 * ordersRepository stores orders and their lines; every read of an order comes with its lines.
 * What it writes and reads of a saga it remembers in `recent`, for the next step to start from.
 */
export function ordersRepository(
  db: Db,
  outbox: OutboxRecorder,
  recent: RecentSagas,
): OrdersRepositories['orders'] {
  return {
    /**
     * insert adds an order with its lines and writes `events` to the outbox, in one statement,
     * which also reads the lines of the customer's other PENDING orders: as they were when it
     * began, which, after their placement lock, is every earlier placement of theirs.
     */
    async insert({ order, saga }, events) {
      const lines = order.items.map(
        (line, lineNo) =>
          sql`(${order.id}::uuid, ${lineNo}::smallint, ${line.productId}::uuid, ${line.sku}::text,
               ${line.name}::text, ${line.unitPrice.amount}::bigint, ${line.quantity}::integer)`,
      )
      const { rows } = await sql<{ positions: (string | number)[]; held: HeldLine[] }>`
        with new_order as (
          insert into orders (id, user_id, status, saga_step, step_deadline, total_amount, currency,
                              payment_method, payment_id, reservation_id, status_history,
                              created_at, updated_at)
          values (${order.id}::uuid, ${order.userId}::uuid, ${order.status}::text,
                  ${saga.step}::text, ${saga.stepDeadline}::timestamptz,
                  ${order.total.amount}::bigint, ${order.total.currency}::text,
                  ${saga.paymentMethod}::text, ${order.paymentId}::uuid,
                  ${saga.reservationId}::uuid, ${JSON.stringify(order.statusHistory)}::jsonb,
                  ${new Date(order.createdAt)}::timestamptz, ${new Date(order.updatedAt)}::timestamptz)
        ),
        new_lines as (
          insert into order_lines (order_id, line_no, product_id, sku, name, unit_price_amount,
                                   quantity)
          values ${sql.join(lines)}
        ),
        published as (${outboxInsert(events)})
        select ${PUBLISHED_POSITIONS} as positions,
          (select coalesce(jsonb_agg(jsonb_build_object(
                    'orderId', o.id, 'productId', l.product_id, 'quantity', l.quantity)), '[]')
           from orders o join order_lines l on l.order_id = o.id
           where o.user_id = ${order.userId}::uuid and o.status = 'PENDING') as held`.execute(db)
      outbox.record(publishedEntries(events, rows[0]?.positions ?? []))
      recent.remember(saga, 0)
      return rows[0]?.held ?? []
    },

    /** lockPlacementsOf takes the customer's placement lock for the rest of the transaction. */
    async lockPlacementsOf(userId) {
      await sql`select ${customerPlacementLock(userId)}`.execute(db)
    },

    /** lockForSaga reads an order's saga state FOR UPDATE: its transitions happen one at a time. */
    async lockForSaga(id) {
      const row = await db
        .selectFrom('orders')
        .select(sagaColumns)
        .where('id', '=', id)
        .forUpdate()
        .executeTakeFirst()
      return row && sagaOrderFromRow(row)
    },

    /**
     * lockOverdue takes up to `limit` PENDING orders whose step deadline passed, skipping those
     * another transaction holds: sweepers on several replicas share the work without waiting.
     */
    async lockOverdue(now, limit) {
      const rows = await db
        .selectFrom('orders')
        .select(sagaColumns)
        .where('status', '=', 'PENDING')
        .where('stepDeadline', '<=', now)
        .orderBy('stepDeadline')
        .limit(limit)
        .forUpdate()
        .skipLocked()
        .execute()
      return rows.map(sagaOrderFromRow)
    },

    /** saveTransition writes the saga's new state and appends `change` to the status history. */
    async saveTransition(order, change) {
      await db
        .updateTable('orders')
        .set({
          status: order.status,
          sagaStep: order.step,
          stepDeadline: order.stepDeadline,
          paymentId: order.paymentId,
          reservationId: order.reservationId,
          statusHistory: sql<string>`status_history || ${JSON.stringify([change])}::jsonb`,
          updatedAt: new Date(change.at),
          version: sql<number>`version + 1`,
        })
        .where('id', '=', order.id)
        .execute()
      // Its new version is not read back: the next step reads the order.
      recent.forget(order.id)
    },

    recentSagaState: (id) => recent.get(id),

    async sagaState(id, inbox) {
      const row = await db
        .selectFrom('orders')
        .select([
          ...sagaColumns,
          'version',
          sql<boolean>`exists (select 1 from inbox
            where consumer = ${inbox.consumer} and event_id = ${inbox.eventId})`.as('handled'),
        ])
        .where('id', '=', id)
        .executeTakeFirst()
      if (!row) return undefined
      const order = sagaOrderFromRow(row)
      recent.remember(order, row.version)
      return { order, version: row.version, handled: row.handled }
    },

    // applySagaStep is one statement, so all of it commits or none: the guarded change (or, for
    // an event that changes nothing, a share lock on the unchanged version), the inbox record
    // from it (a plain insert: should a racing delivery have recorded the event, the whole
    // statement fails instead of changing the order twice), and the events from that. It also
    // reads the order as the statement found it, which the caller decides again from when the
    // guard did not hold.
    async applySagaStep(write) {
      const { orderId, expectedVersion, transition, events, inbox } = write
      const unhandled = notInInbox(inbox.consumer, inbox.eventId)
      const guarded = transition
        ? sql`update orders set
              status = ${transition.order.status},
              saga_step = ${transition.order.step},
              step_deadline = ${transition.order.stepDeadline},
              payment_id = ${transition.order.paymentId},
              reservation_id = ${transition.order.reservationId},
              status_history = status_history || ${JSON.stringify([transition.change])}::jsonb,
              updated_at = ${new Date(transition.change.at)},
              version = version + 1
            where id = ${orderId} and version = ${expectedVersion} and ${unhandled}
            returning id`
        : sql`select id from orders
            where id = ${orderId} and version = ${expectedVersion} and ${unhandled}
            for share`
      const published = outboxInsert(events, sql`exists (select 1 from handled)`)
      let row: StepRow | undefined
      try {
        ;({
          rows: [row],
        } = await sql<StepRow>`
          with guarded as (${guarded}),
          handled as (
            insert into inbox (consumer, event_id)
            select ${inbox.consumer}, ${inbox.eventId}::uuid from guarded
            returning 1
          ),
          published as (${published}),
          found as (
            select ${sql.join(sagaColumns.map((column) => sql.ref(column)))}, version,
              not ${unhandled} as handled_before
            from orders where id = ${orderId}
          )
          select (select count(*)::int from handled) as handled,
                 ${PUBLISHED_POSITIONS} as positions,
                 found.*
          from (select 1) as one left join found on true`.execute(db))
      } catch (error) {
        // A delivery racing this one recorded the event first: it did the step.
        if (isUniqueViolation(error)) return { applied: false }
        throw error
      }
      if (row?.handled !== 1) {
        if (row?.id == null) return { applied: false }
        const order = sagaOrderFromRow(row)
        recent.remember(order, row.version)
        return {
          applied: false,
          current: { order, version: row.version, handled: row.handledBefore },
        }
      }
      if (transition) {
        // As the statement wrote it: the step began when the change happened (updated_at).
        const stepStartedAt = new Date(transition.change.at)
        recent.remember({ ...transition.order, stepStartedAt }, expectedVersion + 1)
      }
      outbox.record(publishedEntries(events, row.positions))
      return { applied: true }
    },

    async countPending() {
      const row = await db
        .selectFrom('orders')
        .select((eb) => eb.fn.countAll<number>().as('count'))
        .where('status', '=', 'PENDING')
        .executeTakeFirstOrThrow()
      return Number(row.count)
    },

    /** find reads one order; with `ownerId`, only if it belongs to that user. */
    async find(id, ownerId) {
      let select = db.selectFrom('orders').select(viewColumns).where('id', '=', id)
      if (ownerId !== undefined) select = select.where('userId', '=', ownerId)
      const row = await select.executeTakeFirst()
      if (!row) return undefined
      const [order] = await withLines(db, [row])
      return order
    },

    /** list pages through orders newest first, optionally one user's and one status's. */
    async list(options) {
      let select = db.selectFrom('orders').select(viewColumns)
      if (options.userId !== undefined) select = select.where('userId', '=', options.userId)
      if (options.status !== undefined) select = select.where('status', '=', options.status)
      if (options.after !== undefined) {
        const { createdAt, id } = options.after
        select = select.where((eb) =>
          eb(eb.refTuple('createdAt', 'id'), '<', eb.tuple(new Date(createdAt), id)),
        )
      }
      const rows = await select
        .orderBy('createdAt', 'desc')
        .orderBy('id', 'desc')
        .limit(options.limit)
        .execute()
      return withLines(db, rows)
    },
  }
}

type SagaRow = Pick<Selectable<OrdersTable>, (typeof sagaColumns)[number]>
// A step's statement answers with what it wrote and, should it not have, the order as it found it.
type StepRow = SagaRow & {
  handled: number
  positions: (string | number)[]
  version: number
  handledBefore: boolean
}
type ViewRow = Pick<Selectable<OrdersTable>, (typeof viewColumns)[number]>

function sagaOrderFromRow(row: SagaRow): SagaOrder {
  return {
    id: row.id,
    userId: row.userId,
    status: row.status,
    step: row.sagaStep,
    stepDeadline: row.stepDeadline,
    total: { amount: row.totalAmount, currency: row.currency },
    paymentMethod: row.paymentMethod,
    paymentId: row.paymentId,
    reservationId: row.reservationId,
    placedAt: row.createdAt,
    stepStartedAt: row.updatedAt,
  }
}

/** withLines loads the lines of all `rows` in one query and puts each order together. */
async function withLines(db: Db, rows: ViewRow[]): Promise<Order[]> {
  if (rows.length === 0) return []
  const lines = await db
    .selectFrom('orderLines')
    .selectAll()
    .where(
      'orderId',
      'in',
      rows.map((row) => row.id),
    )
    .orderBy('orderId')
    .orderBy('lineNo')
    .execute()
  const linesByOrder = new Map<string, Selectable<OrderLinesTable>[]>()
  for (const line of lines) {
    const ofOrder = linesByOrder.get(line.orderId)
    if (ofOrder) ofOrder.push(line)
    else linesByOrder.set(line.orderId, [line])
  }
  return rows.map((row) => ({
    id: row.id,
    userId: row.userId,
    status: row.status,
    items: (linesByOrder.get(row.id) ?? []).map((line) => lineFromRow(line, row.currency)),
    total: { amount: row.totalAmount, currency: row.currency },
    paymentId: row.paymentId,
    statusHistory: row.statusHistory,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  }))
}

function lineFromRow(line: Selectable<OrderLinesTable>, currency: string): OrderLine {
  return {
    productId: line.productId,
    sku: line.sku,
    name: line.name,
    unitPrice: { amount: line.unitPriceAmount, currency },
    quantity: line.quantity,
    lineTotal: { amount: line.unitPriceAmount * line.quantity, currency },
  }
}
