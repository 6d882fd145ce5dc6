import { setTimeout as sleep } from 'node:timers/promises'
import { describe, expect, it } from 'vitest'
import { KeyedWorkQueue } from './keyed-work-queue.ts'

describe('KeyedWorkQueue', () => {
  it('when tasks share a key, then they run one after another in order; other keys run beside them', async () => {
    const queue = new KeyedWorkQueue(10)
    const log: string[] = []
    const task = (name: string, ms: number) => async () => {
      log.push(`start ${name}`)
      await sleep(ms)
      log.push(`end ${name}`)
    }
    queue.push('a', task('a1', 30))
    queue.push('a', task('a2', 1))
    queue.push('b', task('b1', 1))
    await queue.whenIdle()
    expect(log.indexOf('end a1')).toBeLessThan(log.indexOf('start a2'))
    expect(log.indexOf('end b1')).toBeLessThan(log.indexOf('end a1'))
  })

  it('when it is full, then whenCapacity waits until a task finishes, even a failing one', async () => {
    const queue = new KeyedWorkQueue(1)
    queue.push(undefined, async () => {
      await sleep(20)
      throw new Error('handled elsewhere')
    })
    expect(queue.hasCapacity).toBe(false)
    const started = Date.now()
    await queue.whenCapacity()
    expect(Date.now() - started).toBeGreaterThanOrEqual(15)
    expect(queue.size).toBe(0)
  })
})
