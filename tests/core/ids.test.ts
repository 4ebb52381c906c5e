import { describe, expect, it } from '@jest/globals'
import { pooledIds, randomIds } from '../../src/core/ids.js'

/** A byte source that hands out 0, 1, 2, … (mod 256) and counts its draws. */
function countingBytes(): { draw: (bytes: number) => Uint8Array; readonly draws: number[] } {
  let next = 0
  const draws: number[] = []
  const reused = new Uint8Array(64)
  return {
    draws,
    draw: (bytes) => {
      draws.push(bytes)
      const out = bytes <= reused.length ? reused.subarray(0, bytes) : new Uint8Array(bytes)
      for (let i = 0; i < bytes; i++) out[i] = next++ & 0xff
      return out
    },
  }
}

describe('randomIds', () => {
  it('makes 32-hex trace ids and 16-hex step ids, lowercase, never all zero', () => {
    for (let i = 0; i < 2000; i++) {
      const traceId = randomIds.traceId()
      const stepId = randomIds.stepId()
      expect(traceId).toMatch(/^[0-9a-f]{32}$/)
      expect(stepId).toMatch(/^[0-9a-f]{16}$/)
      expect(traceId).not.toBe('0'.repeat(32))
      expect(stepId).not.toBe('0'.repeat(16))
    }
  })

  it('gives 100 000 distinct ids of each size', () => {
    const traces = new Set<string>()
    const steps = new Set<string>()
    for (let i = 0; i < 100_000; i++) {
      traces.add(randomIds.traceId())
      steps.add(randomIds.stepId())
    }
    expect(traces.size).toBe(100_000)
    expect(steps.size).toBe(100_000)
  })

  it('uses every hex digit about equally often at every position', () => {
    const counts = Array.from({ length: 16 }, () => new Array<number>(16).fill(0))
    const n = 64_000
    for (let i = 0; i < n; i++) {
      const id = randomIds.stepId()
      for (let position = 0; position < 16; position++) counts[position]![Number.parseInt(id[position]!, 16)]!++
    }
    // 4 000 expected per cell, standard deviation ≈ 61: 400 off (10 %) is 6.5 deviations, a bias, not chance
    for (const row of counts) for (const count of row) expect(Math.abs(count - n / 16)).toBeLessThan(400)
  })
})

describe('pooledIds', () => {
  it('hex-encodes each draw in order and cuts ids from it', () => {
    const source = countingBytes()
    const ids = pooledIds(source.draw, 32)

    expect(ids.stepId()).toBe('0001020304050607')
    expect(ids.traceId()).toBe('08090a0b0c0d0e0f1011121314151617')
    expect(source.draws).toEqual([32])
  })

  it('draws again at the pool boundary, and never cuts an id across two draws', () => {
    const source = countingBytes()
    const ids = pooledIds(source.draw, 32)   // 64 hex characters per draw

    ids.stepId()                              // characters 0–15
    ids.traceId()                             // 16–47
    expect(ids.stepId()).toBe('18191a1b1c1d1e1f')   // 48–63: the last id of the first draw
    expect(source.draws).toEqual([32])
    expect(ids.stepId()).toBe('2021222324252627')   // the first id of the second draw
    expect(ids.traceId()).toBe('28292a2b2c2d2e2f3031323334353637')
    expect(ids.traceId()).toBe('404142434445464748494a4b4c4d4e4f')   // 16 characters left: dropped, a third draw
    expect(source.draws).toEqual([32, 32, 32])
  })

  it('skips an all-zero id and takes the next one, and keeps an id that is only partly zero', () => {
    const bytes = new Uint8Array(32)
    bytes.fill(0xab, 24)   // hex: 48 zeros, then 'ab' × 8
    const traces = pooledIds(() => bytes, 32)
    const steps = pooledIds(() => bytes, 32)

    expect(traces.traceId()).toBe(`${'0'.repeat(16)}${'ab'.repeat(8)}`)
    expect(steps.stepId()).toBe('ab'.repeat(8))
  })

  it('rejects a pool smaller than a trace id and a byte source that gives too few bytes', () => {
    expect(() => pooledIds(() => new Uint8Array(8), 8)).toThrow(TypeError)
    expect(() => pooledIds(() => new Uint8Array(8), 16).stepId()).toThrow(RangeError)
  })
})
