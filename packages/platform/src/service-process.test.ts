import { afterEach, describe, expect, it, vi } from 'vitest'
import { LOAD_ONLY } from './load-only.ts'
import { runServiceProcess } from './service-process.ts'

describe('runServiceProcess', () => {
  const argv = process.argv
  afterEach(() => {
    process.argv = argv
  })

  it('with --load-only, reads no settings and starts nothing', async () => {
    process.argv = [...argv, LOAD_ONLY]
    const loadConfig = vi.fn()
    const start = vi.fn()

    await runServiceProcess('example', loadConfig, start)

    expect(loadConfig).not.toHaveBeenCalled()
    expect(start).not.toHaveBeenCalled()
  })
})
