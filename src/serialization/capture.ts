/**
 * Capture: any value → bounded, JSON-safe data (docs/capture-and-redaction.md, docs/reliability.md#capture-budgets). One walk, depth-limited, that never
 * throws, never overflows the stack, calls no user code except own getters and `toJSON` (each inside
 * its own try), and keeps a running estimate of the JSON size so the budget cuts the walk short.
 */
import { Buffer } from 'node:buffer'
import { types } from 'node:util'
import type { ErrorRecord, JsonValue } from '../document/document.js'
import { tokenCut } from './redact.js'

/** Budgets for one captured value. @category serialization */
export interface CaptureLimits {
  /** @default 20 */ readonly maxDepth: number
  /** Items per array, Map, Set or object. @default 1000 */ readonly maxBreadth: number
  /** Nodes visited per value. @default 10000 */ readonly maxNodes: number
  /** Characters kept of one string. @default 65536 */ readonly maxStringLength: number
  /** Approximate JSON bytes of one captured value (an input, an output, an error). @default 65536 */ readonly maxFieldBytes: number
  /** Characters kept of one object key. @default 1024 */ readonly maxKeyLength: number
}

/** The result of capturing one value. @category serialization */
export interface Captured {
  readonly value: JsonValue
  /** Approximate size of `JSON.stringify(value)` in bytes (UTF-8), always ≤ maxFieldBytes + a small marker overhead. */
  readonly bytes: number
  /** How many truncations/replacements happened (0 when the value was captured whole). */
  readonly truncated: number
}

/**
 * The default budgets: depth 20, 1 000 items per container, 10 000 nodes, 64 KiB per string and per
 * captured value, 1 KiB per key.
 *
 * @example
 * import { defaultCaptureLimits } from './capture.js'
 * defaultCaptureLimits.maxDepth   // => 20
 *
 * @category serialization
 * @since 0.1.0
 */
export const defaultCaptureLimits: CaptureLimits = Object.freeze({
  maxDepth: 20,
  maxBreadth: 1000,
  maxNodes: 10_000,
  maxStringLength: 65_536,
  maxFieldBytes: 65_536,
  maxKeyLength: 1024,
})

/**
 * Turns any value into bounded, JSON-safe data. Never throws.
 *
 * Cycles become `"[Circular]"`, BigInt a decimal string, NaN/±Infinity the strings `"NaN"`,
 * `"Infinity"`, `"-Infinity"`, functions `"[Function: name]"`, Map/Set `{ $map }`/`{ $set }`, binary
 * data `{ $bytes, type, base64 }`, errors `{ type, message, stack, code?, cause?, errors? }`, class
 * instances their own enumerable data plus `$class`. Promises and streams are never touched. Lone
 * surrogates and NUL become U+FFFD. Anything beyond a budget leaves a visible marker and counts in
 * `truncated`; `bytes` estimates the UTF-8 size of `JSON.stringify(value)`.
 *
 * @example
 * import { capture } from './capture.js'
 * const a: Record<string, unknown> = { n: 10n, when: new Date(0) }
 * a.self = a
 * capture(a).value   // => { n: '10', when: '1970-01-01T00:00:00.000Z', self: '[Circular]' }
 *
 * @category serialization
 * @since 0.1.0
 */
export function capture(value: unknown, limits: CaptureLimits = defaultCaptureLimits): Captured {
  try {
    switch (typeof value) {
      case 'string': {
        const l = limits === defaultCaptureLimits ? DEFAULTS : normalize(limits)
        if (value.length > readLimit(l.maxFieldBytes)) return unreadString(value.length)
        const out = fitString(value, l.maxStringLength, l.maxFieldBytes, value.length > exactAfter(l.maxFieldBytes))
        return { value: fitCut === 0 ? out : detach(out), bytes: fitBytes, truncated: fitCut }
      }
      case 'number':
        if (value === (value | 0)) return { value: value === 0 ? 0 : value, bytes: intLength(value), truncated: 0 }
        break
      case 'boolean':
        return value ? TRUE_RESULT : FALSE_RESULT
      case 'undefined':
        return NULL_RESULT
      default:
        if (value === null) return NULL_RESULT
    }
    if (capturing) return REENTERED
    capturing = true
    const st = newState(limits)
    const out = walk(value, 0, st)
    capturing = false
    if (out === undefined) return NULL_RESULT
    return { value: out, bytes: st.bytes, truncated: st.truncated }
  } catch {
    // Only reachable when the engine itself fails (stack exhausted on entry): keep the catch body tiny.
    capturing = false
    return FAILED
  }
}

/**
 * Turns any thrown value into an ErrorRecord. Never throws.
 *
 * An Error (from any realm) gives `{ type, message, stack (≤ 50 lines), code?, cause?, errors? }`,
 * causes followed 5 deep, a cyclic cause marked `"[Circular cause]"`. Anything else thrown gives
 * `{ type: 'NonError', message, value }`.
 *
 * @example
 * import { captureError } from './capture.js'
 * captureError('boom')   // => { type: 'NonError', message: 'boom', value: 'boom' }
 * captureError(new TypeError('bad', { cause: 'x' })).cause   // => 'x'
 *
 * @category serialization
 * @since 0.1.0
 */
export function captureError(error: unknown, limits: CaptureLimits = defaultCaptureLimits): ErrorRecord {
  try {
    if (capturing) return REENTERED_ERROR
    capturing = true
    const st = newState(limits)
    if (isErrorValue(error)) {
      const out = object(error as object, 0, st, false)
      capturing = false
      if (out !== null && typeof out === 'object' && !Array.isArray(out)) return out as unknown as ErrorRecord
      return { type: 'Error', message: typeof out === 'string' ? out : UNSERIALIZABLE }
    }
    const out = walk(error, 0, st)
    capturing = false
    const value = out === undefined ? null : out
    return { type: 'NonError', message: shortForm(error, value), value }
  } catch {
    capturing = false
    return FAILED_ERROR
  }
}

/**
 * @internal True while a capture is walking a value, that is while a getter or `toJSON` it called
 * runs: a traced function called from there runs untraced, and a nested capture returns
 * `"[Skipped: re-entrant capture]"` (docs/reliability.md#capture-budgets).
 */
export function isCapturing(): boolean {
  return capturing
}

/**
 * Set while capture() or captureError() walks a value. JavaScript is single-threaded and the walk is
 * synchronous, so it is set exactly while user code that the walk called (a getter, a `toJSON`) runs.
 */
let capturing = false

// ---------------------------------------------------------------------------------------------------
// State

interface State {
  readonly maxDepth: number
  readonly maxBreadth: number
  readonly maxNodes: number
  readonly maxString: number
  readonly maxBytes: number
  readonly maxKey: number
  bytes: number
  nodes: number
  truncated: number
  /** Past this many bytes (or for a string that would cross it), JSON escapes are counted too. */
  readonly exactAfter: number
  /** Set once the budget marker has been written, so outer containers stop without adding more. */
  exhausted: boolean
  /** Characters still allowed to be read from strings that get cut (see `text`). */
  readRoom: number
  /** `stack[d]` is the container being walked at depth d: the ancestors of the current value. */
  readonly stack: unknown[]
}

interface Limits {
  readonly maxDepth: number
  readonly maxBreadth: number
  readonly maxNodes: number
  readonly maxStringLength: number
  readonly maxFieldBytes: number
  readonly maxKeyLength: number
}

/** Recursion is bounded by maxDepth; this keeps a careless maxDepth from reaching the engine's stack limit. */
const DEPTH_CEILING = 1000
/**
 * Escapes (`\n`, `\"`, control characters) are only counted in strings longer than 32 characters once
 * the value passes min(1 KiB, maxFieldBytes / 16): small payloads skip a scan per string (hot path),
 * and the error this allows is bounded by 5 × that threshold.
 */
const EXACT_AFTER = 1024

function exactAfter(maxBytes: number): number {
  return Math.min(EXACT_AFTER, Math.floor(maxBytes / 16))
}
const SHORT = 32
const SAMPLE_BYTES = 1024
const STACK_LINES = 50
const CAUSE_DEPTH = 5
const MESSAGE_CHARS = 200
/** Longest message, name or stack read for a ≤ 200-character label: 2 × the default maxFieldBytes. */
const HEAD_READ_LIMIT = 131_072

const CIRCULAR = '[Circular]'
const CIRCULAR_CAUSE = '[Circular cause]'
const CAUSE_TOO_DEEP = '[Truncated: cause depth]'
const BUDGET = '[Truncated: budget]'
const DEEP_OBJECT = '[Object]'
const DEEP_ARRAY = '[Array]'
const UNSERIALIZABLE = '[Unserializable]'

const REENTERED_TEXT = '[Skipped: re-entrant capture]'

const NULL_RESULT: Captured = Object.freeze({ value: null, bytes: 4, truncated: 0 })
const REENTERED: Captured = Object.freeze({ value: REENTERED_TEXT, bytes: REENTERED_TEXT.length + 2, truncated: 1 })
const REENTERED_ERROR: ErrorRecord = Object.freeze({ type: 'Error', message: REENTERED_TEXT })
const TRUE_RESULT: Captured = Object.freeze({ value: true, bytes: 4, truncated: 0 })
const FALSE_RESULT: Captured = Object.freeze({ value: false, bytes: 5, truncated: 0 })
const FAILED: Captured = Object.freeze({ value: UNSERIALIZABLE, bytes: 18, truncated: 1 })
const FAILED_ERROR: ErrorRecord = Object.freeze({ type: 'Error', message: UNSERIALIZABLE })

function positive(n: unknown, fallback: number, ceiling = Number.MAX_SAFE_INTEGER): number {
  if (typeof n !== 'number' || !(n >= 0)) return fallback
  return n > ceiling ? ceiling : Math.floor(n)
}

function normalize(limits: CaptureLimits | undefined): Limits {
  if (limits === null || typeof limits !== 'object') return DEFAULTS
  const d = defaultCaptureLimits
  return {
    maxDepth: positive(limits.maxDepth, d.maxDepth, DEPTH_CEILING),
    maxBreadth: positive(limits.maxBreadth, d.maxBreadth),
    maxNodes: positive(limits.maxNodes, d.maxNodes),
    maxStringLength: positive(limits.maxStringLength, d.maxStringLength),
    maxFieldBytes: positive(limits.maxFieldBytes, d.maxFieldBytes),
    maxKeyLength: positive(limits.maxKeyLength, d.maxKeyLength),
  }
}

const DEFAULTS: Limits = normalize(defaultCaptureLimits)

function newState(limits: CaptureLimits): State {
  const l = limits === defaultCaptureLimits ? DEFAULTS : normalize(limits)
  return {
    maxDepth: l.maxDepth,
    maxBreadth: l.maxBreadth,
    maxNodes: l.maxNodes,
    maxString: l.maxStringLength,
    maxBytes: l.maxFieldBytes,
    maxKey: l.maxKeyLength,
    exactAfter: exactAfter(l.maxFieldBytes),
    bytes: 0,
    nodes: 0,
    truncated: 0,
    exhausted: false,
    readRoom: readLimit(l.maxFieldBytes),
    stack: [],
  }
}

function spent(st: State): boolean {
  return st.bytes >= st.maxBytes || st.nodes >= st.maxNodes
}

// ---------------------------------------------------------------------------------------------------
// The walk

type Out = Record<string, JsonValue>

/** Captures one value; `undefined` means "omit" (an object key) and is turned into `null` by arrays. */
function walk(v: unknown, depth: number, st: State): JsonValue | undefined {
  st.nodes++
  switch (typeof v) {
    case 'string':
      return text(v, st)
    case 'number':
      return number(v, st)
    case 'boolean':
      st.bytes += v ? 4 : 5
      return v
    case 'undefined':
      return undefined
    case 'bigint':
      return text(bigintString(v), st)
    case 'symbol':
      return text(symbolString(v), st)
    case 'function':
      return text(functionLabel(v), st)
    default:
      if (v === null) {
        st.bytes += 4
        return null
      }
      return object(v as object, depth, st, true)
  }
}

function object(v: object, depth: number, st: State, allowToJSON: boolean): JsonValue {
  const stack = st.stack
  for (let i = 0; i < depth; i++) {
    if (stack[i] === v) return marker(CIRCULAR, st)
  }
  if (spent(st)) return budgetMarker(st)
  const before = st.bytes
  try {
    if (Array.isArray(v)) {
      if (depth >= st.maxDepth) return marker(DEEP_ARRAY, st)
      stack[depth] = v
      return arrayLike(v, depth, st)
    }
    const proto: unknown = Object.getPrototypeOf(v)
    if (proto === ObjectPrototype || proto === null) {
      if (allowToJSON) {
        const special = probePlain(v as Record<string, unknown>, depth, st)
        if (special !== undefined) return special
      }
      if (hasOwn.call(v, 'callee') && types.isArgumentsObject(v)) {
        if (depth >= st.maxDepth) return marker(DEEP_ARRAY, st)
        stack[depth] = v
        return arrayLike(v as ArrayLike<unknown>, depth, st)
      }
      if (depth >= st.maxDepth) return marker(DEEP_OBJECT, st)
      stack[depth] = v
      return plain(v, depth, st, undefined)
    }
    return special(v, proto as object, depth, st, allowToJSON)
  } catch (error) {
    st.bytes = before
    return marker(`[Unserializable: ${describe(error)}]`, st)
  }
}

/** Thenables and `toJSON` on plain objects; `undefined` when the object is to be walked as it is. */
function probePlain(v: Record<string, unknown>, depth: number, st: State): JsonValue | undefined {
  // Probing Symbol.asyncIterator here too would cost ~30 ns per plain object; async iterables in
  // practice are generators and class instances (SDK streams), which `special` labels.
  let then: unknown
  let toJSON: unknown
  try {
    then = v.then
    toJSON = v.toJSON
  } catch (error) {
    if (types.isProxy(v)) throw error
    return marker(thrown(error), st)
  }
  if (typeof then === 'function') return mark('[Promise]', st)
  if (typeof toJSON === 'function') return viaToJSON(v, toJSON, depth, st)
  return undefined
}

function viaToJSON(v: object, toJSON: unknown, depth: number, st: State): JsonValue {
  let result: unknown
  try {
    result = (toJSON as (this: unknown, key: string) => unknown).call(v, '')
  } catch (error) {
    return marker(thrown(error), st)
  }
  // `toJSON() { return this }`: the object itself, walked as it is (as JSON.stringify does).
  if (result === v) return object(v, depth, st, false)
  if (typeof result !== 'object' || result === null) {
    const out = walk(result, depth, st)
    if (out !== undefined) return out
    st.bytes += 4
    return null
  }
  if (depth + 1 > st.maxDepth) return marker(DEEP_OBJECT, st)
  // v stays an ancestor of what its toJSON returned, so `toJSON() { return { self: this } }` ends.
  st.stack[depth] = v
  st.nodes++
  return object(result, depth + 1, st, false)
}

function plain(v: object, depth: number, st: State, className: string | undefined): JsonValue {
  // Listing symbols costs ~40-100 ns per object, as much as the rest of a small object's walk, so
  // plain objects (the hot path) skip it; class instances are checked.
  const syms = className === undefined ? NO_SYMBOLS : Object.getOwnPropertySymbols(v)
  if (syms.length > 0) {
    for (let i = 0; i < syms.length; i++) {
      const sym = syms[i] as symbol
      if (sym === Symbol.asyncIterator) return mark('[AsyncIterable]', st)
      if (propertyIsEnumerable.call(v, sym)) st.truncated++
    }
  }
  const out: Out = {}
  st.bytes += 2
  let count = 0
  if (className !== undefined) {
    const name = fitString(head(className, MESSAGE_CHARS), MESSAGE_CHARS, Infinity, false)
    st.bytes += 9 + fitBytes   // "$class":
    out.$class = name
    count = 1
  }
  const max = st.maxBreadth
  const source = v as Record<string, unknown>
  let kept = 0
  let more = 0
  for (const k in source) {
    if (!hasOwn.call(source, k)) continue
    if (kept >= max) {
      more++
      continue
    }
    let value: unknown
    let failed = false
    try {
      value = source[k]
    } catch (error) {
      if (types.isProxy(v)) throw error
      value = thrown(error)
      failed = true
    }
    if (value === undefined) continue
    const key = fitKey(k, st.maxKey)
    const keyBytes = fitBytes + 1 + (count > 0 ? 1 : 0)
    st.truncated += fitCut
    // A cut or cleaned key may collide with an earlier one (and "$class" with the class name): keep the first.
    if ((key !== k || key === '$class') && hasOwn.call(out, key)) {
      st.truncated++
      continue
    }
    if (st.bytes + keyBytes >= st.maxBytes || st.nodes >= st.maxNodes) {
      stopObject(out, count, st)
      return out
    }
    st.bytes += keyBytes
    const w = failed ? marker(value as string, st) : walk(value, depth + 1, st)
    set(out, key, w === undefined ? null : w)
    count++
    kept++
  }
  if (more > 0) {
    note(out, count, `${more} more keys`, st)
    st.truncated++
  }
  return out
}

function stopObject(out: Out, count: number, st: State): void {
  st.truncated++
  if (st.exhausted) return
  st.exhausted = true
  note(out, count, BUDGET, st)
}

/** Adds `"…": text` (more dots if the object already has such a key). */
function note(out: Out, count: number, text: string, st: State): void {
  let key = '…'
  while (hasOwn.call(out, key)) key += '…'
  st.bytes += (count > 0 ? 1 : 0) + 3 * key.length + 5 + text.length   // ,"…":"text"
  out[key] = text
}

function stopArray(out: JsonValue[], st: State): void {
  st.truncated++
  if (st.exhausted) return
  st.exhausted = true
  st.bytes += (out.length > 0 ? 1 : 0) + BUDGET.length + 2
  out.push(BUDGET)
}

function arrayLike(v: ArrayLike<unknown>, depth: number, st: State): JsonValue {
  const raw: unknown = v.length
  const len = typeof raw === 'number' && raw > 0 ? Math.floor(Math.min(raw, 2 ** 32)) : 0
  const n = len < st.maxBreadth ? len : st.maxBreadth
  const out: JsonValue[] = []
  st.bytes += 2
  for (let i = 0; i < n; i++) {
    if (spent(st)) {
      stopArray(out, st)
      return out
    }
    if (i > 0) st.bytes++
    let value: unknown
    try {
      value = v[i]
    } catch (error) {
      if (types.isProxy(v)) throw error
      out.push(marker(thrown(error), st))
      continue
    }
    const w = walk(value, depth + 1, st)
    if (w === undefined) {
      st.bytes += 4
      out.push(null)
    } else out.push(w)
  }
  if (len > n) moreItems(out, len - n, st)
  return out
}

function moreItems(out: JsonValue[], more: number, st: State): void {
  const note = `… ${more} more items`
  st.bytes += (out.length > 0 ? 1 : 0) + note.length + 4
  st.truncated++
  out.push(note)
}

// ---------------------------------------------------------------------------------------------------
// Everything whose prototype is not Object.prototype (or null)

/** What a non-plain object is, decided once per prototype. */
const Kind = {
  Instance: 0,
  Plain: 1,
  Error: 2,
  Date: 3,
  RegExp: 4,
  Map: 5,
  Set: 6,
  Promise: 7,
  View: 8,
  ArrayBuffer: 9,
  NumberObject: 10,
  StringObject: 11,
  BooleanObject: 12,
  BigIntObject: 13,
  SymbolObject: 14,
  Generator: 15,
  Label: 16,
} as const

type Kind = typeof Kind[keyof typeof Kind]

interface Classified {
  readonly kind: Kind
  /** The class name for instances and errors, the label for Kind.Label. */
  readonly name: string | undefined
}

const kinds = new WeakMap<object, Classified>()

function special(v: object, proto: object, depth: number, st: State, allowToJSON: boolean): JsonValue {
  let c = kinds.get(proto)
  if (c === undefined) {
    c = classify(v, proto)
    if (!types.isProxy(v)) kinds.set(proto, c)
  }
  switch (c.kind) {
    case Kind.Error:
      if (depth >= st.maxDepth) return marker(DEEP_OBJECT, st)
      return errorRecord(v, c.name, depth, st, 0)
    case Kind.Date: {
      const time = dateGetTime.call(v)
      return text(time === time ? dateToISOString.call(v) : 'Invalid Date', st)
    }
    case Kind.RegExp:
      return text(`/${regExpSource.call(v)}/${regExpFlags.call(v)}`, st)
    case Kind.Map:
    case Kind.Set:
      if (depth >= st.maxDepth) return marker(DEEP_OBJECT, st)
      st.stack[depth] = v
      return collection(v, c.kind === Kind.Map, depth, st)
    case Kind.Promise:
      return mark('[Promise]', st)
    case Kind.View:
    case Kind.ArrayBuffer:
      return bytes(v, c.kind === Kind.View, st)
    case Kind.NumberObject:
      return number(numberValueOf.call(v), st)
    case Kind.StringObject:
      return text(stringValueOf.call(v), st)
    case Kind.BooleanObject: {
      const b = booleanValueOf.call(v)
      st.bytes += b ? 4 : 5
      return b
    }
    case Kind.BigIntObject:
      return text(bigintString(bigintValueOf.call(v)), st)
    case Kind.SymbolObject:
      return text(symbolString(symbolValueOf.call(v)), st)
    case Kind.Generator:
      return mark(typeof (v as Record<symbol, unknown>)[Symbol.asyncIterator] === 'function' ? '[AsyncIterable]' : '[Generator]', st)
    case Kind.Label:
      return mark(c.name ?? UNSERIALIZABLE, st)
    default:
      return instance(v, c, depth, st, allowToJSON)
  }
}

/** A class instance: labelled when it is a thenable or a stream (never touched), else its toJSON or own data. */
function instance(v: object, c: Classified, depth: number, st: State, allowToJSON: boolean): JsonValue {
  const o = v as Record<PropertyKey, unknown>
  let label: string | undefined
  let toJSON: unknown
  try {
    if (typeof o.then === 'function') label = '[Promise]'
    else if (typeof o.on === 'function' && typeof o.pipe === 'function' && typeof o.read === 'function') label = '[ReadableStream]'
    else if (typeof o.getReader === 'function' && typeof o.pipeTo === 'function') label = '[ReadableStream]'
    else if (typeof o[Symbol.asyncIterator] === 'function') label = '[AsyncIterable]'
    else if (typeof o.on === 'function' && typeof o.write === 'function' && typeof o.end === 'function') label = '[WritableStream]'
    else if (typeof o.getWriter === 'function' && typeof o.abort === 'function') label = '[WritableStream]'
    else if (allowToJSON) toJSON = o.toJSON
  } catch (error) {
    if (types.isProxy(v)) throw error
    return marker(thrown(error), st)
  }
  if (label !== undefined) return mark(label, st)
  if (typeof toJSON === 'function') return viaToJSON(v, toJSON, depth, st)
  if (depth >= st.maxDepth) return marker(DEEP_OBJECT, st)
  st.stack[depth] = v
  return plain(v, depth, st, c.kind === Kind.Plain ? undefined : c.name)
}

function classify(v: object, proto: object): Classified {
  const builtin = builtins.get(proto)
  if (builtin !== undefined) return builtin
  if (types.isNativeError(v) || v instanceof Error) return { kind: Kind.Error, name: className(proto) }
  if (types.isDate(v)) return DATE
  if (types.isRegExp(v)) return REGEXP
  if (types.isMap(v)) return MAP
  if (types.isSet(v)) return SET
  if (types.isPromise(v)) return PROMISE
  if (ArrayBuffer.isView(v)) return VIEW
  if (types.isAnyArrayBuffer(v)) return ARRAY_BUFFER
  if (types.isBoxedPrimitive(v)) {
    if (types.isNumberObject(v)) return { kind: Kind.NumberObject, name: undefined }
    if (types.isStringObject(v)) return { kind: Kind.StringObject, name: undefined }
    if (types.isBooleanObject(v)) return { kind: Kind.BooleanObject, name: undefined }
    if (types.isBigIntObject(v)) return { kind: Kind.BigIntObject, name: undefined }
    return { kind: Kind.SymbolObject, name: undefined }
  }
  if (types.isWeakMap(v)) return label('[WeakMap]')
  if (types.isWeakSet(v)) return label('[WeakSet]')
  if (types.isGeneratorObject(v)) return GENERATOR
  if (types.isMapIterator(v) || types.isSetIterator(v)) return label('[Iterator]')
  const tag = objectToString.call(v)
  if (tag === '[object WeakRef]') return label('[WeakRef]')
  if (tag === '[object FinalizationRegistry]') return label('[FinalizationRegistry]')
  const name = className(proto)
  // A plain object from another realm (vm context) has its own Object.prototype.
  if (name === 'Object' || name === undefined) return PLAIN
  return { kind: Kind.Instance, name }
}

function label(name: string): Classified {
  return { kind: Kind.Label, name }
}

/** The name of the constructor owning `proto` (or an ancestor), read through descriptors only. */
function className(proto: object | null): string | undefined {
  for (let i = 0; i < 8 && proto !== null; i++) {
    const d = Object.getOwnPropertyDescriptor(proto, 'constructor')
    if (d !== undefined) {
      if (typeof d.value !== 'function') return undefined
      const n = Object.getOwnPropertyDescriptor(d.value, 'name')
      return n !== undefined && typeof n.value === 'string' && n.value !== '' ? n.value : undefined
    }
    proto = Object.getPrototypeOf(proto) as object | null
  }
  return undefined
}

function collection(v: object, isMap: boolean, depth: number, st: State): JsonValue {
  const size: number = isMap ? mapSize.call(v) : setSize.call(v)
  const items: JsonValue[] = []
  const out: Out = isMap ? { $map: items } : { $set: items }
  st.bytes += 11   // {"$map":[]} / {"$set":[]}
  const n = size < st.maxBreadth ? size : st.maxBreadth
  const it = (isMap ? mapEntries.call(v) : setValues.call(v)) as Iterator<unknown>
  for (let i = 0; i < n; i++) {
    if (spent(st)) {
      stopArray(items, st)
      return out
    }
    const r = it.next()
    if (r.done === true) break
    if (i > 0) st.bytes++
    if (isMap) {
      const pair = r.value as ArrayLike<unknown>
      st.bytes += 3   // [ , ]
      const key = walk(pair[0], depth + 1, st)
      const w = walk(pair[1], depth + 1, st)
      if (key === undefined) st.bytes += 4
      if (w === undefined) st.bytes += 4
      items.push([key === undefined ? null : key, w === undefined ? null : w])
    } else {
      const w = walk(r.value, depth + 1, st)
      if (w === undefined) st.bytes += 4
      items.push(w === undefined ? null : w)
    }
  }
  if (size > n) moreItems(items, size - n, st)
  return out
}

function bytes(v: object, isView: boolean, st: State): JsonValue {
  let buffer: ArrayBufferLike
  let offset = 0
  let length: number
  let type: string
  if (!isView) {
    const shared = types.isSharedArrayBuffer(v)
    buffer = v as ArrayBufferLike
    length = shared ? sharedByteLength.call(v) : arrayBufferByteLength.call(v)
    type = shared ? 'SharedArrayBuffer' : 'ArrayBuffer'
  } else if (types.isDataView(v)) {
    buffer = dataViewBuffer.call(v)
    offset = dataViewByteOffset.call(v)
    length = dataViewByteLength.call(v)
    type = 'DataView'
  } else {
    buffer = typedArrayBuffer.call(v)
    offset = typedArrayByteOffset.call(v)
    length = typedArrayByteLength.call(v)
    type = Buffer.isBuffer(v) ? 'Buffer' : (typedArrayTag.call(v) ?? 'TypedArray')
  }
  const head = 33 + intLength(length) + type.length   // {"$bytes":N,"type":"T","base64":""}
  const room = st.maxBytes - st.bytes - head
  let sample = length < SAMPLE_BYTES ? length : SAMPLE_BYTES
  const fits = room > 0 ? Math.floor(room / 4) * 3 : 0
  if (sample > fits) sample = fits
  const base64 = sample > 0 ? Buffer.from(buffer, offset, sample).toString('base64') : ''
  if (sample < length) st.truncated++
  st.bytes += head + base64.length
  return { $bytes: length, type, base64 }
}

function errorRecord(e: object, name: string | undefined, depth: number, st: State, causeDepth: number): JsonValue {
  st.stack[depth] = e
  const o = e as Record<string, unknown>
  const out: Out = {}
  st.bytes += 2

  let type: unknown
  try {
    type = o.name
  } catch {
    type = undefined
  }
  if (typeof type !== 'string' || type === '') type = name ?? 'Error'
  else if (type === 'Error' && name !== undefined) type = name
  field(out, 'type', text(type as string, st), st)

  let message: JsonValue
  try {
    const m = o.message
    message = text(typeof m === 'string' ? m : m === undefined ? '' : primitiveString(m), st, true)
  } catch (error) {
    message = marker(thrown(error), st)
  }
  field(out, 'message', message, st)

  try {
    const stack = o.stack
    if (typeof stack === 'string') {
      if (spent(st)) st.truncated++
      // a stack too long to read is recorded by its length, by text(), without searching it for lines
      else field(out, 'stack', text(surelyCut(stack.length, st) && stack.length > st.readRoom ? stack : firstLines(stack, STACK_LINES), st, true), st)
    }
  } catch (error) {
    field(out, 'stack', marker(thrown(error), st), st)
  }

  readField(out, o, 'code', depth, st)

  let hasCause = false
  let cause: unknown
  try {
    cause = o.cause
    hasCause = cause !== undefined || hasOwn.call(o, 'cause')
  } catch (error) {
    field(out, 'cause', marker(thrown(error), st), st)
  }
  if (hasCause) field(out, 'cause', causeValue(cause, depth, st, causeDepth), st)

  try {
    const errors = o.errors
    if (Array.isArray(errors)) field(out, 'errors', errorList(errors, depth, st), st)
    else if (hasOwn.call(o, 'suppressed')) field(out, 'errors', errorList([o.error, o.suppressed], depth, st), st)
  } catch (error) {
    field(out, 'errors', marker(thrown(error), st), st)
  }
  return out
}

function readField(out: Out, o: Record<string, unknown>, key: string, depth: number, st: State): void {
  let value: unknown
  try {
    value = o[key]
  } catch (error) {
    field(out, key, marker(thrown(error), st), st)
    return
  }
  if (value === undefined) return
  const w = walk(value, depth + 1, st)
  if (w !== undefined) field(out, key, w, st)
}

function causeValue(cause: unknown, depth: number, st: State, causeDepth: number): JsonValue {
  if (typeof cause !== 'object' || cause === null || !isErrorValue(cause)) {
    const w = walk(cause, depth + 1, st)
    if (w !== undefined) return w
    st.bytes += 4
    return null
  }
  for (let i = 0; i <= depth; i++) {
    if (st.stack[i] === cause) return marker(CIRCULAR_CAUSE, st)
  }
  if (causeDepth + 1 > CAUSE_DEPTH) return marker(CAUSE_TOO_DEEP, st)
  if (depth + 1 >= st.maxDepth) return marker(DEEP_OBJECT, st)
  if (spent(st)) return budgetMarker(st)
  st.nodes++
  const before = st.bytes
  try {
    const proto = Object.getPrototypeOf(cause) as object | null
    return errorRecord(cause, proto === null ? undefined : className(proto), depth + 1, st, causeDepth + 1)
  } catch (error) {
    st.bytes = before
    return marker(`[Unserializable: ${describe(error)}]`, st)
  }
}

function errorList(errors: ArrayLike<unknown>, depth: number, st: State): JsonValue {
  if (depth + 1 >= st.maxDepth) return marker(DEEP_ARRAY, st)
  st.nodes++
  return arrayLike(errors, depth + 1, st)
}

/** Adds `"key":value` to an error record (`type` always comes first); the value is already counted. */
function field(out: Out, key: string, value: JsonValue, st: State): void {
  st.bytes += key.length + 3 + (key === 'type' ? 0 : 1)
  out[key] = value
}

function isErrorValue(v: unknown): boolean {
  if (typeof v !== 'object' || v === null) return false
  try {
    return types.isNativeError(v) || v instanceof Error
  } catch {
    return false
  }
}

// ---------------------------------------------------------------------------------------------------
// Leaves

function text(s: string, st: State, exact = false): string {
  const len = s.length
  // A string that will surely be cut is read only within the value's read allowance: reading any
  // character of a V8 rope (text built by +=) flattens all of it (docs/reliability.md#capture-budgets).
  if (surelyCut(len, st)) {
    if (len > st.readRoom) return unread(len, st)
    st.readRoom -= len
  }
  const out = fitString(s, st.maxString, st.maxBytes - st.bytes, exact || st.bytes + len > st.exactAfter)
  st.bytes += fitBytes
  st.truncated += fitCut
  return fitCut === 0 ? out : detach(out)
}

/** A replacement for data (a cycle, a throw, a depth cut): counted in `truncated`. */
function marker(s: string, st: State): string {
  st.truncated++
  return mark(s, st)
}

/** One of our own short labels (`[Promise]`, markers): sanitized and counted, never cut by the budget. */
function mark(s: string, st: State): string {
  const out = fitString(s, Infinity, Infinity, true)
  st.bytes += fitBytes
  return out
}

function surelyCut(len: number, st: State): boolean {
  return len > SHORT && (len > st.maxString || len + 2 > st.maxBytes - st.bytes)
}

/** `"[Truncated: N chars]"`: a string too long to read at all, recorded by its length only. */
function unread(len: number, st: State): string {
  const note = unreadText(len)
  st.truncated++
  st.bytes += note.length + 2
  return note
}

function unreadString(len: number): Captured {
  const note = unreadText(len)
  return { value: note, bytes: note.length + 2, truncated: 1 }
}

function unreadText(len: number): string {
  return `[Truncated: ${len} chars]`
}

/**
 * Characters of cut strings one captured value may read: 2 × maxFieldBytes. Past it a string is
 * recorded by its length only; flattening a rope that long costs at most that many characters.
 */
function readLimit(maxFieldBytes: number): number {
  return 2 * maxFieldBytes
}

/**
 * A copy of a cut string that shares nothing with its source. `slice` shares the source's
 * characters, so the record of a 64 KiB prefix would otherwise keep a 100 MB source alive until the
 * trace is exported. Reading a character of the concatenation flattens it into a new buffer (the
 * read is kept in `flattened` so the compiler cannot drop it); slicing that buffer copies nothing.
 */
function detach(s: string): string {
  const joined = `${s} `
  flattened = joined.charCodeAt(0)
  return joined.slice(0, -1)
}

let flattened = 0

function budgetMarker(st: State): string {
  st.truncated++
  st.exhausted = true
  st.bytes += BUDGET.length + 2
  return BUDGET
}

function number(n: number, st: State): JsonValue {
  if (n === (n | 0)) {
    if (n === 0) {
      st.bytes += 1
      return 0   // -0 too
    }
    st.bytes += intLength(n)
    return n
  }
  if (n !== n) {
    st.bytes += 5
    return 'NaN'
  }
  if (n === Infinity) {
    st.bytes += 10
    return 'Infinity'
  }
  if (n === -Infinity) {
    st.bytes += 11
    return '-Infinity'
  }
  st.bytes += String(n).length
  return n
}

function intLength(n: number): number {
  let len = 1
  if (n < 0) {
    len = 2
    n = -n
  }
  while (n >= 10) {
    n = Math.floor(n / 10)
    len++
  }
  return len
}

const BIGINT_LIMIT = 10n ** 4096n

function bigintString(n: bigint): string {
  if (n >= BIGINT_LIMIT || n <= -BIGINT_LIMIT) return '[BigInt: more than 4096 digits]'
  return String(n)
}

function symbolString(s: symbol): string {
  return String(s)
}

function functionLabel(f: unknown): string {
  let name = ''
  try {
    const d = Object.getOwnPropertyDescriptor(f, 'name')
    if (d !== undefined && typeof d.value === 'string') name = d.value
  } catch {
    // a revoked Proxy around a function: still a function, name unknown
  }
  if (name.length > MESSAGE_CHARS) name = head(name, MESSAGE_CHARS)
  return `[Function: ${name === '' ? 'anonymous' : name}]`
}

function primitiveString(v: unknown): string {
  if (typeof v === 'object' && v !== null) return '[object]'
  if (typeof v === 'function') return functionLabel(v)
  return String(v)
}

function thrown(error: unknown): string {
  return `[Thrown: ${describe(error)}]`
}

/** The message of something thrown, ≤ 200 chars, without calling anything but a `message` getter. */
function describe(error: unknown): string {
  try {
    let m: unknown = error
    if (typeof error === 'object' && error !== null) m = (error as { message?: unknown }).message
    const s = typeof m === 'string' ? m : typeof m === 'object' && m !== null ? 'unknown error' : primitiveString(m)
    return s.length > MESSAGE_CHARS ? head(s, MESSAGE_CHARS) : s
  } catch {
    return 'unknown error'
  }
}

/** The first n characters of s, or its length only when s is too long to read cheaply (a rope). */
function head(s: string, n: number): string {
  if (s.length <= n) return s
  if (s.length > HEAD_READ_LIMIT) return unreadText(s.length)
  return detach(s.slice(0, n))
}

function shortForm(error: unknown, value: JsonValue): string {
  let s: string
  if (typeof error === 'string') s = typeof value === 'string' ? value : error
  else if (typeof error === 'object' && error !== null) {
    let m: unknown
    try {
      m = (error as { message?: unknown }).message
    } catch {
      m = undefined
    }
    s = typeof m === 'string' ? m : JSON.stringify(value)
  } else s = primitiveString(error)
  return fitString(head(s, MESSAGE_CHARS), MESSAGE_CHARS, Infinity, false)
}

function firstLines(s: string, lines: number): string {
  let at = -1
  for (let i = 0; i < lines; i++) {
    at = s.indexOf('\n', at + 1)
    if (at === -1) return s
  }
  return s.slice(0, at)
}

// ---------------------------------------------------------------------------------------------------
// Strings: sanitize (lone surrogates and NUL → U+FFFD), cap, and count UTF-8 JSON bytes

type WellFormed = string & { isWellFormed(): boolean; toWellFormed(): string }

/** Results of the last fitString/fitKey call (they call no user code, so module state is safe). */
let fitBytes = 0
let fitCut = 0
let scanDirty = false

/** JSON bytes of a short string, quotes included; sets scanDirty for NUL or lone surrogates. */
function scanShort(s: string): number {
  const len = s.length
  let b = 2
  let dirty = false
  for (let i = 0; i < len; i++) {
    const c = s.charCodeAt(i)
    if (c < 0x80) {
      if (c >= 0x20) b += c === 0x22 || c === 0x5c ? 2 : 1
      else if (c === 0) {
        b += 3
        dirty = true
      } else b += c === 8 || c === 9 || c === 10 || c === 12 || c === 13 ? 2 : 6
    } else if (c < 0x800) b += 2
    else if (c < 0xd800 || c > 0xdfff) b += 3
    else if (c < 0xdc00 && i + 1 < len && isLowSurrogate(s.charCodeAt(i + 1))) {
      b += 4
      i++
    } else {
      b += 3
      dirty = true
    }
  }
  scanDirty = dirty
  return b
}

function isLowSurrogate(c: number): boolean {
  return c >= 0xdc00 && c <= 0xdfff
}

/** Keeps at most maxChars characters and `room` JSON bytes of s, adding a visible marker when cut. */
function fitString(s: string, maxChars: number, room: number, exact: boolean): string {
  const len = s.length
  if (len <= SHORT && len <= maxChars) {
    const b = scanShort(s)
    if (b <= room) {
      fitBytes = b
      fitCut = 0
      return scanDirty ? clean(s) : s
    }
  }
  return fitLong(s, maxChars, room, exact)
}

// A cut never splits a token: a secret straddling the limit is dropped whole, never left as a fragment
// no pattern recognizes (docs/reliability.md#redaction-what-a-leaked-credential-scanner-would-catch).
function fitLong(s: string, maxChars: number, room: number, exact: boolean): string {
  const len = s.length
  const avail = room - 2
  let n = len < maxChars ? len : maxChars
  if (n > avail) n = avail > 0 ? Math.floor(avail) : 0
  n = tokenCut(s, pairSafe(s, n))
  let out = clean(n === len ? s : s.slice(0, n))
  let b = jsonBytes(out, exact || n < len)
  for (let guard = 0; b > room && n > 0; guard++) {
    let m = Math.floor(n * (avail / (b - 2)))
    if (m >= n) m = n - 1
    if (guard >= 4) m = Math.min(m, Math.floor(avail / 6))
    n = tokenCut(s, pairSafe(s, m > 0 ? m : 0))
    out = clean(s.slice(0, n))
    b = jsonBytes(out, true)
  }
  if (n < len) {
    // An ASCII marker: one non-Latin-1 character would turn a 64 Ki-char one-byte string into a
    // two-byte copy, doubling its memory and the cost of every later scan (measured in the bench).
    const note = `...[truncated ${len - n} chars]`
    out += note
    b += note.length
    fitCut = 1
  } else fitCut = 0
  fitBytes = b
  return out
}

function fitKey(k: string, maxKey: number): string {
  const len = k.length
  if (len <= SHORT && len <= maxKey) {
    fitBytes = scanShort(k)
    fitCut = 0
    return scanDirty ? clean(k) : k
  }
  const n = tokenCut(k, pairSafe(k, len < maxKey ? len : maxKey))
  const out = clean(n === len ? k : k.slice(0, n))
  fitBytes = jsonBytes(out, true)
  fitCut = n < len ? 1 : 0
  return out
}

function pairSafe(s: string, n: number): number {
  if (n > 0 && n < s.length) {
    const c = s.charCodeAt(n - 1)
    if (c >= 0xd800 && c <= 0xdbff) return n - 1
  }
  return n
}

function clean(s: string): string {
  let out = (s as WellFormed).isWellFormed() ? s : (s as WellFormed).toWellFormed()
  if (out.indexOf('\0') !== -1) out = out.replaceAll('\0', '\uFFFD')
  return out
}

const NEEDS_ESCAPE = /[\0-\x1f"\\]/
const SHORT_ESCAPES = /["\\\b\t\n\f\r]/g
const LONG_ESCAPES = /[\0-\x07\x0b\x0e-\x1f]/g

/** UTF-8 bytes of JSON.stringify(s) for a clean string; escapes only counted when `exact`. */
function jsonBytes(s: string, exact: boolean): number {
  let b = Buffer.byteLength(s, 'utf8') + 2
  if (exact && NEEDS_ESCAPE.test(s)) {
    b += s.length - s.replace(SHORT_ESCAPES, '').length
    b += 5 * (s.length - s.replace(LONG_ESCAPES, '').length)
  }
  return b
}

function set(out: Out, key: string, value: JsonValue): void {
  if (key === '__proto__') Object.defineProperty(out, key, { value, enumerable: true, writable: true, configurable: true })
  else out[key] = value
}

// ---------------------------------------------------------------------------------------------------
// Intrinsics, taken once so user overrides of instance methods are never called

const ObjectPrototype = Object.prototype
const NO_SYMBOLS: ReadonlyArray<symbol> = Object.freeze([])
const hasOwn = Object.prototype.hasOwnProperty
const propertyIsEnumerable = Object.prototype.propertyIsEnumerable
const objectToString = Object.prototype.toString

function getter<T>(target: object, key: PropertyKey): (this: unknown) => T {
  const d = Object.getOwnPropertyDescriptor(target, key)
  const get = d?.get
  if (get === undefined) throw new TypeError(`no getter ${String(key)}`)
  return get as (this: unknown) => T
}

const typedArrayPrototype = Object.getPrototypeOf(Uint8Array.prototype) as object
const typedArrayBuffer = getter<ArrayBufferLike>(typedArrayPrototype, 'buffer')
const typedArrayByteOffset = getter<number>(typedArrayPrototype, 'byteOffset')
const typedArrayByteLength = getter<number>(typedArrayPrototype, 'byteLength')
const typedArrayTag = getter<string | undefined>(typedArrayPrototype, Symbol.toStringTag)
const dataViewBuffer = getter<ArrayBufferLike>(DataView.prototype, 'buffer')
const dataViewByteOffset = getter<number>(DataView.prototype, 'byteOffset')
const dataViewByteLength = getter<number>(DataView.prototype, 'byteLength')
const arrayBufferByteLength = getter<number>(ArrayBuffer.prototype, 'byteLength')
const sharedByteLength = getter<number>(SharedArrayBuffer.prototype, 'byteLength')
const mapSize = getter<number>(Map.prototype, 'size')
const setSize = getter<number>(Set.prototype, 'size')
const regExpSource = getter<string>(RegExp.prototype, 'source')
const regExpFlags = getter<string>(RegExp.prototype, 'flags')
const mapEntries = Map.prototype.entries as (this: unknown) => Iterator<unknown>
const setValues = Set.prototype.values as (this: unknown) => Iterator<unknown>
const dateGetTime = Date.prototype.getTime as (this: unknown) => number
const dateToISOString = Date.prototype.toISOString as (this: unknown) => string
const numberValueOf = Number.prototype.valueOf as (this: unknown) => number
const stringValueOf = String.prototype.valueOf as (this: unknown) => string
const booleanValueOf = Boolean.prototype.valueOf as (this: unknown) => boolean
const bigintValueOf = BigInt.prototype.valueOf as (this: unknown) => bigint
const symbolValueOf = Symbol.prototype.valueOf as (this: unknown) => symbol

const PLAIN: Classified = { kind: Kind.Plain, name: undefined }
const DATE: Classified = { kind: Kind.Date, name: undefined }
const REGEXP: Classified = { kind: Kind.RegExp, name: undefined }
const MAP: Classified = { kind: Kind.Map, name: undefined }
const SET: Classified = { kind: Kind.Set, name: undefined }
const PROMISE: Classified = { kind: Kind.Promise, name: undefined }
const VIEW: Classified = { kind: Kind.View, name: undefined }
const ARRAY_BUFFER: Classified = { kind: Kind.ArrayBuffer, name: undefined }
const GENERATOR: Classified = { kind: Kind.Generator, name: undefined }

/** This realm's built-in prototypes, fixed up front so a spoofed first sample cannot mislabel them. */
const builtins = new WeakMap<object, Classified>([
  [Date.prototype, DATE],
  [RegExp.prototype, REGEXP],
  [Map.prototype, MAP],
  [Set.prototype, SET],
  [Promise.prototype, PROMISE],
  [DataView.prototype, VIEW],
  [ArrayBuffer.prototype, ARRAY_BUFFER],
  [SharedArrayBuffer.prototype, ARRAY_BUFFER],
  [Number.prototype, { kind: Kind.NumberObject, name: undefined }],
  [String.prototype, { kind: Kind.StringObject, name: undefined }],
  [Boolean.prototype, { kind: Kind.BooleanObject, name: undefined }],
  [BigInt.prototype, { kind: Kind.BigIntObject, name: undefined }],
  [Symbol.prototype, { kind: Kind.SymbolObject, name: undefined }],
  [WeakMap.prototype, label('[WeakMap]')],
  [WeakSet.prototype, label('[WeakSet]')],
  [WeakRef.prototype, label('[WeakRef]')],
  [FinalizationRegistry.prototype, label('[FinalizationRegistry]')],
  ...[Int8Array, Uint8Array, Uint8ClampedArray, Int16Array, Uint16Array, Int32Array, Uint32Array, Float32Array, Float64Array, BigInt64Array, BigUint64Array, Buffer]
    .map((c): [object, Classified] => [c.prototype, VIEW]),
  ...[Error, TypeError, RangeError, SyntaxError, ReferenceError, EvalError, URIError, AggregateError]
    .map((c): [object, Classified] => [c.prototype, { kind: Kind.Error, name: c.name }]),
])
