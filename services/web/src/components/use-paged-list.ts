import { useState } from 'preact/hooks'
import { useResource, type Resource } from './use-resource.ts'

/** Page is a list endpoint's answer: `{ items, nextCursor }`. */
export interface Page<T> {
  items: T[]
  nextCursor: string | null
}

export interface PagedList<T> {
  /** first is the first page, loading, ready or failed. */
  first: Resource<Page<T>>
  reload: () => void
  /** items are the first page's items and every page loaded after it. */
  items: T[]
  /** nextCursor is where the next page starts; null when there is none. */
  nextCursor: string | null
  loadMore: (cursor: string) => Promise<void>
  /** moreError is why the last "more" failed, if it did. */
  moreError: unknown
}

/**
 * usePagedList loads a cursor-paged list: the first page when `deps` change, and each next page
 * on `loadMore`, appended. `fetchPage` reads one page from a cursor (undefined: the first).
 */
export function usePagedList<T>(
  fetchPage: (cursor: string | undefined, signal?: AbortSignal) => Promise<Page<T>>,
  deps: unknown[],
): PagedList<T> {
  const [more, setMore] = useState<Page<T>>()
  const [moreError, setMoreError] = useState<unknown>()
  const [first, reload] = useResource(async (signal) => {
    setMore(undefined)
    return fetchPage(undefined, signal)
  }, deps)
  const loadMore = async (cursor: string) => {
    setMoreError(undefined)
    try {
      const page = await fetchPage(cursor)
      setMore((current) => ({
        items: [...(current?.items ?? []), ...page.items],
        nextCursor: page.nextCursor,
      }))
    } catch (error) {
      setMoreError(error)
    }
  }
  const items = first.state === 'ready' ? [...first.value.items, ...(more?.items ?? [])] : []
  const nextCursor = more
    ? more.nextCursor
    : first.state === 'ready'
      ? first.value.nextCursor
      : null
  return { first, reload, items, nextCursor, loadMore, moreError }
}
