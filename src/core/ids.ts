/**
 * The only place ids are made. Trace ids are 32 and step ids 16 lowercase hex chars, the W3C
 * trace-context sizes, so a document maps onto OpenTelemetry trace and span ids unchanged.
 */
import { Buffer } from 'node:buffer'
import { random } from 'nanoid'
import type { StepId, TraceId } from '../document/document.js'

/** @internal */
export interface IdSource {
  readonly traceId: () => TraceId
  readonly stepId: () => StepId
}

/**
 * Random bytes drawn at a time: 1 KiB of hex, 64 step ids. nanoid keeps 128 draws of this size in
 * its own pool, one `crypto.getRandomValues` call of 64 KiB, the most that call accepts; a draw of
 * more than 512 bytes would make nanoid ask for more and throw.
 */
const DRAW_BYTES = 512
const ZERO32 = '0'.repeat(32)
const ZERO16 = '0'.repeat(16)

/**
 * @internal Ids cut from a pool of hex: `draw(poolBytes)` random bytes are hex-encoded at once
 * (one native call for 64 ids, where nanoid's `customAlphabet` appends 16 or 32 characters one by
 * one, ~5× slower) and each id is a slice of that string. Every hex digit is one nibble of a random
 * byte, so each of the 16 digits is equally likely at every position, and the ids of a pool are as
 * independent as its bytes. An id never straddles two pools: when fewer characters are left than
 * an id needs, the rest is dropped and a new pool drawn. The all-zero id, invalid in W3C, is dropped
 * and the next one taken (the odds are 2^-64 at worst). A slice keeps its pool's 1 KiB string alive
 * as long as the id lives; the pool's ids are made and dropped together in practice, so that costs
 * about the hex they hold.
 *
 * @param draw       random bytes, e.g. nanoid's `random`; the array may be reused by the next draw
 * @param poolBytes  bytes per draw, at least 16 (one trace id)
 */
export function pooledIds(draw: (bytes: number) => Uint8Array, poolBytes: number = DRAW_BYTES): IdSource {
  if (!Number.isInteger(poolBytes) || poolBytes < 16) throw new TypeError('Expected `poolBytes` to be an integer of at least 16.')
  let pool = ''
  let offset = 0
  const take = (length: number, zero: string): string => {
    for (;;) {
      if (offset + length > pool.length) {
        const bytes = draw(poolBytes)
        if (bytes.byteLength < poolBytes) throw new RangeError(`Expected ${poolBytes} random bytes, got ${bytes.byteLength}.`)
        pool = Buffer.from(bytes.buffer, bytes.byteOffset, poolBytes).toString('hex')
        offset = 0
      }
      const id = pool.slice(offset, offset + length)
      // comparing two strings V8 has not internalized is a runtime call (~20 ns): look at the first digit first
      const maybeZero = pool.charCodeAt(offset) === 48
      offset += length
      if (!maybeZero || id !== zero) return id
    }
  }
  return {
    traceId: () => take(32, ZERO32) as TraceId,
    stepId: () => take(16, ZERO16) as StepId,
  }
}

/** @internal The ids of every trace: nanoid's pooled `crypto.getRandomValues`, hex-encoded in bulk. */
export const randomIds: IdSource = pooledIds(random)

/** @internal Deterministic ids for tests: `000…1`, `000…2`, … */
export function sequentialIds(): IdSource {
  let next = 0
  return {
    traceId: () => (++next).toString(16).padStart(32, '0') as TraceId,
    stepId: () => (++next).toString(16).padStart(16, '0') as StepId,
  }
}
