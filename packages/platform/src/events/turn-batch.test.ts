import { setImmediate as nextTurn } from 'node:timers/promises'
import { describe, expect, it } from 'vitest'
import { TurnBatch } from './turn-batch.ts'

describe('TurnBatch', () => {
  it('when sends are asked for across microtasks of one turn, then they are made together at its end, in order', async () => {
    const made: string[] = []
    const batch = new TurnBatch((error) => {
      throw error
    })
    batch.later(() => made.push('ack'))
    await Promise.resolve()
    await Promise.resolve()
    batch.later(() => made.push('publish 1'))
    queueMicrotask(() => batch.later(() => made.push('publish 2')))
    await Promise.resolve()
    expect(made).toEqual([])
    await nextTurn()
    expect(made).toEqual(['ack', 'publish 1', 'publish 2'])
  })

  it('when a send throws, then the error is reported and the turn’s other sends are still made', async () => {
    const made: string[] = []
    const errors: unknown[] = []
    const batch = new TurnBatch((error) => errors.push(error))
    batch.later(() => {
      throw new Error('connection closed')
    })
    batch.later(() => made.push('next'))
    await nextTurn()
    expect(made).toEqual(['next'])
    expect(errors).toEqual([new Error('connection closed')])
  })

  it('when flushed, then what is held is sent at once, and not again at the turn’s end', async () => {
    const made: string[] = []
    const batch = new TurnBatch(() => undefined)
    batch.later(() => made.push('ack'))
    batch.flush()
    expect(made).toEqual(['ack'])
    await nextTurn()
    expect(made).toEqual(['ack'])
    batch.later(() => made.push('after'))
    await nextTurn()
    expect(made).toEqual(['ack', 'after'])
  })
})
