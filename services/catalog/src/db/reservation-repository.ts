import { sql } from 'kysely'
import type { CloudEvent } from '@microshop/contracts/envelope'
import type { Executor, OutboxRecorder } from '@microshop/platform/db/store'
import {
  OUTBOX_COLUMNS,
  outboxInsert,
  outboxRows,
  PUBLISHED_POSITIONS,
  publishedEntries,
} from '@microshop/platform/events/outbox'
import type {
  CatalogRepositories,
  ProductRecord,
  ReservationStatus,
} from '../domain/catalog-context.ts'
import type { CatalogTables } from './tables.ts'

const reservationColumns = ['id', 'orderId', 'status', 'expiresAt'] as const

const CHECK_VIOLATION = '23514'

/**
 * reservationRepository stores stock reservations, one per order, and their lines. Each saga
 * step is written by one statement that also records the event in the inbox and writes the
 * step's events to the outbox (`outbox` hears their positions).
 */
export function reservationRepository(
  db: Executor<CatalogTables>,
  outbox: OutboxRecorder,
): CatalogRepositories['reservations'] {
  const record = (events: readonly CloudEvent[], positions: readonly (string | number)[]) =>
    outbox.record(publishedEntries(events, positions))

  return {
    // claimProducts records the event first, and locks the products only if that inserted it: a
    // delivery racing this one waits on its inbox row (holding no product) until it commits, and
    // then finds the event handled.
    async claimProducts(orderId, productIds, inbox) {
      const { rows } = await sql<ClaimRow>`
        with handled as (
          insert into inbox (consumer, event_id) values (${inbox.consumer}::text, ${inbox.eventId}::uuid)
          on conflict do nothing
          returning 1
        ),
        known as (
          select 1 from stock_reservations
          where order_id = ${orderId} and exists (select 1 from handled)
        ),
        locked as materialized (
          select * from products
          where id = any(${productIds}::uuid[])
            and exists (select 1 from handled) and not exists (select 1 from known)
          order by id
          for update
        )
        select (select count(*)::int from handled) as handled,
               exists (select 1 from known) as known,
               locked.*
        from (select 1) as one left join locked on true`.execute(db)
      const [first] = rows
      if (first?.handled !== 1) return { outcome: 'handled_before' }
      if (first.known) return { outcome: 'order_known' }
      const products = rows
        .filter((row) => row.id !== null)
        .map(({ handled: _handled, known: _known, ...product }) => product as ProductRecord)
      return { outcome: 'claimed', products }
    },

    async save(reservation, lines, events) {
      const ids = lines.map((line) => line.productId)
      const quantities = lines.map((line) => line.quantity)
      const wanted = sql`unnest(${ids}::uuid[], ${quantities}::int[]) as l (product_id, quantity)`
      // Only a held reservation holds stock; a failed one is its order's answer, and holds none.
      const hold =
        reservation.status === 'HELD'
          ? sql`update products as p
                set stock_reserved = p.stock_reserved + l.quantity, updated_at = now()
                from ${wanted}
                where p.id = l.product_id`
          : sql`select 1`
      const {
        rows: [row],
      } = await sql<{ positions: (string | number)[] }>`
        with reservation as (
          insert into stock_reservations (id, order_id, status, expires_at)
          values (${reservation.id}::uuid, ${reservation.orderId}::uuid, ${reservation.status}::text,
                  ${reservation.expiresAt}::timestamptz)
        ),
        reserved_lines as (
          insert into stock_reservation_lines (reservation_id, product_id, quantity)
          select ${reservation.id}::uuid, l.product_id, l.quantity from ${wanted}
        ),
        stock as (${hold}),
        published as (${outboxInsert(events)})
        select ${PUBLISHED_POSITIONS} as positions`.execute(db)
      record(events, row?.positions ?? [])
    },

    // applyStep's statement runs in this order: the inbox record (only when the step can be
    // applied: a reservation exists, or a tombstone may be written), then the reservation's lock,
    // then its lines' products locked in id order, as claimProducts locks them, and their stock
    // moved; the status, tombstone and announcement follow from those. A racing duplicate
    // waits on the inbox row and then changes nothing; a reservation inserted after the
    // statement began makes the tombstone's insert fail (unique order id), and the retry sees it.
    async applyStep(step) {
      const { orderId, inbox, transitions, tombstone, announcement } = step
      const canApply = tombstone
        ? sql`true`
        : sql`exists (select 1 from stock_reservations where order_id = ${orderId})`
      const transitionRows = transitions.map(
        (t) =>
          sql`(${t.from}::text, ${t.to}::text, ${t.stock.onHand}::int, ${t.stock.reserved}::int,
               ${t.announce === true}::boolean)`,
      )
      const writeTombstone = tombstone
        ? sql`insert into stock_reservations (id, order_id, status, expires_at)
              select ${tombstone.id}::uuid, ${orderId}::uuid, ${tombstone.status}::text,
                     ${tombstone.expiresAt}::timestamptz
              where exists (select 1 from handled) and not exists (select 1 from reservation)
              returning id`
        : sql`select null::uuid as id where false`
      const events = announcement ? [announcement] : []
      // The announcement names the reservation the statement changed, which only it knows.
      const announce = announcement
        ? sql`insert into ${OUTBOX_COLUMNS}
              select new_event.event_id, new_event.event_type, new_event.subject,
                     jsonb_set(new_event.envelope, '{data,reservationId}', to_jsonb(t.id))
              from ${outboxRows(events)}, transition as t
              where t.announce
              returning position`
        : sql`select null::bigint as position where false`
      let row: StepRow | undefined
      try {
        ;({
          rows: [row],
        } = await sql<StepRow>`
          with handled as (
            insert into inbox (consumer, event_id)
            select ${inbox.consumer}::text, ${inbox.eventId}::uuid where ${canApply}
            on conflict do nothing
            returning 1
          ),
          reservation as materialized (
            select id, status from stock_reservations
            where order_id = ${orderId} and exists (select 1 from handled)
            for update
          ),
          transition as materialized (
            select r.id, t.to_status, t.on_hand, t.reserved, t.announce
            from reservation as r
            join (values ${sql.join(transitionRows)})
              as t (from_status, to_status, on_hand, reserved, announce)
              on t.from_status = r.status
          ),
          stock as (
            update products as p
            set stock_on_hand = p.stock_on_hand + t.on_hand * l.quantity,
                stock_reserved = p.stock_reserved + t.reserved * l.quantity,
                updated_at = now()
            from transition as t
              join stock_reservation_lines as l on l.reservation_id = t.id,
              (select id from products
               where id in (select product_id from stock_reservation_lines
                            where reservation_id in (select id from transition))
               order by id
               for update) as locked
            where p.id = l.product_id and locked.id = p.id
          ),
          changed as (
            update stock_reservations as s set status = t.to_status, updated_at = now()
            from transition as t
            where s.id = t.id
          ),
          tombstone as (${writeTombstone}),
          published as (${announce})
          select (select count(*)::int from handled) as handled,
                 exists (select 1 from stock_reservations where order_id = ${orderId}) as found,
                 (select status from reservation) as status_before,
                 (select to_status from transition) as status_after,
                 (select count(*)::int from tombstone) as tombstoned,
                 ${PUBLISHED_POSITIONS} as positions`.execute(db))
      } catch (error) {
        // The products' checks refused the stock change: the units it needs are not there.
        if ((error as { code?: unknown }).code === CHECK_VIOLATION)
          return { outcome: 'stock_short' }
        throw error
      }
      if (!row) throw new Error('A reservation step answered with no row.')
      if (row.handled !== 1) return { outcome: row.found ? 'handled_before' : 'no_reservation' }
      if (row.tombstoned === 1) return { outcome: 'tombstoned' }
      if (row.statusBefore === null) throw new Error(`No reservation of order ${orderId} locked.`)
      if (row.statusAfter === null) return { outcome: 'unchanged', status: row.statusBefore }
      record(events, row.positions)
      return { outcome: 'applied', from: row.statusBefore, to: row.statusAfter }
    },

    lockExpired: (now, limit) =>
      db
        .selectFrom('stockReservations')
        .select(reservationColumns)
        .where('status', '=', 'HELD')
        .where('expiresAt', '<', now)
        .orderBy('expiresAt')
        .limit(limit)
        .forUpdate()
        .skipLocked()
        .execute(),

    // expire adds up the lines per product: an update changes each product once, however many of
    // the reservations hold it.
    async expire(reservations, events) {
      if (reservations.length === 0) return
      const ids = reservations.map((reservation) => reservation.id)
      const {
        rows: [row],
      } = await sql<{ positions: (string | number)[] }>`
        with expired as (
          update stock_reservations set status = 'EXPIRED', updated_at = now()
          where id = any(${ids}::uuid[])
        ),
        stock as (
          update products as p
          set stock_reserved = p.stock_reserved - l.quantity, updated_at = now()
          from (select product_id, sum(quantity)::int as quantity from stock_reservation_lines
                where reservation_id = any(${ids}::uuid[])
                group by product_id) as l,
            (select id from products
             where id in (select product_id from stock_reservation_lines
                          where reservation_id = any(${ids}::uuid[]))
             order by id
             for update) as locked
          where p.id = l.product_id and locked.id = p.id
        ),
        published as (${outboxInsert(events)})
        select ${PUBLISHED_POSITIONS} as positions`.execute(db)
      record(events, row?.positions ?? [])
    },

    countHeld: async () => {
      const row = await db
        .selectFrom('stockReservations')
        .select((eb) => eb.fn.countAll<string | number>().as('held'))
        .where('status', '=', 'HELD')
        .executeTakeFirst()
      return Number(row?.held ?? 0)
    },
  }
}

// A claim answers with whether it recorded the event and found the order, and a row per product.
type ClaimRow = { handled: number; known: boolean } & Partial<ProductRecord> & { id: string | null }

// A step's statement answers with what it found and what it wrote.
interface StepRow {
  handled: number
  found: boolean
  statusBefore: ReservationStatus | null
  statusAfter: ReservationStatus | null
  tombstoned: number
  positions: (string | number)[]
}
