// CONTRACT STUB — to be implemented (see helper brief). Signatures are fixed; core depends on them.
import type { ErrorRecord, JsonValue } from '../document/document.js'

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

export const defaultCaptureLimits: CaptureLimits = Object.freeze({
  maxDepth: 20,
  maxBreadth: 1000,
  maxNodes: 10_000,
  maxStringLength: 65_536,
  maxFieldBytes: 65_536,
  maxKeyLength: 1024,
})

/** Turns any value into bounded, JSON-safe data. Never throws. @category serialization */
export function capture(value: unknown, limits: CaptureLimits = defaultCaptureLimits): Captured {
  void limits
  return { value: JSON.parse(JSON.stringify(value ?? null)) as JsonValue, bytes: 0, truncated: 0 }
}

/** Turns any thrown value into an ErrorRecord. Never throws. @category serialization */
export function captureError(error: unknown, limits: CaptureLimits = defaultCaptureLimits): ErrorRecord {
  void limits
  return error instanceof Error ? { type: error.name, message: error.message, stack: error.stack } : { type: 'NonError', message: String(error) }
}
