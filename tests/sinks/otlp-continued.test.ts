// A trace continued from a caller (traceparent or an active OpenTelemetry span) is exported into the
// caller's OpenTelemetry trace, under the caller's span, while the document keeps its own id.
import { describe, expect, it } from '@jest/globals'
import type { StepId, TraceId } from '../../src/document/document.js'
import { toSpanData } from '../../src/sinks/otlp.js'
import { makeDocument, makeStep, stepIdOf } from '../helpers/documents.js'

const CALLER_TRACE = '4bf92f3577b34da6a3ce929d0e0e4736' as TraceId
const CALLER_SPAN = '00f067aa0ba902b7' as StepId

describe('OpenTelemetry mapping of a continued trace', () => {
  it("puts every span in the caller's trace and the root under the caller's span", () => {
    const doc = makeDocument({
      parentTraceId: CALLER_TRACE,
      parentStepId: CALLER_SPAN,
      steps: [makeStep(), makeStep({ stepId: stepIdOf(2), parentStepId: stepIdOf(1), seq: 1 })],
    })

    const [root, ...steps] = toSpanData(doc)

    expect(doc.traceId).not.toBe(CALLER_TRACE)
    expect([root, ...steps].map((span) => span?.spanContext().traceId)).toEqual([CALLER_TRACE, CALLER_TRACE, CALLER_TRACE])
    expect(root?.parentSpanContext?.spanId).toBe(CALLER_SPAN)
    expect(root?.spanContext().spanId).not.toBe(CALLER_SPAN)
    expect(steps.map((span) => span.parentSpanContext?.spanId)).toEqual([root?.spanContext().spanId, stepIdOf(1)])
  })

  it('gives two documents continuing the same caller different root span ids', () => {
    const first = makeDocument({ parentTraceId: CALLER_TRACE, parentStepId: CALLER_SPAN })
    const second = makeDocument({ parentTraceId: CALLER_TRACE, parentStepId: CALLER_SPAN })

    expect(toSpanData(first)[0]?.spanContext().spanId).not.toBe(toSpanData(second)[0]?.spanContext().spanId)
  })
})
