/**
 * The only place ids are made. Trace ids are 32 and step ids 16 lowercase hex chars, the W3C
 * trace-context sizes, so a document maps onto OpenTelemetry trace and span ids unchanged.
 */
import { customAlphabet } from 'nanoid'
import type { StepId, TraceId } from '../document/document.js'

/** @internal */
export interface IdSource {
  readonly traceId: () => TraceId
  readonly stepId: () => StepId
}

const HEX = '0123456789abcdef'
const hex32 = customAlphabet(HEX, 32)
const hex16 = customAlphabet(HEX, 16)
const ZERO32 = '0'.repeat(32)
const ZERO16 = '0'.repeat(16)

/** @internal W3C forbids the all-zero id; the odds are 2^-64 at worst, but the check is free. */
export const randomIds: IdSource = {
  traceId: () => {
    let id = hex32()
    while (id === ZERO32) id = hex32()
    return id as TraceId
  },
  stepId: () => {
    let id = hex16()
    while (id === ZERO16) id = hex16()
    return id as StepId
  },
}

/** @internal Deterministic ids for tests: `000…1`, `000…2`, … */
export function sequentialIds(): IdSource {
  let next = 0
  return {
    traceId: () => (++next).toString(16).padStart(32, '0') as TraceId,
    stepId: () => (++next).toString(16).padStart(16, '0') as StepId,
  }
}
