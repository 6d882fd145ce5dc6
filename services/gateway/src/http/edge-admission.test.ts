import { describe, expect, it } from 'vitest'
import { EdgeAdmission } from './edge-admission.ts'

// A clock the test moves by hand.
function clock() {
  let nowMs = 10_000
  return { now: () => nowMs, advance: (ms: number) => (nowMs += ms) }
}

const forwarded = (admission: EdgeAdmission, tries: number) => {
  const sequences: number[] = []
  for (let i = 0; i < tries; i++) {
    const sequence = admission.forward()
    if (sequence !== undefined) sequences.push(sequence)
  }
  return sequences
}

describe('edge admission', () => {
  it('when the upstream has not said how much room it has, then everything is forwarded', () => {
    const admission = new EdgeAdmission(clock().now)
    expect(forwarded(admission, 100)).toHaveLength(100)
  })

  it('when an answer says how much room there was, then only that much is sent from that request on', () => {
    const admission = new EdgeAdmission(clock().now)
    const [first] = forwarded(admission, 1)
    // Room for 3 as the first request arrived: it took one, two more go, the rest are refused.
    admission.answered(first as number, { free: 3, settlingPerSecond: 0 })
    expect(forwarded(admission, 10)).toEqual([2, 3])
  })

  it('when answers come back out of order, then the latest request says how much room there is', () => {
    const admission = new EdgeAdmission(clock().now)
    forwarded(admission, 3)
    admission.answered(3, { free: 2, settlingPerSecond: 0 })
    admission.answered(2, { free: 50, settlingPerSecond: 0 })
    expect(forwarded(admission, 10)).toEqual([4])
  })

  it('when places free up at the rate the upstream said, then requests go on at that rate', () => {
    const time = clock()
    const admission = new EdgeAdmission(time.now)
    forwarded(admission, 1)
    admission.answered(1, { free: 1, settlingPerSecond: 20 })
    expect(forwarded(admission, 5)).toEqual([])
    time.advance(100)
    expect(forwarded(admission, 5)).toEqual([2, 3])
    time.advance(50)
    expect(forwarded(admission, 5)).toEqual([4])
  })

  it('when nothing was heard for a second, then one request a second goes on to learn the room again', () => {
    const time = clock()
    const admission = new EdgeAdmission(time.now)
    forwarded(admission, 1)
    admission.answered(1, { free: 1, settlingPerSecond: 0 })
    expect(forwarded(admission, 5)).toEqual([])
    time.advance(1_000)
    expect(forwarded(admission, 5)).toEqual([2])
    time.advance(500)
    expect(forwarded(admission, 5)).toEqual([])
    admission.answered(2, { free: 3, settlingPerSecond: 0 })
    expect(forwarded(admission, 5)).toEqual([3, 4])
  })

  it('when an answer says nothing about room, then nothing is held any more', () => {
    const admission = new EdgeAdmission(clock().now)
    forwarded(admission, 1)
    admission.answered(1, { free: 1, settlingPerSecond: 0 })
    expect(forwarded(admission, 5)).toEqual([])
    admission.answered(1, undefined)
    expect(forwarded(admission, 5)).toHaveLength(5)
  })
})
