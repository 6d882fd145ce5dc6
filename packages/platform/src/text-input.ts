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

/**
 * unstorableTextPointers walks a parsed request part (a body, a query, params) and gives the JSON
 * pointer of every string, and every member name, that is not storable text (see isStorableText).
 */
export function unstorableTextPointers(value: unknown, pointer = ''): string[] {
  if (typeof value === 'string') return isStorableText(value) ? [] : [pointer]
  if (Array.isArray(value)) {
    return value.flatMap((item, index) => unstorableTextPointers(item, `${pointer}/${index}`))
  }
  if (value !== null && typeof value === 'object') {
    return Object.entries(value).flatMap(([name, member]) => {
      const at = `${pointer}/${escapePointerToken(name)}`
      return isStorableText(name)
        ? unstorableTextPointers(member, at)
        : [at, ...unstorableTextPointers(member, at)]
    })
  }
  return []
}

// escapePointerToken writes a member name as RFC 6901 wants it in a JSON pointer.
function escapePointerToken(name: string): string {
  return name.replaceAll('~', '~0').replaceAll('/', '~1')
}
