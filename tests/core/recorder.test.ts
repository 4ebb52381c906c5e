import { describe, expect, it } from '@jest/globals'
import fc from 'fast-check'
import { iso } from '../../src/core/recorder.js'

describe('iso (the cached timestamp formatter)', () => {
  it('formats exactly like Date#toISOString, across second boundaries and fractional milliseconds', () => {
    fc.assert(fc.property(fc.double({ min: 0, max: 253_402_300_799_999, noNaN: true }), (epoch) => {
      expect(iso(epoch)).toBe(new Date(Math.floor(epoch)).toISOString())
    }), { numRuns: 5000 })
    const base = Date.UTC(2026, 10, 25, 6, 59, 59, 998)
    for (let t = base; t < base + 5; t += 0.5) expect(iso(t)).toBe(new Date(Math.floor(t)).toISOString())
  })
})
