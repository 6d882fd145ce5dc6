import Type, { type TSchema } from 'typebox'
import { invalid } from './errors.ts'

/** PageQuery is the `?limit=&cursor=` every list endpoint takes. */
export const PageQuery = {
  limit: Type.Integer({ minimum: 1, maximum: 100, default: 20 }),
  cursor: Type.Optional(Type.String({ minLength: 1, maxLength: 512 })),
}

/** PageOf is the `{ items, nextCursor }` shape every list endpoint returns. */
export const PageOf = <T extends TSchema>(item: T) =>
  Type.Object({ items: Type.Array(item), nextCursor: Type.Union([Type.String(), Type.Null()]) })

export interface Page<T> {
  items: T[]
  nextCursor: string | null
}

/** encodeCursor makes an opaque cursor from the sort key of the last item on a page. */
export function encodeCursor(key: unknown): string {
  return Buffer.from(JSON.stringify(key)).toString('base64url')
}

/** decodeCursor reads a cursor back; anything that is not one we made is a 400. */
export function decodeCursor<T>(cursor: string, isKey: (value: unknown) => value is T): T {
  try {
    const value: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'))
    if (isKey(value)) return value
  } catch {
    // fall through: a cursor that does not parse is as bad as one of the wrong shape
  }
  throw invalid('The cursor is not valid.', [
    { pointer: '/query/cursor', detail: 'is not a cursor from this list' },
  ])
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
