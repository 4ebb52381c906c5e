import { describe, expect, it } from '@jest/globals'
import type { JsonValue, StepRecord, TraceDocument, TraceId } from '../../src/document/document.js'
import { diffTraces, renderDiff, type StepDiff, type TraceDiff } from '../../src/replay/diff.js'
import { MalformedTraceError } from '../../src/replay/tree.js'
import { deepFreeze, makeDocument, makeStep, stepIdOf, traceIdOf } from '../helpers/documents.js'

// eslint-disable-next-line no-control-regex
const ANSI = /\u001b\[[0-9;]*m/

/** One step of `run`: its name, its parent (an index into the same list), field overrides. */
interface Spec {
  readonly name: string
  readonly parent?: number
  readonly overrides?: Partial<StepRecord>
}

/** The pipeline both traces come from: retrieve > 3 × search_shard, rerank, answer (a nested trace) > generate. */
const PIPELINE: ReadonlyArray<Spec> = [
  { name: 'retrieve', overrides: { kind: 'retriever' } },
  { name: 'search_shard', parent: 0, overrides: { output: [{ id: 1, score: 0.9 }] } },
  { name: 'search_shard', parent: 0, overrides: { output: [{ id: 2, score: 0.8 }] } },
  { name: 'search_shard', parent: 0, overrides: { output: [{ id: 3, score: 0.7 }] } },
  { name: 'rerank', overrides: { output: [2, 1, 3] } },
  { name: 'answer', overrides: { kind: 'trace', output: { answer: { text: 'RAG is retrieval' } } } },
  { name: 'generate', parent: 5, overrides: { kind: 'llm', model: 'gpt-4o', output: { answer: { text: 'RAG is retrieval', sources: [1, 2] } } } },
]

/** A trace of `specs`; `base` offsets the step ids, so two runs share no id, as real runs do. */
function run(base: number, specs: ReadonlyArray<Spec> = PIPELINE, overrides: Partial<TraceDocument> = {}): TraceDocument {
  const steps = specs.map((spec, index) => makeStep({
    stepId: stepIdOf(base + index + 1),
    parentStepId: spec.parent === undefined ? null : stepIdOf(base + spec.parent + 1),
    seq: index,
    name: spec.name,
    ...spec.overrides,
  }))
  return makeDocument({ traceId: traceIdOf(base), steps, ...overrides })
}

/** `PIPELINE` with the step at `index` given more overrides. */
function edited(index: number, overrides: Partial<StepRecord>): Spec[] {
  return PIPELINE.map((spec, at) => (at === index ? { ...spec, overrides: { ...spec.overrides, ...overrides } } : spec))
}

function stepAt(diff: TraceDiff, path: string): StepDiff | undefined {
  return diff.steps.find((step) => step.path === path)
}

function statuses(diff: TraceDiff): string[] {
  return diff.steps.map((step) => `${step.status} ${step.path}`)
}

describe('diffTraces', () => {
  it('finds two runs of the same pipeline equal, although no step id is shared', () => {
    const diff = diffTraces(run(100), run(200))

    expect(diff.equal).toBe(true)
    expect(diff.summary).toEqual({ added: 0, removed: 0, changed: 0, same: 7 })
    expect(diff.trace).toEqual({ status: 'same', changes: [], durationRatio: 1 })
    expect(statuses(diff)).toEqual([
      'same retrieve[0]',
      'same retrieve[0]/search_shard[0]',
      'same retrieve[0]/search_shard[1]',
      'same retrieve[0]/search_shard[2]',
      'same rerank[0]',
      'same answer[0]',
      'same answer[0]/generate[0]',
    ])
  })

  it('pairs each step with its counterpart in the other trace', () => {
    const a = run(100)
    const b = run(200)

    const shard = stepAt(diffTraces(a, b), 'retrieve[0]/search_shard[1]')

    expect(shard).toMatchObject({ name: 'search_shard', occurrence: 1, depth: 1, a: a.steps[2], b: b.steps[2], changes: [] })
  })

  it('reports a changed output at its exact JSON path, in a step inside a nested trace', () => {
    const specs = edited(6, { output: { answer: { text: 'RAG is generation', sources: [1, 2] } } })

    const diff = diffTraces(run(100), run(200, specs))

    expect(stepAt(diff, 'answer[0]/generate[0]')).toMatchObject({
      status: 'changed',
      changes: [{ field: 'output', path: '$.answer.text', before: 'RAG is retrieval', after: 'RAG is generation' }],
    })
    expect(diff.summary).toEqual({ added: 0, removed: 0, changed: 1, same: 6 })
    expect(diff.equal).toBe(false)
  })

  it('reports array elements by index, under the step they belong to', () => {
    const diff = diffTraces(run(100), run(200, edited(2, { output: [{ id: 2, score: 0.5 }] })))

    expect(stepAt(diff, 'retrieve[0]/search_shard[1]')?.changes).toEqual([{ field: 'output', path: '$[0].score', before: 0.8, after: 0.5 }])
    expect(stepAt(diff, 'retrieve[0]/search_shard[0]')?.status).toBe('same')
    expect(stepAt(diff, 'retrieve[0]/search_shard[2]')?.status).toBe('same')
  })

  it('reports an added key without `before` and a removed one without `after`', () => {
    const a = run(1, edited(0, { output: { kept: 1, gone: 2 } }))
    const b = run(2, edited(0, { output: { kept: 1, added: 3 } }))

    expect(diffTraces(a, b).steps[0]?.changes).toEqual([
      { field: 'output', path: '$.gone', before: 2 },
      { field: 'output', path: '$.added', after: 3 },
    ])
  })

  it('reports a value whose type changed once, at its own path, with both whole values', () => {
    const diff = diffTraces(run(100), run(200, edited(4, { output: { order: [2, 1, 3] } })))

    expect(stepAt(diff, 'rerank[0]')?.changes).toEqual([{ field: 'output', path: '$', before: [2, 1, 3], after: { order: [2, 1, 3] } }])
  })

  it('reports elements past the end of the shorter array as added or removed', () => {
    const a = run(1, edited(4, { output: [2, 1, 3] }))
    const b = run(2, edited(4, { output: [2, 1] }))

    expect(stepAt(diffTraces(a, b), 'rerank[0]')?.changes).toEqual([{ field: 'output', path: '$[2]', before: 3 }])
  })

  it('quotes keys that are not identifiers in the JSON path', () => {
    const a = run(1, edited(4, { output: { 'a b': { 'x.y': 1 } } }))
    const b = run(2, edited(4, { output: { 'a b': { 'x.y': 2 } } }))

    expect(stepAt(diffTraces(a, b), 'rerank[0]')?.changes).toEqual([{ field: 'output', path: '$["a b"]["x.y"]', before: 1, after: 2 }])
  })

  it('reports a removed step, and its children, without misaligning the steps after it', () => {
    const without = PIPELINE.filter((_, index) => index !== 0 && PIPELINE[index]?.parent !== 0)
      .map((spec) => (spec.parent === undefined ? spec : { ...spec, parent: spec.parent - 4 }))

    const diff = diffTraces(run(100), run(200, without))

    expect(statuses(diff)).toEqual([
      'removed retrieve[0]',
      'removed retrieve[0]/search_shard[0]',
      'removed retrieve[0]/search_shard[1]',
      'removed retrieve[0]/search_shard[2]',
      'same rerank[0]',
      'same answer[0]',
      'same answer[0]/generate[0]',
    ])
    expect(diff.summary).toEqual({ added: 0, removed: 4, changed: 0, same: 3 })
  })

  it('places a removed middle step after the step that preceded it', () => {
    const without = PIPELINE.filter((_, index) => index !== 4).map((spec) => (spec.parent === 5 ? { ...spec, parent: 4 } : spec))

    const diff = diffTraces(run(100), run(200, without))

    expect(statuses(diff)).toEqual([
      'same retrieve[0]',
      'same retrieve[0]/search_shard[0]',
      'same retrieve[0]/search_shard[1]',
      'same retrieve[0]/search_shard[2]',
      'removed rerank[0]',
      'same answer[0]',
      'same answer[0]/generate[0]',
    ])
  })

  it('reports an added step without misaligning the steps after it', () => {
    const specs: Spec[] = [{ name: 'cache_lookup' }, ...PIPELINE.map((spec) => (spec.parent === undefined ? spec : { ...spec, parent: spec.parent + 1 }))]

    const diff = diffTraces(run(100), run(200, specs))

    expect(statuses(diff)[0]).toBe('added cache_lookup[0]')
    expect(diff.summary).toEqual({ added: 1, removed: 0, changed: 0, same: 7 })
    expect(stepAt(diff, 'cache_lookup[0]')).toMatchObject({ status: 'added', b: expect.objectContaining({ name: 'cache_lookup' }), changes: [] })
    expect(stepAt(diff, 'cache_lookup[0]')).not.toHaveProperty('a')
  })

  it('reports a status change and the new error', () => {
    const error = { type: 'TimeoutError', message: 'model timed out' }
    const diff = diffTraces(run(100), run(200, edited(6, { status: 'error', error, output: undefined })))

    expect(stepAt(diff, 'answer[0]/generate[0]')?.changes).toEqual([
      { field: 'status', before: 'success', after: 'error' },
      { field: 'error', before: null, after: error },
      { field: 'output', path: '$', before: { answer: { text: 'RAG is retrieval', sources: [1, 2] } } },
    ])
  })

  it('compares errors by type and message, not by stack', () => {
    const failed = (stack: string): Partial<StepRecord> => ({ status: 'error', error: { type: 'Error', message: 'boom', stack } })

    const diff = diffTraces(run(100, edited(4, failed('at a.ts:1'))), run(200, edited(4, failed('at a.ts:2'))))

    expect(diff.equal).toBe(true)
  })

  it('compares the code of errors too, and shows it', () => {
    const failed = (code: JsonValue): Partial<StepRecord> => ({ status: 'error', error: { type: 'Error', message: 'socket hang up', code } })

    const same = diffTraces(run(100, edited(4, failed('ECONNRESET'))), run(200, edited(4, failed('ECONNRESET'))))
    const other = diffTraces(run(100, edited(4, failed('ECONNRESET'))), run(200, edited(4, failed('ETIMEDOUT'))))

    expect(same.equal).toBe(true)
    expect(stepAt(other, 'rerank[0]')?.changes).toEqual([{ field: 'error', before: { type: 'Error', message: 'socket hang up', code: 'ECONNRESET' }, after: { type: 'Error', message: 'socket hang up', code: 'ETIMEDOUT' } }])
    expect(renderDiff(other).split('\n')).toContain('      error: Error [ECONNRESET]: socket hang up → Error [ETIMEDOUT]: socket hang up')
  })

  it('reports a change of retries and attempts', () => {
    const diff = diffTraces(run(100), run(200, edited(1, { retries: 2, attempts: 3 })))

    expect(stepAt(diff, 'retrieve[0]/search_shard[0]')?.changes).toEqual([
      { field: 'retries', before: 0, after: 2 },
      { field: 'attempts', before: 1, after: 3 },
    ])
  })

  it('reports a change of kind and model', () => {
    const diff = diffTraces(run(100), run(200, edited(6, { kind: 'tool', model: 'gpt-4o-mini' })))

    expect(stepAt(diff, 'answer[0]/generate[0]')?.changes).toEqual([
      { field: 'kind', before: 'llm', after: 'tool' },
      { field: 'model', before: 'gpt-4o', after: 'gpt-4o-mini' },
    ])
  })

  it('reports the duration ratio without counting it as a change when no threshold is set', () => {
    const diff = diffTraces(run(100, edited(4, { durationMs: 4 })), run(200, edited(4, { durationMs: 10 })))

    expect(stepAt(diff, 'rerank[0]')).toMatchObject({ status: 'same', durationRatio: 2.5, changes: [] })
    expect(diff.equal).toBe(true)
  })

  it('counts a duration ratio at or beyond the `durationRatio` threshold, either way', () => {
    const slower = diffTraces(run(100, edited(4, { durationMs: 4 })), run(200, edited(4, { durationMs: 10 })), { durationRatio: 2 })
    const faster = diffTraces(run(100, edited(4, { durationMs: 10 })), run(200, edited(4, { durationMs: 4 })), { durationRatio: 2 })

    expect(stepAt(slower, 'rerank[0]')?.changes).toEqual([{ field: 'duration', before: 4, after: 10, ratio: 2.5 }])
    expect(stepAt(faster, 'rerank[0]')?.changes).toEqual([{ field: 'duration', before: 10, after: 4, ratio: 0.4 }])
  })

  it('does not count a duration ratio below the threshold', () => {
    const diff = diffTraces(run(100, edited(4, { durationMs: 4 })), run(200, edited(4, { durationMs: 10 })), { durationRatio: 3 })

    expect(stepAt(diff, 'rerank[0]')?.status).toBe('same')
  })

  it('does not count durations with `ignore: ["duration"]`, whatever the threshold', () => {
    const diff = diffTraces(run(100, edited(4, { durationMs: 4 })), run(200, edited(4, { durationMs: 40 })), { durationRatio: 2, ignore: ['duration'] })

    expect(stepAt(diff, 'rerank[0]')).toMatchObject({ status: 'same', durationRatio: 10 })
  })

  it('gives a ratio of 1 for two zero durations and Infinity from zero', () => {
    const zero = diffTraces(run(100, edited(4, { durationMs: 0 })), run(200, edited(4, { durationMs: 0 })))
    const fromZero = diffTraces(run(100, edited(4, { durationMs: 0 })), run(200, edited(4, { durationMs: 3 })))

    expect(stepAt(zero, 'rerank[0]')?.durationRatio).toBe(1)
    expect(stepAt(fromZero, 'rerank[0]')?.durationRatio).toBe(Infinity)
  })

  it('reports an input change at its path', () => {
    const diff = diffTraces(run(100), run(200, edited(0, { input: ['What is RAG, really?'] })))

    expect(stepAt(diff, 'retrieve[0]')?.changes).toEqual([{ field: 'input', path: '$[0]', before: 'What is RAG?', after: 'What is RAG, really?' }])
  })

  it('ignores input changes, of steps and of the trace, with `ignore: ["input"]`', () => {
    const diff = diffTraces(run(100), run(200, edited(0, { input: ['other'] }), { input: ['other'] }), { ignore: ['input'] })

    expect(diff.equal).toBe(true)
  })

  it('compares metadata unless it is ignored', () => {
    const a = run(100)
    const b = run(200, edited(1, { metadata: { shard: 'eu-1' } }))

    expect(stepAt(diffTraces(a, b), 'retrieve[0]/search_shard[0]')?.changes).toEqual([{ field: 'metadata', path: '$.shard', after: 'eu-1' }])
    expect(diffTraces(a, b, { ignore: ['metadata'] }).equal).toBe(true)
  })

  it('compares the traces themselves: status, output, error and retry count', () => {
    const error = { type: 'Error', message: 'no answer' }
    const b = run(200, PIPELINE, { status: 'error', error, output: undefined, retryCount: 2 })

    const diff = diffTraces(run(100), b)

    expect(diff.trace.status).toBe('changed')
    expect(diff.trace.changes).toEqual([
      { field: 'status', before: 'success', after: 'error' },
      { field: 'error', before: null, after: error },
      { field: 'retryCount', before: 0, after: 2 },
      { field: 'output', path: '$', before: { answer: 'Retrieval-augmented generation', sources: 3 } },
    ])
    expect(diff.summary.changed).toBe(0)
    expect(diff.equal).toBe(false)
  })

  it('reports the trace duration ratio, and counts it only past the threshold', () => {
    const a = run(100, PIPELINE, { durationMs: 10 })
    const b = run(200, PIPELINE, { durationMs: 30 })

    expect(diffTraces(a, b).trace).toEqual({ status: 'same', changes: [], durationRatio: 3 })
    expect(diffTraces(a, b, { durationRatio: 2 }).trace.changes).toEqual([{ field: 'duration', before: 10, after: 30, ratio: 3 }])
  })

  it('lists at most 100 value paths per step, then one marker with the count of the rest', () => {
    const numbers = (offset: number): JsonValue => Array.from({ length: 250 }, (_, index) => index + offset)
    const diff = diffTraces(run(100, edited(4, { output: numbers(0) })), run(200, edited(4, { output: numbers(1) })))

    const changes = stepAt(diff, 'rerank[0]')?.changes ?? []

    expect(changes).toHaveLength(101)
    expect(changes[99]).toEqual({ field: 'output', path: '$[99]', before: 99, after: 100 })
    expect(changes[100]).toEqual({ field: 'omitted', count: 150 })
  })

  it('shares the `maxPathsPerStep` budget between output, input and metadata', () => {
    const a = run(100, edited(4, { output: [1, 2], input: ['x', 'y'] }))
    const b = run(200, edited(4, { output: [3, 4], input: ['z', 'w'] }))

    const changes = stepAt(diffTraces(a, b, { maxPathsPerStep: 3 }), 'rerank[0]')?.changes

    expect(changes?.map((change) => ('path' in change ? `${change.field} ${change.path}` : change))).toEqual([
      'output $[0]', 'output $[1]', 'input $[0]', { field: 'omitted', count: 1 },
    ])
  })

  it('compares a 10 000-deep value without overflowing the stack', () => {
    const nest = (leaf: JsonValue): JsonValue => {
      let value = leaf
      for (let index = 0; index < 10_000; index++) value = [value]
      return value
    }

    const changes = stepAt(diffTraces(run(100, edited(4, { output: nest(1) })), run(200, edited(4, { output: nest(2) }))), 'rerank[0]')?.changes

    expect(changes).toHaveLength(1)
    expect(changes?.[0]).toMatchObject({ before: 1, after: 2 })
  })

  it('leaves both documents untouched', () => {
    const a = deepFreeze(run(100))
    const b = deepFreeze(run(200, edited(2, { output: [{ id: 9 }] })))

    expect(() => diffTraces(a, b)).not.toThrow()
  })

  it('aligns a trace of 50 000 sibling steps against one without them', () => {
    const many: Spec[] = Array.from({ length: 50_000 }, (_, index) => ({ name: `tool_${index}` }))

    const diff = diffTraces(run(0, many), run(100_000, []))

    expect(diff.summary).toEqual({ added: 0, removed: 50_000, changed: 0, same: 0 })
  })

  it('throws a MalformedTraceError for a document that is not a tree', () => {
    const broken = run(200, [{ name: 'orphan', overrides: { parentStepId: stepIdOf(999) } }])

    expect(() => diffTraces(run(100), broken)).toThrow(MalformedTraceError)
  })

  it('throws a TypeError for an invalid option', () => {
    expect(() => diffTraces(run(1), run(2), { durationRatio: 0.5 })).toThrow(TypeError)
    expect(() => diffTraces(run(1), run(2), { ignore: ['output' as 'input'] })).toThrow('Expected `ignore` to be an array of "duration", "input" and "metadata".')
    expect(() => diffTraces(run(1), run(2), { maxPathsPerStep: -1 })).toThrow(TypeError)
  })
})

describe('renderDiff', () => {
  /** b: rerank removed, search_shard[1] scored lower, generate failed after retries, cache_lookup added. */
  function mixed(): TraceDiff {
    const specs: Spec[] = [
      ...PIPELINE.slice(0, 2),
      { name: 'search_shard', parent: 0, overrides: { output: [{ id: 2, score: 0.5 }], durationMs: 5.76 } },
      PIPELINE[3] as Spec,
      { name: 'answer', overrides: PIPELINE[5]?.overrides },
      { name: 'generate', parent: 4, overrides: { ...PIPELINE[6]?.overrides, status: 'error', error: { type: 'TimeoutError', message: 'slow' }, retries: 2, attempts: 3 } },
      { name: 'cache_lookup' },
    ]
    const idOf = (prefix: string): TraceId => prefix.padEnd(32, '0') as TraceId
    return diffTraces(run(100, PIPELINE, { traceId: idOf('aaaa1111') }), run(200, specs, { traceId: idOf('bbbb2222') }))
  }

  it('marks every step: = same, ~ changed, + added, - removed, nested by depth', () => {
    const lines = renderDiff(mixed()).split('\n').filter((line) => /^[=~+-] /.test(line)).slice(1)

    expect(lines).toEqual([
      '= retrieve',
      '=   search_shard[0]',
      '~   search_shard[1]  ×1.8',
      '=   search_shard[2]',
      '- rerank',
      '= answer',
      '~   generate',
      '+ cache_lookup',
    ])
  })

  it('starts with a header: the prompt, both short trace ids and the counts', () => {
    const [header] = renderDiff(mixed()).split('\n')

    expect(header).toBe('~ answer  (aaaa1111 → bbbb2222)  2 changed, 1 added, 1 removed, 4 same')
  })

  it('says when the traces are equal', () => {
    const [header] = renderDiff(diffTraces(run(100), run(200))).split('\n')

    expect(header).toMatch(/^= answer .* no differences, 7 same$/)
  })

  it('lists the changes under a changed step, one line each', () => {
    const lines = renderDiff(mixed()).split('\n')
    const at = lines.indexOf('~   generate')

    expect(lines.slice(at + 1, at + 5)).toEqual([
      '        status: success → error',
      '        error: (none) → TimeoutError: slow',
      '        retries: 0 → 2',
      '        attempts: 1 → 3',
    ])
    expect(lines[lines.indexOf('~   search_shard[1]  ×1.8') + 1]).toBe('        output $[0].score: 0.8 → 0.5')
  })

  it('abbreviates long values to fit the width', () => {
    const long = 'x'.repeat(500)
    const diff = diffTraces(run(100, edited(4, { output: { text: long } })), run(200, edited(4, { output: { text: `${long}!` } })))

    const line = renderDiff(diff, { width: 80 }).split('\n').find((text) => text.includes('$.text')) ?? ''

    expect(line).toMatch(/^ {6}output \$\.text: "x+… → "x+…$/)
    expect(line.length).toBeLessThanOrEqual(80)
  })

  it('shows a marker for the paths left out', () => {
    const diff = diffTraces(run(100, edited(4, { output: [1, 2, 3] })), run(200, edited(4, { output: [4, 5, 6] })), { maxPathsPerStep: 1 })

    expect(renderDiff(diff).split('\n')).toContain('      … 2 more')
  })

  it('uses no ANSI escape without `colors`', () => {
    expect(renderDiff(mixed())).not.toMatch(ANSI)
    expect(renderDiff(mixed(), { colors: false })).not.toMatch(ANSI)
  })

  it('paints added steps green, removed ones red and changed ones yellow with `colors: true`', () => {
    const lines = renderDiff(mixed(), { colors: true }).split('\n')

    expect(lines.find((line) => line.includes('cache_lookup'))).toContain('\u001b[32m+\u001b[39m')
    expect(lines.find((line) => line.includes('rerank'))).toContain('\u001b[31m-\u001b[39m')
    expect(lines.find((line) => line.includes('generate'))).toContain('\u001b[33m~\u001b[39m')
  })

  it('replaces control characters from the traces, so they cannot inject escape sequences', () => {
    const evil = '\u001b[2J\u001b]0;pwned\u0007\u009b31m'
    const specs: Spec[] = [{ name: `name${evil}\nsecond line`, overrides: { output: `out${evil}` } }]
    const diff = diffTraces(run(100, specs, { prompt: `p${evil}` }), run(200, [{ ...specs[0] as Spec, overrides: { output: `new${evil}`, error: { type: evil, message: evil }, status: 'error' } }], { prompt: `p${evil}` }))

    const plainText = renderDiff(diff)
    const colored = renderDiff(diff, { colors: true }).replace(/\u001b\[\d+m/g, '')

    expect(plainText).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/)
    expect(colored).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/)
    expect(plainText.split('\n')).toHaveLength(1 + 1 + 3)   // header, the step, status + error + output
  })
})
