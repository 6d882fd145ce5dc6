import { describe, expect, it } from 'vitest'
import { formatAdmissionCapacity, parseAdmissionCapacity } from './admission-capacity.ts'

describe('Admission-Capacity header', () => {
  it('when room is written, then it reads back the same, with whole places', () => {
    const value = formatAdmissionCapacity({
      free: 3.7,
      placing: 2,
      settlingPerSecond: 82.51234,
      replica: 'a1b2c3',
    })
    expect(value).toBe('free=3, placing=2, settling=82.512, replica="a1b2c3"')
    expect(parseAdmissionCapacity(value)).toEqual({
      free: 3,
      placing: 2,
      settlingPerSecond: 82.512,
      replica: 'a1b2c3',
    })
  })

  it('when the value is missing, malformed or not numbers, then there is no word on room', () => {
    for (const value of [
      undefined,
      '',
      'free=',
      'free=3',
      'free=3, settling=?1',
      'free="3", settling=1',
      'free=-1, settling=1',
      'free=1, placing=-1, settling=1',
    ]) {
      expect(parseAdmissionCapacity(value)).toBeUndefined()
    }
  })

  it('when the header came in two lines, without a replica, then they are read as one dictionary', () => {
    expect(parseAdmissionCapacity(['free=2', 'settling=0.5'])).toEqual({
      free: 2,
      placing: 0,
      settlingPerSecond: 0.5,
      replica: undefined,
    })
  })
})
