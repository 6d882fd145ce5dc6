import Type from 'typebox'
import { describe, expect, it } from 'vitest'
import { defineEvent } from '@microshop/contracts/define-event'
import { createLogger } from '../logger.ts'
import { waitFor } from '../testing/wait-for.ts'
import { consumptionWatermark } from './consumption-watermark.ts'
import { InProcessBroker, InProcessEventBus } from './in-process-event-bus.ts'
import { newEvent } from './new-event.ts'

const answered = defineEvent({
  type: 'watermarktest.question.answered.v1',
  producer: 'watermarktest',
  description: 'A test event.',
  payload: Type.Object({ n: Type.Integer() }),
})

describe('the consumption watermark', () => {
  it('when an answer waits in the queue, then the watermark stays before it until it is handled', async () => {
    const bus = new InProcessEventBus({
      broker: new InProcessBroker(),
      logger: createLogger({ service: 'watermark-test', level: 'silent' }),
    })
    let release: () => void = () => undefined
    const held = new Promise<void>((resolve) => (release = resolve))
    await bus.subscribe({ service: 'asker', event: answered, handler: () => held })
    const watermark = consumptionWatermark(bus)
    expect(await watermark()).toBeUndefined()
    const first = await waitForWatermark(watermark)
    await bus.publish(newEvent(answered, { n: 1 }))
    const publishedAt = new Date()
    // However often it is asked, it does not pass the answer that waits.
    for (let i = 0; i < 5; i++) {
      const now = await watermark()
      expect(now?.getTime()).toBeLessThanOrEqual(publishedAt.getTime())
    }
    release()
    await waitFor(async () => ((await watermark())?.getTime() ?? 0) >= publishedAt.getTime())
    expect(first.getTime()).toBeLessThanOrEqual(publishedAt.getTime())
    await bus.close()
  })
})

async function waitForWatermark(watermark: () => Promise<Date | undefined>): Promise<Date> {
  let value: Date | undefined
  await waitFor(async () => (value = await watermark()) !== undefined)
  return value as Date
}
