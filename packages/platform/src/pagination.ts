import Type, { type TSchema } from 'typebox'
import { invalid } from './errors.ts'
import { unstorableValues } from './text-input.ts'

/** PageQuery is the `?limit=&cursor=` every list endpoint takes. */
export const PageQuery = {
  limit: Type.Integer({ minimum: 1, maximum: 100, default: 20 }),
  cursor: Type.Optional(Type.String({ minLength: 1, maxLength: 512 })),
}

/** PageOf is the `{ items, nextCursor }` shape every list endpoint returns, named `title`. */
export const PageOf = <T extends TSchema>(item: T, title: string) =>
  Type.Object(
    {
      items: Type.Array(item),
      nextCursor: Type.Union([Type.String(), Type.Null()], {
        description: 'The `cursor` of the next page; null on the last page.',
      }),
    },
    { title, description: 'A page of a list.' },
  )

export interface Page<T> {
  items: T[]
  nextCursor: string | null
}

/** encodeCursor makes an opaque cursor from the sort key of the last item on a page. */
export function encodeCursor(key: unknown): string {
  return Buffer.from(JSON.stringify(key)).toString('base64url')
}

/**
 * decodeCursor reads a cursor back; anything that is not one we made is a 400, and so is any
 * text in it that the database could not take (a cursor is input like any other).
 */
export function decodeCursor<T>(cursor: string, isKey: (value: unknown) => value is T): T {
  try {
    const value: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'))
    if (unstorableValues(value).length === 0 && isKey(value)) return value
  } catch {
    // fall through: a cursor that does not parse is as bad as one of the wrong shape
  }
  throw invalid('The cursor is not valid.', [
    { pointer: '/query/cursor', detail: 'is not a cursor from this list' },
  ])
}

/**
 * Position is where a page of a newest-first list ended: the last item's creation time (ISO 8601)
 * and its id, which breaks ties between items made in the same instant.
 */
export interface Position {
  createdAt: string
  id: string
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i
// Postgres stores timestamps from 4713 BC to 294276 AD; a cursor we made is far inside that, and
// one claiming a time outside these years is not ours.
const EARLIEST = Date.UTC(1970, 0, 1)
const LATEST = Date.UTC(9999, 11, 31)

function isPosition(value: unknown): value is Position {
  const position = value as Partial<Position> | null
  if (typeof position !== 'object' || position === null) return false
  const time = typeof position.createdAt === 'string' ? Date.parse(position.createdAt) : NaN
  return (
    time >= EARLIEST && time <= LATEST && typeof position.id === 'string' && UUID.test(position.id)
  )
}

/** decodePositionCursor reads the cursor of a newest-first list (see Position), or throws a 400. */
export function decodePositionCursor(cursor: string): Position {
  return decodeCursor(cursor, isPosition)
}

/**
 * pageFrom turns `limit + 1` rows into a page: the extra row only tells that there is more,
 * so no count query is needed.
 */
export function pageFrom<Row, Item>(
  rows: Row[],
  limit: number,
  toItem: (row: Row) => Item,
  keyOf: (row: Row) => unknown,
): Page<Item> {
  const items = rows.slice(0, limit)
  const last = items.at(-1)
  return {
    items: items.map(toItem),
    nextCursor: rows.length > limit && last !== undefined ? encodeCursor(keyOf(last)) : null,
  }
}
