import { getHeapSpaceStatistics } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { describe, expect, it } from 'vitest'
import { releaseStartUpMemory } from './start-up-memory.ts'

const youngGenerationBytes = () =>
  getHeapSpaceStatistics().find((space) => space.space_name === 'new_space')?.space_size ?? NaN

describe('releaseStartUpMemory', () => {
  it('when start-up grew the young generation, then it shrinks it back to its least', () => {
    // Objects that live across collections make V8 grow the young generation, as start-up does.
    const kept: object[] = []
    for (let i = 0; i < 400_000; i++) kept.push({ i, label: `object ${i}` })
    expect(youngGenerationBytes()).toBeGreaterThan(1024 * 1024)
    kept.length = 0

    releaseStartUpMemory()

    expect(youngGenerationBytes()).toBeLessThanOrEqual(1024 * 1024)
  })

  it('leaves no gc() to code that makes contexts afterwards', () => {
    releaseStartUpMemory()
    expect(runInNewContext('typeof gc')).toBe('undefined')
  })
})
