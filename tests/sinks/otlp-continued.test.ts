// A trace continued from a caller (traceparent or an active OpenTelemetry span) takes the caller's trace
// id, so its OpenTelemetry spans join the caller's trace, its root hanging under the caller's span; its
// own root span id (the one injectTraceparent sends) tells it apart from other documents of that trace.
import { describe, expect, it } from '@jest/globals'
import { continueTrace, flush, injectTraceparent, trace, traceTool } from '../../src/index.js'
import { toSpanData } from '../../src/sinks/spans.js'
import { useMemorySink } from '../helpers/memory.js'

const CALLER_TRACE = '4bf92f3577b34da6a3ce929d0e0e4736'
const CALLER_SPAN = '00f067aa0ba902b7'
const TRACEPARENT = `00-${CALLER_TRACE}-${CALLER_SPAN}-01`

describe('OpenTelemetry mapping of a continued trace', () => {
  it("puts every span in the caller's trace, the root under the caller's span, with the id the body propagates", async () => {
    const sink = useMemorySink()
    let propagated = ''
    const fetchDocs = traceTool({ name: 'fetch_docs' })(async () => ['doc'])
    const handle = trace({ prompt: 'handle' })(async () => {
      propagated = (injectTraceparent() as Record<string, string>).traceparent ?? ''
      return fetchDocs()
    })

    await continueTrace({ traceparent: TRACEPARENT }, () => handle())
    await flush()
    const doc = sink.traces[0]!
    const [root, ...steps] = toSpanData(doc)

    expect([root, ...steps].map((span) => span?.spanContext().traceId)).toEqual([CALLER_TRACE, CALLER_TRACE])
    expect(root?.parentSpanContext?.spanId).toBe(CALLER_SPAN)
    expect(root?.spanContext().spanId).not.toBe(CALLER_SPAN)
    expect(propagated).toBe(`00-${CALLER_TRACE}-${root?.spanContext().spanId}-01`)
    expect(steps.map((span) => span.parentSpanContext?.spanId)).toEqual([root?.spanContext().spanId])
  })

  it('gives two documents continuing the same caller different root span ids', async () => {
    const sink = useMemorySink()
    const handle = trace({ prompt: 'handle' })(() => 'ok')

    continueTrace({ traceparent: TRACEPARENT }, () => handle())
    continueTrace({ traceparent: TRACEPARENT }, () => handle())
    await flush()
    const [first, second] = sink.traces.map((doc) => toSpanData(doc)[0]?.spanContext())

    expect([first?.traceId, second?.traceId]).toEqual([CALLER_TRACE, CALLER_TRACE])
    expect(first?.spanId).not.toBe(second?.spanId)
  })
})
