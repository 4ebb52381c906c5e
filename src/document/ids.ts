/**
 * Ids derived from a document, shared by the OTLP export and trace-context propagation so both
 * name a trace's root span the same way. Only `node:crypto`: no OpenTelemetry package is loaded.
 */
import { createHash } from 'node:crypto'

const ZERO16 = '0000000000000000'

/**
 * @internal The root span's id: the first 16 hex digits of SHA-256 of the trace id, so a re-export of
 * the same trace yields the same id; rehashed in the (unlikely) case it is zero or a step's id.
 */
export function rootSpanId(traceId: string, taken: ReadonlySet<string> = new Set()): string {
  let seed = traceId
  for (;;) {
    const id = createHash('sha256').update(seed).digest('hex').slice(0, 16)
    if (id !== ZERO16 && !taken.has(id)) return id
    seed = id + traceId
  }
}

/**
 * @internal A document's root span id: its `rootSpanId`, or for a document written before that field
 * existed, one derived from the trace id that none of its steps (nor the caller's span) uses.
 */
export function rootSpanIdOf(doc: { readonly traceId: string; readonly rootSpanId?: string; readonly parentStepId?: string; readonly steps: ReadonlyArray<{ readonly stepId: string }> }): string {
  if (doc.rootSpanId !== undefined) return doc.rootSpanId
  const taken = new Set<string>(doc.steps.map((step) => step.stepId))
  if (doc.parentStepId !== undefined) taken.add(doc.parentStepId)
  return rootSpanId(doc.traceId, taken)
}
