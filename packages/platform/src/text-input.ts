/**
 * isStorableText tells whether a string can go into a Postgres `text` column and come back as it
 * was: no NUL (Postgres refuses U+0000 in text), no U+FEFF (a byte order mark, which the
 * embedded database's decoder drops from the start of a value: a name of just that came back
 * empty), and well-formed UTF-16 (an unpaired surrogate has no UTF-8 form: the driver would store
 * U+FFFD instead of what was sent).
 */
export function isStorableText(value: string): boolean {
  return !UNSTORABLE.test(value)
}

// UNSTORABLE matches U+0000, U+FEFF and, under the `u` flag, only unpaired surrogates (a pair is
// one code point, not two surrogates). NUL is the very character it is there to find.
// eslint-disable-next-line no-control-regex
const UNSTORABLE = /[\u0000\ufeff\p{Cs}]/u

const TEXT_RULE = 'must be text without NUL, U+FEFF or unpaired surrogates'
const NUMBER_RULE = 'must be a finite number'

/** An UnstorableValue is where in a request part a value the database cannot take is, and why. */
export interface UnstorableValue {
  pointer: string
  rule: typeof TEXT_RULE | typeof NUMBER_RULE
}

/**
 * unstorableValues walks a parsed request part (a body, a query, params, a cursor) and gives the
 * JSON pointer of every string, and every member name, that is not storable text (see
 * isStorableText), and of every number that is not finite. No value the shop takes is Infinity
 * or NaN, yet both reach a handler: JSON.parse reads `1e309` as Infinity, and ajv 8 converts
 * query text such as `?limit=1e309` to Infinity and then skips `maximum` for a number that is
 * not finite.
 */
export function unstorableValues(value: unknown, pointer = ''): UnstorableValue[] {
  if (typeof value === 'string') return isStorableText(value) ? [] : [{ pointer, rule: TEXT_RULE }]
  if (typeof value === 'number') {
    return Number.isFinite(value) ? [] : [{ pointer, rule: NUMBER_RULE }]
  }
  if (Array.isArray(value)) {
    return value.flatMap((item, index) => unstorableValues(item, `${pointer}/${index}`))
  }
  if (value !== null && typeof value === 'object') {
    return Object.entries(value).flatMap(([name, member]) => {
      const at = `${pointer}/${escapePointerToken(name)}`
      const inside = unstorableValues(member, at)
      return isStorableText(name) ? inside : [{ pointer: at, rule: TEXT_RULE }, ...inside]
    })
  }
  return []
}

// escapePointerToken writes a member name as RFC 6901 wants it in a JSON pointer.
function escapePointerToken(name: string): string {
  return name.replaceAll('~', '~0').replaceAll('/', '~1')
}
