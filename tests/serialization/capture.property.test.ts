import { describe, expect, it } from '@jest/globals'
import fc from 'fast-check'
import { capture, captureError, defaultCaptureLimits, type CaptureLimits } from '../../src/serialization/capture.js'
import { createRedactor } from '../../src/serialization/redact.js'
import { dirtyStrings, jsonBytes } from '../helpers/json.js'

const OVERHEAD = 256

/** Every kind of value fast-check knows how to build, strings with lone surrogates and control characters included. */
const anything = fc.anything({
  withBigInt: true,
  withMap: true,
  withSet: true,
  withTypedArray: true,
  withDate: true,
  withSparseArray: true,
  withNullPrototype: true,
  withBoxedValues: true,
  withObjectString: true,
  stringUnit: 'binary',
  maxDepth: 6,
})

const tight: CaptureLimits = { maxDepth: 4, maxBreadth: 5, maxNodes: 60, maxStringLength: 50, maxFieldBytes: 512, maxKeyLength: 8 }

/**
 * Escapes in strings of more than 32 characters are only counted past min(1 KiB, maxFieldBytes / 16)
 * bytes (see capture.ts), so the real size may exceed the estimate by at most 5× that threshold.
 */
function escapeSlack(limits: CaptureLimits): number {
  return 5 * Math.min(1024, Math.floor(limits.maxFieldBytes / 16))
}

function roundTrips(value: unknown): void {
  expect(JSON.parse(JSON.stringify(value))).toEqual(value)
}

describe('capture (properties)', () => {
  for (const [name, limits] of [['default limits', defaultCaptureLimits], ['tight limits', tight]] as const) {
    it(`never throws, round-trips through JSON and stays within the byte budget (${name})`, () => {
      fc.assert(fc.property(anything, (value) => {
        const result = capture(value, limits)
        roundTrips(result.value)
        expect(result.bytes).toBeLessThanOrEqual(limits.maxFieldBytes + OVERHEAD)
        const actual = jsonBytes(result.value)
        expect(actual).toBeLessThanOrEqual(limits.maxFieldBytes + OVERHEAD + escapeSlack(limits))
        expect(actual).toBeGreaterThanOrEqual(result.bytes)
        expect(actual - result.bytes).toBeLessThanOrEqual(escapeSlack(limits))
        expect(dirtyStrings(result.value)).toEqual([])
      }), { numRuns: 500 })
    })
  }

  it('is idempotent on what it produced when nothing was cut', () => {
    fc.assert(fc.property(anything, (value) => {
      const first = capture(value)
      fc.pre(first.truncated === 0)
      const second = capture(first.value)
      expect(second.value).toEqual(first.value)
      expect(second.bytes).toBe(first.bytes)
    }), { numRuns: 300 })
  })

  it('keeps JSON data as JSON.stringify would, with the exact byte count', () => {
    fc.assert(fc.property(fc.jsonValue({ maxDepth: 5 }), (value) => {
      const result = capture(value)
      expect(result.truncated).toBe(0)
      expect(result.value).toEqual(JSON.parse(JSON.stringify(value)))
      expect(result.bytes).toBe(jsonBytes(value))
    }), { numRuns: 300 })
  })

  it('captureError never throws and gives a storable record for anything thrown', () => {
    fc.assert(fc.property(anything, fc.string(), (value, message) => {
      for (const thrown of [value, new Error(message, { cause: value }), new AggregateError([value], message)]) {
        const record = captureError(thrown, tight)
        expect(typeof record.type).toBe('string')
        expect(typeof record.message).toBe('string')
        roundTrips(record)
      }
    }), { numRuns: 200 })
  })

  it('the redactor never throws on captured values and is idempotent', () => {
    const redactor = createRedactor({ paths: ['input[*].a', '*.b'] })
    fc.assert(fc.property(anything, (value) => {
      const captured = capture(value, tight).value
      const once = redactor.value(captured, 'input')
      roundTrips(once)
      expect(redactor.value(once, 'input')).toEqual(once)
    }), { numRuns: 300 })
  })
})
