import { sql, type Kysely, type Selectable, type Transaction } from 'kysely'
import type {
  Order,
  OrderLine,
  OrderRecord,
  OrderStatus,
  SagaOrder,
  StatusChange,
} from '../domain/order.ts'
import type { OrderLinesTable, OrdersTable, OrdersTables } from './tables.ts'

type Db = Kysely<OrdersTables> | Transaction<OrdersTables>

/** OrderPosition is where a page of orders, newest first, ends: the cursor's key. */
export interface OrderPosition {
  createdAt: string
  id: string
}

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

/** ordersRepository stores orders and their lines; every read of an order comes with its lines. */
export function ordersRepository(db: Db) {
  return {
    /** insert adds an order with its lines in one statement. */
    async insert({ order, saga }: OrderRecord): Promise<void> {
      await db
        .with('newOrder', (db) =>
          db.insertInto('orders').values({
            id: order.id,
            userId: order.userId,
            status: order.status,
            sagaStep: saga.step,
            stepDeadline: saga.stepDeadline,
            totalAmount: order.total.amount,
            currency: order.total.currency,
            paymentMethod: saga.paymentMethod,
            paymentId: order.paymentId,
            reservationId: saga.reservationId,
            statusHistory: JSON.stringify(order.statusHistory),
            createdAt: new Date(order.createdAt),
            updatedAt: new Date(order.updatedAt),
          }),
        )
        .insertInto('orderLines')
        .values(
          order.items.map((line, lineNo) => ({
            orderId: order.id,
            lineNo,
            productId: line.productId,
            sku: line.sku,
            name: line.name,
            unitPriceAmount: line.unitPrice.amount,
            quantity: line.quantity,
          })),
        )
        .execute()
    },

    /** lockForSaga reads an order's saga state FOR UPDATE: its transitions happen one at a time. */
    async lockForSaga(id: string): Promise<SagaOrder | undefined> {
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
    async lockOverdue(now: Date, limit: number): Promise<SagaOrder[]> {
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
    async saveTransition(order: SagaOrder, change: StatusChange): Promise<void> {
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
        })
        .where('id', '=', order.id)
        .execute()
    },

    /** find reads one order; with `ownerId`, only if it belongs to that user. */
    async find(id: string, ownerId?: string): Promise<Order | undefined> {
      let select = db.selectFrom('orders').select(viewColumns).where('id', '=', id)
      if (ownerId !== undefined) select = select.where('userId', '=', ownerId)
      const row = await select.executeTakeFirst()
      if (!row) return undefined
      const [order] = await withLines(db, [row])
      return order
    },

    /** list pages through orders newest first, optionally one user's and one status's. */
    async list(options: {
      userId?: string | undefined
      status?: OrderStatus | undefined
      after?: OrderPosition | undefined
      limit: number
    }): Promise<Order[]> {
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

export type OrdersRepository = ReturnType<typeof ordersRepository>

type SagaRow = Pick<Selectable<OrdersTable>, (typeof sagaColumns)[number]>
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
