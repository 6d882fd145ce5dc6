import { sql, type RawBuilder } from 'kysely'
import type { CloudEvent } from '@microshop/contracts/envelope'
import type { Executor, OutboxRecorder } from '@microshop/platform/db/store'
import { isUniqueViolation, notInInbox } from '@microshop/platform/events/inbox'
import {
  outboxInsert,
  PUBLISHED_POSITIONS,
  publishedEntries,
} from '@microshop/platform/events/outbox'
import type { Payment } from '../domain/payment.ts'
import type {
  HandledEvent,
  PaymentsRepositories,
  PaymentState,
} from '../domain/payments-context.ts'
import type { PaymentRow, PaymentsTables } from './tables.ts'

type Repository = PaymentsRepositories['payments']

// The columns a payment is read with, named rather than `*`: a prepared statement keeps its
// result's shape, and a column added by a later migration would break it on a live connection.
const PAYMENT_SELECTION = [
  'id',
  'orderId',
  'userId',
  'amount',
  'currency',
  'paymentMethod',
  'status',
  'failureReason',
  'chargeOutstanding',
  'chargeId',
  'refundId',
  'orderClosedAt',
  'createdAt',
  'updatedAt',
  'version',
] as const

const PAYMENT_COLUMNS = PAYMENT_SELECTION.map((column) =>
  column.replace(/[A-Z]/g, (letter) => `_${letter.toLowerCase()}`),
)

// paymentColumns lists them for raw SQL (constant names, never input).
const paymentColumns = () => sql.raw(PAYMENT_COLUMNS.join(', '))

// paymentOfOrder reads an order's payment with its closure counted even when it is not written
// on the payment: a closure and a payment request that race each other may each commit unseen by
// the other's statement, and the payment's next step must still see the order closed.
const paymentOfOrder = (orderId: string) => sql`
  select ${sql.raw(
    PAYMENT_COLUMNS.map((column) =>
      column === 'order_closed_at'
        ? 'coalesce(p.order_closed_at, c.closed_at) as order_closed_at'
        : `p.${column}`,
    ).join(', '),
  )}
  from payments p left join order_closures c on c.order_id = p.order_id
  where p.order_id = ${orderId}::uuid`

function paymentFromRow(row: PaymentRow): Payment {
  return {
    id: row.id,
    orderId: row.orderId,
    userId: row.userId,
    amount: { amount: row.amount, currency: row.currency },
    status: row.status,
    failureReason: row.failureReason,
    paymentMethod: row.paymentMethod,
    chargeOutstanding: row.chargeOutstanding,
    chargeId: row.chargeId,
    refundId: row.refundId,
    orderClosedAt: row.orderClosedAt,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
  }
}

// A statement that finds a payment answers with its columns, all null when there is none.
type FoundRow = { [K in keyof PaymentRow]: PaymentRow[K] | null }

function stateFromRow(row: FoundRow | undefined): PaymentState | undefined {
  if (!row || row.id === null) return undefined
  return { payment: paymentFromRow(row as PaymentRow), version: row.version as number }
}

/** unhandled is true in SQL while `event` is not in the inbox (always, with no event). */
function unhandled(event: HandledEvent | undefined): RawBuilder<boolean> {
  return event ? notInInbox(event.consumer, event.eventId) : sql<boolean>`true`
}

/** recordHandled is a CTE's statement that records `event` handled when `condition` holds. */
function recordHandled(event: HandledEvent | undefined, condition: RawBuilder<unknown>) {
  // A plain insert: should a racing delivery have recorded the event first, the whole statement
  // fails (unique violation) instead of applying the step twice.
  return event
    ? sql`insert into inbox (consumer, event_id)
        select ${event.consumer}::text, ${event.eventId}::uuid where ${condition} returning 1`
    : sql`select 1 where false`
}

// A statement that found neither the payment nor a reason for its absence lost a race for the
// order's first payment (its insert waited on another's, then did nothing): it runs again and
// sees the winner. Twice is enough; more is a bug, not a loop.
const RACE_ATTEMPTS = 3

/**
 * paymentRepository stores payments, one per order, and the orders that closed. Each step of a
 * settlement is one statement (no transaction around statements, no lock held across them):
 * what it writes is guarded by what it found, and what it found comes back with it.
 */
export function paymentRepository(
  db: Executor<PaymentsTables>,
  outbox: OutboxRecorder,
): Repository {
  const published = (events: readonly CloudEvent[], positions: readonly (string | number)[]) =>
    outbox.record(publishedEntries(events, positions))

  return {
    async open({ payment, events, event, finishes }) {
      const { orderId } = payment
      for (let attempt = 1; attempt <= RACE_ATTEMPTS; attempt++) {
        let row: (FoundRow & OpenRow) | undefined
        try {
          ;({
            rows: [row],
          } = await sql<FoundRow & OpenRow>`
            with closure as (select 1 from order_closures where order_id = ${orderId}::uuid),
            existing as (${paymentOfOrder(orderId)}),
            created as (
              insert into payments (id, order_id, user_id, amount, currency, payment_method,
                status, failure_reason, charge_outstanding, charge_id, refund_id, order_closed_at,
                created_at, updated_at)
              select ${payment.id}::uuid, ${orderId}::uuid, ${payment.userId}::uuid,
                ${payment.amount.amount}::int, ${payment.amount.currency}::text,
                ${payment.paymentMethod}::text, ${payment.status}::text,
                ${payment.failureReason}::text, ${payment.chargeOutstanding}::boolean,
                ${payment.chargeId}::text, ${payment.refundId}::text,
                ${payment.orderClosedAt}::timestamptz, ${payment.createdAt}::timestamptz,
                ${payment.updatedAt}::timestamptz
              where ${unhandled(event)}
                and not exists (select 1 from closure) and not exists (select 1 from existing)
              on conflict (order_id) do nothing
              returning ${paymentColumns()}
            ),
            published as (${outboxInsert(events, sql`exists (select 1 from created)`)}),
            handled as (${recordHandled(
              event,
              sql`${unhandled(event)} and (
                (${finishes}::boolean and exists (select 1 from created))
                or (exists (select 1 from closure) and not exists (select 1 from existing)))`,
            )})
            select ${unhandled(event)} as unhandled,
                   exists (select 1 from closure) as closed,
                   exists (select 1 from created) as created,
                   (select count(*)::int from handled) as handled,
                   ${PUBLISHED_POSITIONS} as positions,
                   p.*
            from (select 1) as one
            left join (select * from created union all select * from existing) as p on true`.execute(
            db,
          ))
        } catch (error) {
          if (isUniqueViolation(error)) return { found: 'handled' }
          throw error
        }
        if (!row?.unhandled) return { found: 'handled' }
        const state = stateFromRow(row)
        if (state) {
          if (row.created) published(events, row.positions)
          return { found: 'payment', state, created: row.created }
        }
        if (row.closed) return { found: 'none' }
      }
      throw new Error(`The payment of order ${orderId} was neither created nor found`)
    },

    async recordClosure({ orderId, closedBy, now }, event) {
      // A first statement records the closure and marks the payment it sees. Seeing none is not
      // enough to call the order settled: a payment request's statement that began before the
      // closure committed may insert one this statement could not see. A second statement, which
      // begins after the first committed, sees that payment (and marks it) or there is none, and
      // no request after it can create one; then it records the event handled.
      for (const finishIfNone of [false, true]) {
        let row: (FoundRow & { unhandled: boolean }) | undefined
        try {
          ;({
            rows: [row],
          } = await sql<FoundRow & { unhandled: boolean }>`
            with recorded as (
              insert into order_closures (order_id, closed_by, closed_at)
              select ${orderId}::uuid, ${closedBy}::text, ${now}::timestamptz
              where ${unhandled(event)}
              on conflict (order_id) do nothing
              returning 1
            ),
            marked as (
              update payments set order_closed_at = ${now}, updated_at = ${now},
                version = version + 1
              where order_id = ${orderId}::uuid and order_closed_at is null and ${unhandled(event)}
              returning ${paymentColumns()}
            ),
            existing as (select ${paymentColumns()} from payments where order_id = ${orderId}::uuid),
            handled as (${recordHandled(
              event,
              sql`${finishIfNone}::boolean and ${unhandled(event)} and not exists (select 1 from existing)`,
            )})
            select ${unhandled(event)} as unhandled, (select count(*) from handled) as handled, p.*
            from (select 1) as one
            left join (
              select * from marked
              union all select * from existing where not exists (select 1 from marked)
            ) as p on true`.execute(db))
        } catch (error) {
          if (isUniqueViolation(error)) return { found: 'handled' }
          throw error
        }
        if (!row?.unhandled) return { found: 'handled' }
        const state = stateFromRow(row)
        if (state) return { found: 'payment', state }
      }
      return { found: 'none' }
    },

    async read(orderId) {
      const { rows } = await sql<FoundRow>`${paymentOfOrder(orderId)}`.execute(db)
      const state = stateFromRow(rows[0])
      return state ? { found: 'payment', state } : { found: 'none' }
    },

    async apply({ before, after, events, event, finishes }) {
      const { id, orderId } = before.payment
      const changed = after !== before.payment
      // The step was decided without the order closed: it holds only while no closure is recorded.
      const closureUnseen =
        before.payment.orderClosedAt === null
          ? sql`not exists (select 1 from order_closures where order_id = ${orderId}::uuid)`
          : sql`true`
      const guard = sql`id = ${id}::uuid and version = ${before.version}
        and ${unhandled(event)} and ${closureUnseen}`
      // With nothing to change, a share lock on the unchanged version keeps a racing change out
      // until the event is recorded.
      const guarded = changed
        ? sql`update payments set
              status = ${after.status},
              failure_reason = ${after.failureReason},
              charge_outstanding = ${after.chargeOutstanding},
              charge_id = ${after.chargeId},
              refund_id = ${after.refundId},
              order_closed_at = ${after.orderClosedAt}::timestamptz,
              updated_at = ${after.updatedAt}::timestamptz,
              version = version + 1
            where ${guard}
            returning id`
        : sql`select id from payments where ${guard} for share`
      let row: (FoundRow & StepRow) | undefined
      try {
        ;({
          rows: [row],
        } = await sql<FoundRow & StepRow>`
          with guarded as (${guarded}),
          handled as (${recordHandled(event, sql`${finishes}::boolean and exists (select 1 from guarded)`)}),
          published as (${outboxInsert(events, sql`exists (select 1 from guarded)`)}),
          found as (${paymentOfOrder(orderId)})
          select (select count(*)::int from guarded) as applied, ${unhandled(event)} as unhandled,
                 ${PUBLISHED_POSITIONS} as positions,
                 found.*
          from (select 1) as one left join found on true`.execute(db))
      } catch (error) {
        if (isUniqueViolation(error)) return { applied: false, found: { found: 'handled' } }
        throw error
      }
      if (row?.applied === 1) {
        published(events, row.positions)
        return {
          applied: true,
          state: { payment: after, version: changed ? before.version + 1 : before.version },
        }
      }
      if (!row?.unhandled) return { applied: false, found: { found: 'handled' } }
      const state = stateFromRow(row)
      return { applied: false, found: state ? { found: 'payment', state } : { found: 'none' } }
    },

    async find(id) {
      const row = await db
        .selectFrom('payments')
        .select(PAYMENT_SELECTION)
        .where('id', '=', id)
        .executeTakeFirst()
      return row && paymentFromRow(row)
    },

    async list(options) {
      let select = db.selectFrom('payments').select(PAYMENT_SELECTION)
      if (options.userId !== undefined) select = select.where('userId', '=', options.userId)
      if (options.orderId !== undefined) select = select.where('orderId', '=', options.orderId)
      const { after } = options
      if (after) {
        select = select.where((eb) =>
          eb.or([
            eb('createdAt', '<', after.createdAt),
            eb.and([eb('createdAt', '=', after.createdAt), eb('id', '<', after.id)]),
          ]),
        )
      }
      const rows = await select
        .orderBy('createdAt', 'desc')
        .orderBy('id', 'desc')
        .limit(options.limit)
        .execute()
      return rows.map(paymentFromRow)
    },

    async claimUnsettled(options) {
      const { rows } = await sql<{ orderId: string }>`
        update payments set updated_at = ${options.now}
        where id in (
          select id from payments
          where (status = 'PENDING' or (status = 'SUCCEEDED' and order_closed_at is not null))
            and updated_at < ${options.staleBefore}
          order by updated_at
          limit ${options.limit}
          for update skip locked)
        returning order_id`.execute(db)
      return rows.map((row) => row.orderId)
    },
  }
}

type OpenRow = {
  unhandled: boolean
  closed: boolean
  created: boolean
  positions: (string | number)[]
}
type StepRow = { applied: number; unhandled: boolean; positions: (string | number)[] }
