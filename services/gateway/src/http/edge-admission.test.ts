import { describe, expect, it } from 'vitest'
import { EdgeAdmission } from './edge-admission.ts'

// A clock the test moves by hand.
function clock() {
  let nowMs = 10_000
  return { now: () => nowMs, advance: (ms: number) => (nowMs += ms) }
}

// send offers `tries` requests, and gives back the ones let through.
const send = (admission: EdgeAdmission, tries: number) => {
  const sent: object[] = []
  for (let i = 0; i < tries; i++) {
    const request = {}
    if (admission.forward(request)) sent.push(request)
  }
  return sent
}

const room = (free: number, placing = 0, settlingPerSecond = 0, replica?: string) => ({
  free,
  placing,
  settlingPerSecond,
  replica,
})

describe('edge admission', () => {
  it('when the upstream has not said how much room it has, then everything is forwarded', () => {
    const admission = new EdgeAdmission(clock().now)
    expect(send(admission, 100)).toHaveLength(100)
  })

  it('when an answer says how much room is left, then only that much more is sent', () => {
    const admission = new EdgeAdmission(clock().now)
    const [first] = send(admission, 1)
    admission.answered(first as object, room(2))
    expect(send(admission, 10)).toHaveLength(2)
  })

  it('when requests are pending, then those the upstream is still working on are not counted twice', () => {
    const admission = new EdgeAdmission(clock().now)
    const [first] = send(admission, 6)
    // Five pending: three admitted and being placed (their places already out of `free`), two
    // not decided yet: of 4 free places, two are left.
    admission.answered(first as object, room(4, 3))
    expect(send(admission, 10)).toHaveLength(2)
  })

  it('when several replicas are working on requests, then what each said it is working on adds up', () => {
    const time = clock()
    const admission = new EdgeAdmission(time.now)
    const [a, b] = send(admission, 8)
    admission.answered(a as object, room(0, 3, 0, 'one'))
    admission.answered(b as object, room(6, 3, 0, 'two'))
    // Six pending, all being placed by one replica or the other: the six free places are left.
    expect(send(admission, 10)).toHaveLength(6)
    // A replica not heard from for a second no longer vouches for its pending ones.
    time.advance(1_001)
    const [c] = send(admission, 1)
    admission.answered(c as object, room(6, 3, 0, 'two'))
    expect(send(admission, 10)).toHaveLength(0)
  })

  it('when nothing is pending, then places free up at the rate the upstream said; while one is, its answer is awaited', () => {
    const time = clock()
    const admission = new EdgeAdmission(time.now)
    const [first] = send(admission, 1)
    admission.answered(first as object, room(0, 0, 20))
    expect(send(admission, 5)).toHaveLength(0)
    time.advance(100)
    // Two places foreseen: one request goes on, and then its answer is what tells the room.
    const [second] = send(admission, 5)
    expect(second).toBeDefined()
    time.advance(500)
    expect(send(admission, 5)).toHaveLength(0)
    admission.answered(second as object, room(3, 0, 20))
    expect(send(admission, 5)).toHaveLength(3)
  })

  it('when a request let through ends without an answer, then its place is given back', () => {
    const admission = new EdgeAdmission(clock().now)
    const [first, second] = send(admission, 2)
    admission.answered(first as object, room(1))
    expect(send(admission, 5)).toHaveLength(0)
    admission.closed(second as object)
    expect(send(admission, 5)).toHaveLength(1)
  })

  it('when nothing was heard for a second, then one request a second goes on to learn the room again', () => {
    const time = clock()
    const admission = new EdgeAdmission(time.now)
    const [first] = send(admission, 1)
    admission.answered(first as object, room(0))
    expect(send(admission, 5)).toHaveLength(0)
    time.advance(1_000)
    const probe = send(admission, 5)
    expect(probe).toHaveLength(1)
    time.advance(500)
    expect(send(admission, 5)).toHaveLength(0)
    admission.answered(probe[0] as object, room(2))
    expect(send(admission, 5)).toHaveLength(2)
  })

  it('when an answer says nothing about room, then nothing is held any more', () => {
    const admission = new EdgeAdmission(clock().now)
    const [first, second] = send(admission, 2)
    admission.answered(first as object, room(0))
    expect(send(admission, 5)).toHaveLength(0)
    admission.answered(second as object, undefined)
    expect(send(admission, 5)).toHaveLength(5)
  })

  it('when a request it never let through is answered, then that says nothing', () => {
    const admission = new EdgeAdmission(clock().now)
    const [first] = send(admission, 1)
    admission.answered(first as object, room(0))
    admission.answered({}, undefined)
    expect(send(admission, 5)).toHaveLength(0)
  })
})
