import { describe, expect, it } from '@jest/globals'
import { configure, flush, memorySink, toWire, fromWire, trace, traceTool } from '../../src/index.js'
import { sequentialIds } from '../../src/core/ids.js'
import { spyWarnings } from '../helpers/memory.js'
import { resetWarnings } from '../../src/core/guard.js'

describe('a document with the clock and ids pinned', () => {
  it('is exactly predictable, and survives the wire format both ways', async () => {
    const sink = memorySink()
    let now = 0
    const epochBase = Date.UTC(2026, 10, 24, 10, 0, 0)
    configure({ sinks: [sink], project: 'rag-service', environment: 'production', ids: sequentialIds(), clock: { now: () => (now += 1.5), epoch: (t) => epochBase + t } })
    const retrieve = traceTool({ name: 'retrieve' })((q: string) => [{ id: 1, q }])

    trace({ prompt: 'answer_question', modelName: 'gpt-4o' })((q: string) => retrieve(q).length)('What is RAG?')
    await flush()

    const doc = sink.traces[0]!
    expect(toWire(doc)).toEqual({
      schema_version: 1,
      trace_id: '00000000000000000000000000000001',
      root_span_id: '0000000000000002',
      prompt: 'answer_question', model_name: 'gpt-4o', project: 'rag-service', environment: 'production',
      tags: [], metadata: {}, status: 'success',
      started_at: '2026-11-24T10:00:00.001Z', ended_at: '2026-11-24T10:00:00.006Z', duration_ms: 4.5,
      input: ['What is RAG?'], output: 1, error: null, retry_count: 0,
      usage: { input_tokens: 0, output_tokens: 0 },
      steps: [{
        step_id: '0000000000000003', parent_step_id: null, seq: 0, name: 'retrieve', kind: 'tool', status: 'success',
        started_at: '2026-11-24T10:00:00.003Z', ended_at: '2026-11-24T10:00:00.004Z', duration_ms: 1.5,
        input: ['What is RAG?'], output: [{ id: 1, q: 'What is RAG?' }],
        error: null, attempts: 1, retries: 0, attempt_errors: [], metadata: {},
      }],
      sdk: { name: 'tracellm', version: '0.1.0' },
    })
    expect(fromWire(JSON.parse(JSON.stringify(toWire(doc))))).toEqual(JSON.parse(JSON.stringify(doc)))
  })
})

describe('a bug inside tracing', () => {
  it('never fails the traced call: the call runs unrecorded, with one warning', async () => {
    const sink = memorySink()
    // the root span id is the first id asked for; the tool's step id is where the source breaks
    let asked = 0
    const broken = {
      traceId: () => '0'.repeat(31) + '1' as never,
      stepId: (): never => {
        if (++asked === 1) return '0'.repeat(15) + '2' as never
        throw new Error('id source broke')
      },
    }
    configure({ sinks: [sink], ids: broken })
    resetWarnings()
    const warnings = spyWarnings()
    const tool = traceTool({ name: 'tool' })((n: number) => n * 2)
    try {
      expect(trace({ prompt: 'p' })((n: number) => tool(n) + 1)(2)).toBe(5)
      configure({ sinks: [sink], ids: { traceId: (): never => { throw new Error('broke too') }, stepId: broken.stepId } })
      expect(await trace({ prompt: 'q' })(async () => 'still fine')()).toBe('still fine')
      await flush()
    } finally {
      warnings.restore()
    }

    expect(sink.traces.map((doc) => [doc.prompt, doc.steps.length])).toEqual([['p', 0]])
    expect(warnings.messages().filter((m) => m.includes('id source broke'))).toHaveLength(1)
  })
})
