import { describe, expect, it, jest } from '@jest/globals'
import { Buffer } from 'node:buffer'
import { Readable } from 'node:stream'
import vm from 'node:vm'
import type { JsonValue } from '../../src/document/document.js'
import { capture, captureError, defaultCaptureLimits, type CaptureLimits, type Captured } from '../../src/serialization/capture.js'
import { createRedactor } from '../../src/serialization/redact.js'
import { dirtyStrings, jsonBytes } from '../helpers/json.js'

/** The marker overhead a captured value may exceed its byte budget by. */
const OVERHEAD = 256

/** The global rules of docs/capture-and-redaction.md: valid JSON that round-trips, and within the byte budget. */
function expectStorable(result: Captured, limits: CaptureLimits = defaultCaptureLimits): void {
  const json = JSON.stringify(result.value)
  expect(typeof json).toBe('string')
  expect(JSON.parse(json)).toEqual(result.value)
  expect(dirtyStrings(result.value)).toEqual([])   // no NUL, no lone surrogate (jsonb-safe)
  expect(result.bytes).toBeLessThanOrEqual(limits.maxFieldBytes + OVERHEAD)
  expect(jsonBytes(result.value)).toBeLessThanOrEqual(limits.maxFieldBytes + OVERHEAD)
}

function limitsWith(overrides: Partial<CaptureLimits>): CaptureLimits {
  return { ...defaultCaptureLimits, ...overrides }
}

interface Row {
  readonly row: number
  readonly name: string
  readonly input: () => unknown
  readonly limits?: CaptureLimits
  /** The exact captured value, when it is known up front. */
  readonly expected?: JsonValue
  readonly truncated?: number
  /** Further checks on the result. */
  readonly check?: (result: Captured) => void
  /** `bytes` equals the UTF-8 size of the JSON (true unless escapes are involved). */
  readonly exactBytes?: boolean
  /** Checks on the input after capture (spies not called, streams not consumed). */
  readonly after?: (input: never) => void
}

function circularObject(): unknown {
  const a: Record<string, unknown> = { name: 'a', list: [1] }
  a.self = a
  a.nested = { back: a, sibling: 2 }
  return a
}

function circularArray(): unknown {
  const arr: unknown[] = [1, 'x']
  arr.push(arr, [arr])
  return arr
}

function exponentialDag(): unknown {
  let node: Record<string, unknown> = { leaf: true }
  for (let i = 0; i < 31; i++) node = { a: node, b: node }
  return node
}

function deep(levels: number, array: boolean): unknown {
  const root: unknown[] | Record<string, unknown> = array ? [] : {}
  let current = root
  for (let i = 0; i < levels; i++) {
    const next: unknown[] | Record<string, unknown> = array ? [] : {}
    if (Array.isArray(current)) current.push(next)
    else current.d = next
    current = next
  }
  return root
}

function depthOf(value: JsonValue): number {
  let depth = 0
  let current: JsonValue = value
  while (typeof current === 'object' && current !== null) {
    depth++
    current = Array.isArray(current) ? (current[0] as JsonValue) : ((current as Record<string, JsonValue>).d as JsonValue)
  }
  return depth
}

function stackOf(lines: number): Error {
  const error = new Error('deep stack')
  error.stack = Array.from({ length: lines }, (_, i) => `    at frame${i} (file.js:${i}:1)`).join('\n')
  return error
}

const TAG: unique symbol = Symbol('tag')

class Tagged {
  readonly a = 1
  readonly [TAG] = 2
}

class WithPrivate {
  #hidden = 'private'
  readonly visible = 1
  readonly getterSpy = jest.fn()
  get computed(): number {
    this.getterSpy()
    return this.#hidden.length
  }
}

class FakeSuppressedError extends Error {
  constructor(readonly error: unknown, readonly suppressed: unknown) {
    super('suppressed')
    this.name = 'SuppressedError'
  }
}

const rows: ReadonlyArray<Row> = [
  {
    row: 1, name: 'circular object: "[Circular]" at the back-edge only, siblings kept',
    input: circularObject,
    expected: { name: 'a', list: [1], self: '[Circular]', nested: { back: '[Circular]', sibling: 2 } },
    truncated: 2,
  },
  {
    row: 2, name: 'circular array',
    input: circularArray,
    expected: [1, 'x', '[Circular]', ['[Circular]']],
    truncated: 2,
  },
  {
    row: 3, name: 'shared, non-circular reference: serialized again each time',
    input: () => {
      const shared = { x: 1 }
      return { a: shared, b: [shared, shared] }
    },
    expected: { a: { x: 1 }, b: [{ x: 1 }, { x: 1 }] },
    truncated: 0,
  },
  {
    // Speed (≤ 10 ms) is measured in the bench, not here.
    row: 4, name: 'exponential shared DAG stops at the budget with "[Truncated: budget]"',
    input: exponentialDag,
    check: (r) => {
      expect(JSON.stringify(r.value)).toContain('[Truncated: budget]')
      expect(r.truncated).toBeGreaterThan(0)
    },
  },
  {
    row: 4, name: 'exponential shared DAG under a small node budget',
    input: exponentialDag,
    limits: limitsWith({ maxNodes: 200, maxDepth: 40 }),
    check: (r) => {
      expect(JSON.stringify(r.value)).toContain('[Truncated: budget]')
      expect(r.bytes).toBeLessThan(4000)
    },
  },
  {
    row: 5, name: 'BigInt: a decimal string',
    input: () => ({ big: 12345678901234567890n, negative: -5n, list: [0n] }),
    expected: { big: '12345678901234567890', negative: '-5', list: ['0'] },
  },
  {
    row: 6, name: 'symbol keys are left out (plain object)',
    input: () => ({ visible: 1, [Symbol('hidden')]: 2 }),
    expected: { visible: 1 },
  },
  {
    row: 6, name: 'symbol keys are left out and counted (class instance)',
    input: () => new Tagged(),
    expected: { $class: 'Tagged', a: 1 },
    truncated: 1,
  },
  {
    row: 7, name: 'symbol value: "Symbol(desc)"',
    input: () => [Symbol('desc'), Symbol(), Symbol.for('registered')],
    expected: ['Symbol(desc)', 'Symbol()', 'Symbol(registered)'],
  },
  {
    row: 8, name: 'function value: "[Function: name]", never called',
    input: () => {
      const spy = jest.fn()
      const anonymous = [(): number => 1][0]
      return { named: function search(): void { spy() }, anonymous, spy }
    },
    check: (r) => expect(r.value).toEqual({ named: '[Function: search]', anonymous: '[Function: anonymous]', spy: '[Function: mockConstructor]' }),
    after: (input: { spy: jest.Mock }) => expect(input.spy).not.toHaveBeenCalled(),
  },
  {
    row: 8, name: 'a function as the top-level input',
    input: () => function handler(): void { throw new Error('called') },
    expected: '[Function: handler]',
  },
  {
    row: 9, name: 'undefined: key omitted, null inside arrays',
    input: () => ({ a: undefined, b: 1, list: [undefined, 2] }),
    expected: { b: 1, list: [null, 2] },
  },
  {
    row: 9, name: 'undefined at the top level: null',
    input: () => undefined,
    expected: null,
  },
  {
    row: 10, name: 'NaN / Infinity / -Infinity as strings, -0 as 0',
    input: () => [NaN, Infinity, -Infinity, -0, 1.5, -2, 1e21],
    expected: ['NaN', 'Infinity', '-Infinity', 0, 1.5, -2, 1e21],
    check: (r) => expect(Object.is((r.value as number[])[3], 0)).toBe(true),
  },
  {
    row: 11, name: 'own getter that throws: "[Thrown: message]", siblings kept',
    input: () => ({ get boom(): never { throw new Error('nope') }, ok: 1 }),
    expected: { boom: '[Thrown: nope]', ok: 1 },
    truncated: 1,
  },
  {
    row: 11, name: 'a thrown message is cut to 200 characters',
    input: () => ({ get boom(): never { throw new Error('m'.repeat(1000)) } }),
    expected: { boom: `[Thrown: ${'m'.repeat(200)}]` },
  },
  {
    row: 12, name: 'toJSON that throws: "[Thrown: …]"',
    input: () => ({ a: { toJSON(): never { throw new Error('tj') } }, b: 1 }),
    expected: { a: '[Thrown: tj]', b: 1 },
  },
  {
    row: 13, name: 'toJSON that returns a circular value is walked under the same rules',
    input: () => ({
      toJSON(): unknown {
        const o: Record<string, unknown> = { n: 1 }
        o.o = o
        return o
      },
    }),
    expected: { n: 1, o: '[Circular]' },
  },
  {
    row: 13, name: 'toJSON that returns a huge value is walked under the same budgets',
    input: () => ({ toJSON: () => Array.from({ length: 5000 }, () => 'y'.repeat(100)) }),
    check: (r) => {
      expect(JSON.stringify(r.value)).toContain('[Truncated: budget]')
      expect(r.truncated).toBeGreaterThan(0)
    },
  },
  {
    row: 13, name: 'toJSON returning this is not called again',
    input: () => ({ a: 1, toJSON(): unknown { return this } }),
    expected: { a: 1, toJSON: '[Function: toJSON]' },
  },
  {
    row: 14, name: 'Proxy whose ownKeys / get / getPrototypeOf trap throws: "[Unserializable: …]"',
    input: () => [
      new Proxy({ a: 1 }, { ownKeys: () => { throw new Error('ownKeys trap') } }),
      new Proxy({ a: 1 }, { get: () => { throw new Error('get trap') } }),
      new Proxy({ a: 1 }, { getPrototypeOf: () => { throw new Error('proto trap') } }),
      new Proxy({ a: 1 }, {}),
    ],
    expected: ['[Unserializable: ownKeys trap]', '[Unserializable: get trap]', '[Unserializable: proto trap]', { a: 1 }],
  },
  {
    row: 15, name: 'revoked Proxy: "[Unserializable: …]", siblings kept',
    input: () => {
      const { proxy, revoke } = Proxy.revocable({}, {})
      revoke()
      return { proxy, list: [proxy], ok: true }
    },
    check: (r) => {
      const v = r.value as { proxy: string; list: string[]; ok: boolean }
      expect(v.proxy).toMatch(/^\[Unserializable: .*revoked.*\]$/)
      expect(v.list[0]).toMatch(/^\[Unserializable: /)
      expect(v.ok).toBe(true)
    },
  },
  {
    row: 16, name: 'Map: {"$map": [[k, v], …]}, object keys sanitized too',
    input: () => new Map<unknown, unknown>([[{ id: 1n }, 'object key'], ['k', new Date(0)]]),
    expected: { $map: [[{ id: '1' }, 'object key'], ['k', '1970-01-01T00:00:00.000Z']] },
  },
  {
    row: 16, name: 'Map with a breadth cap',
    input: () => new Map([1, 2, 3, 4, 5].map((n) => [n, n * 10])),
    limits: limitsWith({ maxBreadth: 2 }),
    expected: { $map: [[1, 10], [2, 20], '… 3 more items'] },
    truncated: 1,
  },
  {
    row: 17, name: 'Set: {"$set": […]}',
    input: () => new Set<unknown>([1, 'a', { b: 2 }]),
    expected: { $set: [1, 'a', { b: 2 }] },
  },
  {
    row: 17, name: 'Set with a breadth cap',
    input: () => new Set([1, 2, 3, 4]),
    limits: limitsWith({ maxBreadth: 3 }),
    expected: { $set: [1, 2, 3, '… 1 more items'] },
  },
  {
    row: 18, name: 'WeakMap / WeakSet / WeakRef / FinalizationRegistry',
    input: () => [new WeakMap(), new WeakSet(), new WeakRef({}), new FinalizationRegistry(() => undefined)],
    expected: ['[WeakMap]', '[WeakSet]', '[WeakRef]', '[FinalizationRegistry]'],
  },
  {
    row: 19, name: 'valid Date: ISO string; invalid Date: "Invalid Date"',
    input: () => [new Date(Date.UTC(2026, 10, 24, 10)), new Date(NaN)],
    expected: ['2026-11-24T10:00:00.000Z', 'Invalid Date'],
  },
  {
    row: 20, name: 'RegExp: "/source/flags"',
    input: () => [/ab+c/gi, new RegExp('a/b', 'u')],
    expected: ['/ab+c/gi', '/a\\/b/u'],
  },
  {
    row: 21, name: 'Error with a cause chain and a code',
    input: () => Object.assign(new Error('outer', { cause: new TypeError('inner') }), { code: 'E_OUTER' }),
    exactBytes: true,
    check: (r) => {
      expect(r.value).toMatchObject({ type: 'Error', message: 'outer', code: 'E_OUTER', cause: { type: 'TypeError', message: 'inner' } })
      expect((r.value as { stack: string }).stack).toMatch(/^Error: outer\n/)
    },
  },
  {
    row: 21, name: 'cyclic cause: "[Circular cause]"',
    input: () => {
      const a = new Error('a')
      const b = new Error('b', { cause: a })
      a.cause = b
      return a
    },
    check: (r) => expect(r.value).toMatchObject({ message: 'a', cause: { message: 'b', cause: '[Circular cause]' } }),
  },
  {
    row: 21, name: 'a function-valued (VError-style) cause is not called',
    input: () => {
      const spy = jest.fn(() => new Error('should not be created'))
      return { error: Object.assign(new Error('verror'), { cause: spy }), spy }
    },
    check: (r) => expect((r.value as { error: { cause: string } }).error.cause).toBe('[Function: mockConstructor]'),
    after: (input: { spy: jest.Mock }) => expect(input.spy).not.toHaveBeenCalled(),
  },
  {
    row: 21, name: 'stack kept to 50 lines',
    input: () => stackOf(200),
    check: (r) => expect((r.value as { stack: string }).stack.split('\n')).toHaveLength(50),
  },
  {
    row: 21, name: 'causes followed 5 deep',
    input: () => {
      let error = new Error('e0')
      for (let i = 1; i <= 8; i++) error = new Error(`e${i}`, { cause: error })
      return error
    },
    check: (r) => {
      let current = r.value as { message: string; cause?: unknown }
      const messages: string[] = []
      while (typeof current === 'object') {
        messages.push(current.message)
        current = current.cause as typeof current
      }
      expect(messages).toEqual(['e8', 'e7', 'e6', 'e5', 'e4', 'e3'])
      expect(current).toBe('[Truncated: cause depth]')
    },
  },
  {
    row: 22, name: 'AggregateError: errors[] with a breadth cap',
    input: () => new AggregateError([new Error('one'), 'two', new RangeError('three'), 4], 'many'),
    limits: limitsWith({ maxBreadth: 3 }),
    check: (r) => {
      const v = r.value as { type: string; errors: unknown[] }
      expect(v.type).toBe('AggregateError')
      expect(v.errors).toHaveLength(4)
      expect(v.errors[0]).toMatchObject({ type: 'Error', message: 'one' })
      expect(v.errors[1]).toBe('two')
      expect(v.errors[2]).toMatchObject({ type: 'RangeError', message: 'three' })
      expect(v.errors[3]).toBe('… 1 more items')
    },
  },
  {
    row: 22, name: 'SuppressedError: error and suppressed as errors[]',
    input: () => new FakeSuppressedError(new Error('while disposing'), new Error('original')),
    check: (r) => expect(r.value).toMatchObject({ type: 'SuppressedError', errors: [{ message: 'while disposing' }, { message: 'original' }] }),
  },
  {
    row: 23, name: 'a thrown non-Error nested in a value is captured as data',
    input: () => ({ thrown: 'x', empty: {} }),
    expected: { thrown: 'x', empty: {} },
  },
  {
    row: 24, name: 'Buffer / typed arrays / DataView / ArrayBuffer: {$bytes, type, base64}',
    input: () => [Buffer.from('hello'), new Uint8Array([1, 2, 3]), new Float64Array([1]), new DataView(new ArrayBuffer(2)), new ArrayBuffer(3), new Uint8Array(new ArrayBuffer(8), 2, 3)],
    expected: [
      { $bytes: 5, type: 'Buffer', base64: 'aGVsbG8=' },
      { $bytes: 3, type: 'Uint8Array', base64: 'AQID' },
      { $bytes: 8, type: 'Float64Array', base64: 'AAAAAAAA8D8=' },
      { $bytes: 2, type: 'DataView', base64: 'AAA=' },
      { $bytes: 3, type: 'ArrayBuffer', base64: 'AAAA' },
      { $bytes: 3, type: 'Uint8Array', base64: 'AAAA' },
    ],
  },
  {
    row: 24, name: 'a large Buffer keeps the first 1 KiB as base64',
    input: () => Buffer.alloc(5000, 1),
    check: (r) => {
      expect(r.value).toEqual({ $bytes: 5000, type: 'Buffer', base64: Buffer.alloc(1024, 1).toString('base64') })
      expect(r.truncated).toBe(1)
    },
  },
  {
    row: 25, name: 'Promise and thenables: "[Promise]", then never called',
    input: () => {
      const spy = jest.fn()
      const promise = Promise.resolve(1)
      Object.defineProperty(promise, 'then', { value: spy })
      return { promise, thenable: { then: spy }, spy }
    },
    check: (r) => expect(r.value).toMatchObject({ promise: '[Promise]', thenable: '[Promise]' }),
    after: (input: { spy: jest.Mock }) => expect(input.spy).not.toHaveBeenCalled(),
  },
  {
    row: 26, name: 'streams and async iterables are never consumed',
    input: () => {
      let started = false
      async function* generate(): AsyncGenerator<number> {
        started = true
        yield 1
      }
      const node = Readable.from(['a', 'b'])
      const web = new ReadableStream()
      const generator = generate()
      class Stream {
        [Symbol.asyncIterator](): AsyncGenerator<number> { return generate() }
        readonly id = 'stream-1'
      }
      const iterable = new Stream()
      return { node, web, generator, iterable, state: () => ({ started, flowing: node.readableFlowing, locked: web.locked }) }
    },
    check: (r) => expect(r.value).toMatchObject({ node: '[ReadableStream]', web: '[ReadableStream]', generator: '[AsyncIterable]', iterable: '[AsyncIterable]' }),
    after: (input: { state: () => unknown }) => expect(input.state()).toEqual({ started: false, flowing: null, locked: false }),
  },
  {
    row: 27, name: 'class instances: own enumerable data plus "$class", no private fields, no prototype getters',
    input: () => new WithPrivate(),
    check: (r) => expect(r.value).toEqual({ $class: 'WithPrivate', visible: 1, getterSpy: '[Function: mockConstructor]' }),
    after: (input: WithPrivate) => expect(input.getterSpy).not.toHaveBeenCalled(),
  },
  {
    row: 28, name: 'Object.create(null): like a plain object',
    input: () => Object.assign(Object.create(null) as Record<string, unknown>, { a: 1, hasOwnProperty: 'shadowed' }),
    expected: { a: 1, hasOwnProperty: 'shadowed' },
  },
  {
    row: 29, name: '__proto__ / constructor / prototype keys kept as data',
    input: () => JSON.parse('{"__proto__":{"polluted":1},"constructor":{"prototype":{"polluted":2}},"prototype":3}'),
    check: (r) => {
      expect(({} as Record<string, unknown>).polluted).toBeUndefined()
      expect(Object.getPrototypeOf(r.value)).toBe(Object.prototype)
      expect(JSON.stringify(r.value)).toBe('{"__proto__":{"polluted":1},"constructor":{"prototype":{"polluted":2}},"prototype":3}')
    },
  },
  {
    row: 30, name: 'lone surrogates → U+FFFD (values and keys)',
    input: () => ({ ['k\uDC00']: 'a\uD800b', pair: '😀', cut: '\uD83D' }),
    expected: { ['k\uFFFD']: 'a\uFFFDb', pair: '😀', cut: '\uFFFD' },
  },
  {
    row: 31, name: 'NUL → U+FFFD',
    input: () => ({ text: 'a\u0000b', long: `${'z'.repeat(40)}\u0000` }),
    expected: { text: 'a\uFFFDb', long: `${'z'.repeat(40)}\uFFFD` },
  },
  {
    row: 32, name: 'long string (100 000 chars): the start plus "...[truncated N chars]"',
    input: () => 'x'.repeat(100_000),
    check: (r) => {
      const s = r.value as string
      const kept = s.indexOf('...[truncated')
      expect(kept).toBe(defaultCaptureLimits.maxFieldBytes - 2)   // the field budget is smaller than maxStringLength here
      expect(s.slice(kept)).toBe(`...[truncated ${100_000 - kept} chars]`)
      expect(r.truncated).toBe(1)
    },
  },
  {
    // reading any character of a rope flattens all of it (docs/reliability.md#capture-budgets)
    row: 32, name: 'huge string (10 MB, over 2 × maxFieldBytes): its length only, no character read',
    input: () => 'x'.repeat(10_000_000),
    expected: '[Truncated: 10000000 chars]',
    truncated: 1,
  },
  {
    row: 32, name: 'long string under maxStringLength',
    input: () => ({ s: 'é'.repeat(100_000) }),
    limits: limitsWith({ maxStringLength: 100 }),
    expected: { s: `${'é'.repeat(100)}...[truncated 99900 chars]` },
  },
  {
    row: 32, name: 'huge string inside a value: its length only',
    input: () => ({ s: 'é'.repeat(1_000_000), after: 'kept' }),
    limits: limitsWith({ maxStringLength: 100 }),
    expected: { s: '[Truncated: 1000000 chars]', after: 'kept' },
  },
  {
    row: 33, name: 'huge array (1e6): first 1 000 items plus "… 999000 more items"',
    input: () => new Array(1_000_000).fill(1),
    check: (r) => {
      const v = r.value as JsonValue[]
      expect(v).toHaveLength(1001)
      expect(v[999]).toBe(1)
      expect(v[1000]).toBe('… 999000 more items')
    },
  },
  {
    row: 33, name: 'huge Set',
    input: () => new Set(Array.from({ length: 5000 }, (_, i) => i)),
    check: (r) => {
      const items = (r.value as { $set: JsonValue[] }).$set
      expect(items).toHaveLength(1001)
      expect(items[1000]).toBe('… 4000 more items')
    },
  },
  {
    // Speed (≤ 5 ms) is measured in the bench, not here.
    row: 34, name: 'sparse array with length 1e9: the breadth cap stops the walk',
    input: () => {
      const sparse: unknown[] = []
      sparse.length = 1e9
      sparse[5] = 'five'
      return sparse
    },
    check: (r) => {
      const v = r.value as JsonValue[]
      expect(v).toHaveLength(1001)
      expect(v[5]).toBe('five')
      expect(v[6]).toBeNull()
      expect(v[1000]).toBe('… 999999000 more items')
    },
  },
  {
    row: 35, name: 'object with 1e6 keys: first 1 000 keys plus "…": "999000 more keys"',
    input: () => {
      const big: Record<string, number> = {}
      for (let i = 0; i < 1_000_000; i++) big[`k${i}`] = i
      return big
    },
    check: (r) => {
      const v = r.value as Record<string, JsonValue>
      expect(Object.keys(v)).toHaveLength(1001)
      expect(v.k999).toBe(999)
      expect(v['…']).toBe('999000 more keys')
    },
  },
  {
    row: 36, name: 'deep nesting (100 000 levels of objects): "[Object]" at maxDepth, no RangeError',
    input: () => deep(100_000, false),
    check: (r) => {
      expect(depthOf(r.value)).toBe(defaultCaptureLimits.maxDepth)
      expect(JSON.stringify(r.value)).toContain('"[Object]"')
    },
  },
  {
    row: 36, name: 'deep nesting of arrays: "[Array]"',
    input: () => deep(100_000, true),
    check: (r) => {
      expect(depthOf(r.value)).toBe(defaultCaptureLimits.maxDepth)
      expect(JSON.stringify(r.value)).toContain('"[Array]"')
    },
  },
  {
    row: 37, name: 'boxed primitives are unboxed',
    // eslint-disable-next-line no-new-wrappers
    input: () => [new Number(5), new String('x'), new Boolean(false), Object(7n), Object(Symbol('s'))],
    expected: [5, 'x', false, '7', 'Symbol(s)'],
  },
  {
    row: 38, name: 'very long key (1 MB): truncated to maxKeyLength',
    input: () => ({ ['k'.repeat(1_000_000)]: 1 }),
    check: (r) => {
      const keys = Object.keys(r.value as object)
      expect(keys).toHaveLength(1)
      expect(keys[0]).toBe('k'.repeat(defaultCaptureLimits.maxKeyLength))
      expect(r.truncated).toBe(1)
    },
  },
  {
    row: 39, name: 'cross-realm values (vm context)',
    input: () => vm.runInNewContext(`({
      date: new Date(0), map: new Map([[1, 2]]), set: new Set(['a']), error: new TypeError('x'),
      plain: { list: [1, 2] }, regexp: /x/g, bytes: new Uint8Array([255]), boxed: new Number(3), promise: Promise.resolve(1),
    })`),
    check: (r) => {
      expect(r.value).toMatchObject({
        date: '1970-01-01T00:00:00.000Z', map: { $map: [[1, 2]] }, set: { $set: ['a'] }, error: { type: 'TypeError', message: 'x' },
        plain: { list: [1, 2] }, regexp: '/x/g', bytes: { $bytes: 1, type: 'Uint8Array', base64: '/w==' }, boxed: 3, promise: '[Promise]',
      })
      expect((r.value as Record<string, unknown>).plain).not.toHaveProperty('$class')
    },
  },
  {
    row: 40, name: 'a bounded snapshot: later mutation of the input does not change the capture',
    input: () => ({ messages: [{ role: 'user', content: 'hi' }] }),
    check: (r) => expect(r.value).toEqual({ messages: [{ role: 'user', content: 'hi' }] }),
  },
  {
    row: 42, name: '`arguments` is stored as an array of sanitized args',
    input: function collect(): unknown {
      return (function (..._: unknown[]) { return arguments })(1, 'two', 3n, undefined)
    },
    expected: [1, 'two', '3', null],
  },
  {
    row: 42, name: 'several args: an array of sanitized args',
    input: () => ['What is RAG?', { k: 3 }, () => 1],
    expected: ['What is RAG?', { k: 3 }, '[Function: anonymous]'],
  },
]

describe('capture: hostile input catalogue (docs/capture-and-redaction.md)', () => {
  for (const r of rows) {
    it(`${r.row}. ${r.name}`, () => {
      const limits = r.limits ?? defaultCaptureLimits
      const input = r.input()
      const result = capture(input, limits)
      expectStorable(result, limits)
      if (r.expected !== undefined) expect(result.value).toEqual(r.expected)
      if (r.truncated !== undefined) expect(result.truncated).toBe(r.truncated)
      r.check?.(result)
      if (r.exactBytes !== false) expect(result.bytes).toBe(jsonBytes(result.value))
      r.after?.(input as never)
    })
  }

  it('40. the snapshot does not follow later mutations', () => {
    const input = { messages: [{ role: 'user', content: 'hi' }] }
    const result = capture([input])
    input.messages.push({ role: 'assistant', content: 'later' })
    expect(result.value).toEqual([{ messages: [{ role: 'user', content: 'hi' }] }])
  })

  it('41. secrets inside captured values are masked by the redactor', () => {
    const captured = capture([{ apiKey: 'sk-abc', headers: { Authorization: 'Bearer abcdef123456' }, dsn: 'postgres://u:p4ss@h/db' }])
    const redacted = createRedactor().value(captured.value, 'input')
    expect(redacted).toEqual([{ apiKey: '[REDACTED]', headers: { Authorization: '[REDACTED]' }, dsn: 'postgres://u:[REDACTED]@h/db' }])
  })
})

describe('captureError', () => {
  it('23. records a thrown non-Error as { type: "NonError", message, value }', () => {
    expect(captureError('x')).toEqual({ type: 'NonError', message: 'x', value: 'x' })
    expect(captureError(null)).toEqual({ type: 'NonError', message: 'null', value: null })
    expect(captureError(undefined)).toEqual({ type: 'NonError', message: 'undefined', value: null })
    expect(captureError({})).toEqual({ type: 'NonError', message: '{}', value: {} })
    expect(captureError({ code: 42, message: 'plain object' })).toEqual({ type: 'NonError', message: 'plain object', value: { code: 42, message: 'plain object' } })
    expect(captureError(7n)).toEqual({ type: 'NonError', message: '7', value: '7' })
  })

  it('records an Error with type, message, stack, code and cause', () => {
    const error = Object.assign(new RangeError('out of range', { cause: { reason: 'x' } }), { code: 'E_RANGE' })
    const record = captureError(error)
    expect(record).toMatchObject({ type: 'RangeError', message: 'out of range', code: 'E_RANGE', cause: { reason: 'x' } })
    expect(record.stack).toMatch(/^RangeError: out of range/)
  })

  it('uses the class name when a subclass keeps the inherited name', () => {
    class HttpError extends Error {}
    expect(captureError(new HttpError('teapot')).type).toBe('HttpError')
  })

  it('keeps a custom name', () => {
    const error = new Error('bad input')
    error.name = 'ValidationError'
    expect(captureError(error).type).toBe('ValidationError')
  })

  it('recognizes errors from another realm', () => {
    const error: unknown = vm.runInNewContext('new SyntaxError("elsewhere")')
    expect(captureError(error)).toMatchObject({ type: 'SyntaxError', message: 'elsewhere' })
  })

  it('never throws, even when every property of the error throws', () => {
    const hostile = new Proxy(new Error('x'), { get: () => { throw new Error('trap') } })
    const { proxy, revoke } = Proxy.revocable(new Error('x'), {})
    revoke()
    for (const thrown of [hostile, proxy, Object.create(null), Symbol('s'), () => 1]) {
      const record = captureError(thrown)
      expect(typeof record.type).toBe('string')
      expect(typeof record.message).toBe('string')
      expect(JSON.parse(JSON.stringify(record))).toEqual(record)
    }
  })

  it('reads message and stack through getters that throw without failing', () => {
    const error = new Error('x')
    Object.defineProperty(error, 'stack', { get: () => { throw new Error('no stack') } })
    Object.defineProperty(error, 'message', { get: () => { throw new Error('no message') } })
    expect(captureError(error)).toMatchObject({ type: 'Error', message: '[Thrown: no message]', stack: '[Thrown: no stack]' })
  })

  it('keeps a huge error within the byte budget', () => {
    const error = new AggregateError(Array.from({ length: 2000 }, (_, i) => new Error(`e${i} ${'m'.repeat(200)}`)), 'many')
    const record = captureError(error)
    expect(jsonBytes(record)).toBeLessThanOrEqual(defaultCaptureLimits.maxFieldBytes + OVERHEAD)
  })
})

describe('capture', () => {
  it('captures a top-level string without cutting it', () => {
    expect(capture('What is RAG?')).toEqual({ value: 'What is RAG?', bytes: 14, truncated: 0 })
  })

  it('counts the UTF-8 bytes of JSON exactly for ordinary data', () => {
    const value = { text: 'héllo "quoted"\n', n: [1, -2.5, 1e21, 0], ok: true, none: null, emoji: '😀' }
    const result = capture(value)
    expect(result.bytes).toBe(jsonBytes(result.value))
  })

  it('falls back to the defaults for invalid limits', () => {
    const limits = { maxDepth: -1, maxBreadth: NaN, maxNodes: 'x', maxStringLength: undefined, maxFieldBytes: -5, maxKeyLength: null } as unknown as CaptureLimits
    expect(capture({ a: [1, 2, 3] }, limits).value).toEqual({ a: [1, 2, 3] })
  })

  it('stops when the field budget is spent, with one visible marker', () => {
    const limits = limitsWith({ maxFieldBytes: 200 })
    const result = capture(Array.from({ length: 100 }, (_, i) => ({ i, text: 'lorem ipsum' })), limits)
    expectStorable(result, limits)
    const json = JSON.stringify(result.value)
    expect(json.match(/\[Truncated: budget\]/g)).toHaveLength(1)
  })

  it('stops at maxNodes', () => {
    const result = capture(Array.from({ length: 500 }, (_, i) => i), limitsWith({ maxNodes: 10 }))
    expect(result.value).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, '[Truncated: budget]'])
  })

  it('calls an own getter once and a toJSON once', () => {
    const getter = jest.fn(() => 1)
    const toJSON = jest.fn(() => 'json')
    const value = { get g(): number { return getter() }, nested: { toJSON } }
    expect(capture(value).value).toEqual({ g: 1, nested: 'json' })
    expect(getter).toHaveBeenCalledTimes(1)
    expect(toJSON).toHaveBeenCalledTimes(1)
  })

  it('uses toJSON of class instances (URL, Date-likes)', () => {
    expect(capture(new URL('https://example.com/a?b=1')).value).toBe('https://example.com/a?b=1')
  })

  it('does not call user-overridden methods of built-ins', () => {
    const map = new Map([[1, 2]])
    const entries = jest.fn()
    Object.defineProperty(map, 'entries', { value: entries })
    Object.defineProperty(map, 'size', { get: entries })
    const date = new Date(0)
    Object.defineProperty(date, 'toISOString', { value: entries })
    expect(capture([map, date]).value).toEqual([{ $map: [[1, 2]] }, '1970-01-01T00:00:00.000Z'])
    expect(entries).not.toHaveBeenCalled()
  })

  it('does not capture again inside a getter it calls, and the outer capture is undisturbed', () => {
    const inner = { get x(): unknown { return capture({ deep: [1, 2] }).value } }
    expect(capture({ inner, after: 'ok' }).value).toEqual({ inner: { x: '[Skipped: re-entrant capture]' }, after: 'ok' })
    expect(capture({ deep: [1, 2] }).value).toEqual({ deep: [1, 2] })   // and the next capture works as ever
  })
})
