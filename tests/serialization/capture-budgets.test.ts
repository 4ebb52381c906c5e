// Capture stays within its budget whatever it is given (docs/reliability.md#capture-budgets): time
// as a median over fresh values with a lenient bound, memory in a child process, work as counts.
import { describe, expect, it } from '@jest/globals'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { capture, captureError, defaultCaptureLimits } from '../../src/serialization/capture.js'
import { runNodeFile } from '../helpers/child.js'

const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures')

/** A string of `length` (a multiple of 100) built by += of 100-character chunks, as streamed LLM text accumulates: a V8 rope. */
function rope(length: number): string {
  const chunk = 'The quick brown fox jumps over the lazy dog, then naps in the sun until the evening comes. Again!!!!'
  let text = ''
  while (text.length < length) text += chunk
  return text
}

/** The median time of `runs` calls of `measure`, each on a fresh `make()` value (a rope is flattened by the first read). */
function medianMs<T>(runs: number, make: () => T, measure: (value: T) => unknown): number {
  const times: number[] = []
  for (let i = 0; i < runs; i++) {
    const value = make()
    const start = performance.now()
    measure(value)
    times.push(performance.now() - start)
  }
  return times.sort((a, b) => a - b)[Math.floor(runs / 2)] as number
}

describe('capture: strings longer than the read allowance (2 × maxFieldBytes characters)', () => {
  it('records a 20 MB rope by its length, without flattening it (median of 5 fresh ropes ≤ 5 ms)', () => {
    // flattening 20 MB costs 60-100 ms on this machine: the bound is 10× looser than the figure it rules out
    expect(medianMs(5, () => [rope(20_000_000)], (value) => capture(value))).toBeLessThanOrEqual(5)
    expect(capture([rope(20_000_000)]).value).toEqual(['[Truncated: 20000000 chars]'])
  })

  it('keeps the start of a string within the allowance, and the value after a huge one', () => {
    const result = capture({ long: 'x'.repeat(100_000), huge: rope(1_000_000), after: 'kept' }, { ...defaultCaptureLimits, maxStringLength: 1000 })
    expect(result.value).toEqual({ long: `${'x'.repeat(1000)}...[truncated 99000 chars]`, huge: '[Truncated: 1000000 chars]', after: 'kept' })
    expect(result.truncated).toBe(2)
  })

  it('reads at most the allowance across all the strings of one value', () => {
    // each string is cut by maxStringLength; the first two fit the 2 × 64 KiB allowance, the rest do not
    const limits = { ...defaultCaptureLimits, maxStringLength: 10 }
    const value = capture(Array.from({ length: 5 }, () => 'y'.repeat(60_000)), limits).value as string[]
    expect(value.slice(0, 2)).toEqual(['yyyyyyyyyy...[truncated 59990 chars]', 'yyyyyyyyyy...[truncated 59990 chars]'])
    expect(value.slice(2)).toEqual(['[Truncated: 60000 chars]', '[Truncated: 60000 chars]', '[Truncated: 60000 chars]'])
  })

  it('records a huge error message, a huge thrown string and a huge stack by their length', () => {
    const error = new Error(rope(1_000_000))
    error.stack = rope(2_000_000)
    expect(captureError(error)).toMatchObject({ type: 'Error', message: '[Truncated: 1000000 chars]', stack: '[Truncated: 2000000 chars]' })
    expect(captureError(rope(1_000_000))).toEqual({ type: 'NonError', message: '[Truncated: 1000000 chars]', value: '[Truncated: 1000000 chars]' })
    const getter = { get text(): string { throw new Error(rope(1_000_000)) } }
    expect(capture(getter).value).toEqual({ text: '[Thrown: [Truncated: 1000000 chars]]' })
  })

  it('neither flattens a 100 MB rope nor keeps a 100 MB source alive through a kept prefix (child process)', async () => {
    const child = await runNodeFile(join(FIXTURES, 'capture-memory.mjs'), {}, 60_000)
    expect(child.stderr).toBe('')
    const result = JSON.parse(child.stdout) as { ropeGrowth: number; ropeValue: unknown; retained: number; flatValue: string[] }
    expect(result.ropeValue).toEqual(['[Truncated: 100000098 chars]'])
    // flattening would allocate 95 MiB; the bound is twice the byte budget
    expect(result.ropeGrowth).toBeLessThanOrEqual(2 * defaultCaptureLimits.maxFieldBytes)
    expect(result.flatValue[0]).toMatch(/^(abcdefghij){10}\.\.\.\[truncated 99999900 chars\]$/)
    // kept alive through a slice, the source would be 95 MiB; what is left after GC is heap noise
    // (code, feedback vectors), seen up to 250 KiB on a busy machine: 1 MiB still tells the two apart
    expect(result.retained).toBeLessThanOrEqual(1024 * 1024)
  })
})

describe('capture: work bounded by the budget', () => {
  it('calls at most maxBreadth getters of an object with 100 000 keys, and counts the rest', () => {
    let reads = 0
    const wide: Record<string, number> = {}
    for (let i = 0; i < 100_000; i++) Object.defineProperty(wide, `k${i}`, { get: () => ++reads, enumerable: true })
    const value = capture(wide).value as Record<string, unknown>
    expect(reads).toBe(defaultCaptureLimits.maxBreadth)
    expect(value['…']).toBe('99000 more keys')
  })

  it('captures an argument list of 80 000 items as its first 1 000 (median of 5 ≤ 5 ms)', () => {
    const args = Array.from({ length: 80_000 }, (_, i) => `argument ${i}`)
    expect(medianMs(5, () => args, (value) => capture(value))).toBeLessThanOrEqual(5)
    const value = capture(args).value as unknown[]
    expect(value).toHaveLength(1001)
    expect(value[1000]).toBe('… 79000 more items')
  })
})

describe('capture: re-entrancy', () => {
  it('does not capture again from a getter it calls: the getter runs once, the nested capture is skipped', () => {
    let reads = 0
    const node: Record<string, unknown> = {}
    Object.defineProperty(node, 'self', { enumerable: true, get: () => { reads++; return capture(node).value } })
    expect(capture(node).value).toEqual({ self: '[Skipped: re-entrant capture]' })
    expect(reads).toBe(1)
  })

  it('skips a nested captureError the same way, and captures normally afterwards', () => {
    const value = { get e(): unknown { return captureError(new Error('inner')) } }
    expect(capture(value).value).toEqual({ e: { type: 'Error', message: '[Skipped: re-entrant capture]' } })
    expect(captureError(new Error('after'))).toMatchObject({ type: 'Error', message: 'after' })
  })

  it('skips a nested capture from toJSON', () => {
    const value = { toJSON: (): unknown => capture({ a: 1 }).value }
    expect(capture([value]).value).toEqual(['[Skipped: re-entrant capture]'])
  })
})
