import { describe, expect, it } from 'vitest'
import { CheckoutAdmission } from './checkout-admission.ts'

const settings = { targetSagaMs: 500, maxInFlight: 1_000, minInFlight: 10 }

const admitted = (admission: CheckoutAdmission, tries: number) => {
  let count = 0
  for (let i = 0; i < tries; i++) {
    try {
      admission.admit()
      count++
    } catch {
      // refused
    }
  }
  return count
}

describe('checkout admission', () => {
  it('when nothing was measured yet, then checkouts are admitted up to the cap', () => {
    const admission = new CheckoutAdmission(settings)
    admission.counted(990)
    expect(admitted(admission, 50)).toBe(10)
  })

  it('when the limit is reached, then the excess is refused with 503 and Retry-After, before any work', () => {
    const admission = new CheckoutAdmission({ ...settings, maxInFlight: 2 })
    admission.admit()
    admission.admit()
    let refusal: unknown
    try {
      admission.admit()
    } catch (error) {
      refusal = error
    }
    expect(refusal).toMatchObject({ kind: 'unavailable', details: { retryAfterSeconds: 1 } })
  })

  it('when sagas take four times the target, then the limit shrinks toward a quarter of those in flight', () => {
    const admission = new CheckoutAdmission(settings)
    for (let round = 0; round < 30; round++) {
      for (let i = 0; i < 20; i++) admission.settled(2_000)
      admission.counted(400)
    }
    expect(admission.limit).toBeGreaterThanOrEqual(95)
    expect(admission.limit).toBeLessThanOrEqual(105)
    admission.counted(100)
    expect(admitted(admission, 50)).toBeLessThanOrEqual(5)
  })

  it('when sagas settle well within the target, then the limit grows again, up to the cap', () => {
    const admission = new CheckoutAdmission(settings)
    for (let i = 0; i < 20; i++) admission.settled(5_000)
    admission.counted(100)
    const shrunk = admission.limit
    for (let round = 0; round < 40; round++) {
      for (let i = 0; i < 20; i++) admission.settled(50)
      admission.counted(admission.limit)
    }
    expect(shrunk).toBeLessThan(1_000)
    expect(admission.limit).toBe(1_000)
  })

  it('when the limit is at its floor, then the shop still takes the minimum in flight', () => {
    const admission = new CheckoutAdmission(settings)
    for (let round = 0; round < 30; round++) {
      for (let i = 0; i < 20; i++) admission.settled(600_000)
      admission.counted(0)
    }
    expect(admission.limit).toBe(10)
    expect(admitted(admission, 50)).toBe(10)
  })

  it('when checkouts settle between counts, then their places are taken again before the next count', () => {
    const admission = new CheckoutAdmission({ ...settings, maxInFlight: 10 })
    admission.counted(8)
    expect(admitted(admission, 5)).toBe(2)
    for (let i = 0; i < 3; i++) admission.settled(100)
    expect(admitted(admission, 5)).toBe(3)
  })

  it('when counted every second instead of every 250 ms, then the limit adapts as fast per second', () => {
    const often = new CheckoutAdmission(settings)
    const seldom = new CheckoutAdmission({ ...settings, countIntervalMs: 1_000 })
    for (let i = 0; i < 20; i++) {
      often.settled(2_000)
      seldom.settled(2_000)
    }
    seldom.counted(400)
    for (let round = 0; round < 4; round++) {
      for (let i = 0; i < 20; i++) often.settled(2_000)
      often.counted(400)
    }
    expect(seldom.limit).toBe(often.limit)
  })

  it('when maxInFlight is 0, then nothing is ever refused', () => {
    const admission = new CheckoutAdmission({ ...settings, maxInFlight: 0 })
    admission.counted(1_000_000)
    expect(admitted(admission, 100)).toBe(100)
  })

  it('when placements are admitted, then the room tells the places left and those still being stored', () => {
    const admission = new CheckoutAdmission({ ...settings, maxInFlight: 10 })
    admission.counted(7)
    admission.admit()
    admission.admit()
    expect(admission.room()).toMatchObject({ free: 1, placing: 2 })
    admission.placementEnded()
    expect(admission.room()).toMatchObject({ free: 1, placing: 1 })
    admission.settled(100)
    expect(admission.room()).toMatchObject({ free: 2, placing: 1 })
  })

  it('when sagas take half a second with 40 in flight, then places free up at 80 a second', () => {
    const admission = new CheckoutAdmission(settings)
    expect(admission.room()?.settlingPerSecond).toBe(0)
    for (let i = 0; i < 20; i++) admission.settled(500)
    admission.counted(40)
    expect(admission.room()?.settlingPerSecond).toBe(80)
  })

  it('when maxInFlight is 0, then there is no room to tell of', () => {
    const admission = new CheckoutAdmission({ ...settings, maxInFlight: 0 })
    expect(admission.room()).toBeUndefined()
  })
})
