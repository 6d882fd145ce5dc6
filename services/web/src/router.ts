import { signal } from '@preact/signals'

/** Place is where the shopper is: the path and the query of the address bar. */
export interface Place {
  path: string
  query: URLSearchParams
}

function currentPlace(): Place {
  return { path: window.location.pathname, query: new URLSearchParams(window.location.search) }
}

/** place is the current address; pages read it and re-render when it changes. */
export const place = signal<Place>(currentPlace())

window.addEventListener('popstate', () => {
  place.value = currentPlace()
})

/** navigate goes to an address of the shop without reloading the page. */
export function navigate(to: string, options: { replace?: boolean } = {}) {
  const url = new URL(to, window.location.origin)
  const target = url.pathname + url.search
  if (target === window.location.pathname + window.location.search) return
  if (options.replace) window.history.replaceState(null, '', target)
  else window.history.pushState(null, '', target)
  place.value = currentPlace()
}

/** matchPath reads `/orders/:id` against a path: the parameters when it matches, else undefined. */
export function matchPath(pattern: string, path: string): Record<string, string> | undefined {
  const want = pattern.split('/')
  const have = path.replace(/\/+$/, '').split('/')
  if (path === '/') have.splice(1, 1, '')
  if (want.length !== have.length) return undefined
  const params: Record<string, string> = {}
  for (const [index, part] of want.entries()) {
    const actual = have[index] ?? ''
    if (part.startsWith(':')) {
      if (actual === '') return undefined
      params[part.slice(1)] = decodeURIComponent(actual)
    } else if (part !== actual) {
      return undefined
    }
  }
  return params
}

/** hereWithQuery is the current path with a changed query, for filters and searches. */
export function hereWithQuery(changes: Record<string, string | undefined>): string {
  const query = new URLSearchParams(place.value.query)
  for (const [key, value] of Object.entries(changes)) {
    if (value === undefined || value === '') query.delete(key)
    else query.set(key, value)
  }
  const search = query.toString()
  return search === '' ? place.value.path : `${place.value.path}?${search}`
}
