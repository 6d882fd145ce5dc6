import { useCallback, useEffect, useState } from 'preact/hooks'

export type Resource<T> =
  { state: 'loading' } | { state: 'ready'; value: T } | { state: 'failed'; error: unknown }

/**
 * useResource loads something when the page shows and again when deps change; a load that is
 * overtaken (or the page left) is aborted and its answer ignored. reload loads again.
 */
export function useResource<T>(
  load: (signal: AbortSignal) => Promise<T>,
  deps: unknown[],
): [Resource<T>, () => void, (value: T) => void] {
  const [resource, setResource] = useState<Resource<T>>({ state: 'loading' })
  const [generation, setGeneration] = useState(0)
  useEffect(() => {
    const controller = new AbortController()
    setResource((current) => (current.state === 'ready' ? current : { state: 'loading' }))
    load(controller.signal).then(
      (value) => {
        if (!controller.signal.aborted) setResource({ state: 'ready', value })
      },
      (error: unknown) => {
        if (!controller.signal.aborted) setResource({ state: 'failed', error })
      },
    )
    return () => controller.abort()
  }, [...deps, generation])
  const reload = useCallback(() => setGeneration((n) => n + 1), [])
  const replace = useCallback((value: T) => setResource({ state: 'ready', value }), [])
  return [resource, reload, replace]
}
