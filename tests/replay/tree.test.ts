import { describe, expect, it } from '@jest/globals'
import type { StepRecord, TraceDocument } from '../../src/document/document.js'
import { MalformedTraceError, toTree, type TreeNode } from '../../src/replay/tree.js'
import { makeDocument, makeStep, stepIdOf } from '../helpers/documents.js'

/** Step `n` named `name`, under step `parent` (or at the top), started `seq`-th (default `n`). */
function step(n: number, name: string, parent: number | null = null, seq: number = n, overrides: Partial<StepRecord> = {}): StepRecord {
  return makeStep({ stepId: stepIdOf(n), parentStepId: parent === null ? null : stepIdOf(parent), seq, name, ...overrides })
}

/** Every node, depth first, as `path (depth)`. */
function outline(roots: ReadonlyArray<TreeNode>): string[] {
  const lines: string[] = []
  const stack = [...roots].reverse()
  for (let node = stack.pop(); node !== undefined; node = stack.pop()) {
    lines.push(`${node.path} (${node.depth})`)
    for (let index = node.children.length - 1; index >= 0; index--) stack.push(node.children[index] as TreeNode)
  }
  return lines
}

/** The error `fn` throws (fails the test when it throws nothing). */
function thrown(fn: () => unknown): unknown {
  try {
    fn()
  } catch (error) {
    return error
  }
  throw new Error('expected a throw')
}

describe('toTree', () => {
  it('nests each step under its parent step and keeps the document', () => {
    const doc = makeDocument({ steps: [step(1, 'retrieve'), step(2, 'rerank', 1), step(3, 'parse', 2), step(4, 'generate')] })

    const tree = toTree(doc)

    expect(tree.doc).toBe(doc)
    expect(outline(tree.roots)).toEqual(['retrieve[0] (0)', 'retrieve[0]/rerank[0] (1)', 'retrieve[0]/rerank[0]/parse[0] (2)', 'generate[0] (0)'])
  })

  it('orders roots and siblings by seq, not by their place in steps', () => {
    const doc = makeDocument({ steps: [step(4, 'generate', null, 3), step(3, 'fetch', 1, 2), step(2, 'rerank', 1, 1), step(1, 'retrieve', null, 0)] })

    expect(outline(toTree(doc).roots)).toEqual(['retrieve[0] (0)', 'retrieve[0]/rerank[0] (1)', 'retrieve[0]/fetch[0] (1)', 'generate[0] (0)'])
  })

  it('puts a nested trace (a step of kind "trace") in the tree with the tools it called as its children', () => {
    const doc = makeDocument({
      steps: [step(1, 'plan'), step(2, 'inner_answer', null, 2, { kind: 'trace' }), step(3, 'search', 2, 3), step(4, 'summarize', 2, 4)],
    })

    const inner = toTree(doc).roots[1]

    expect(inner?.step.kind).toBe('trace')
    expect(inner?.children.map((node) => node.path)).toEqual(['inner_answer[0]/search[0]', 'inner_answer[0]/summarize[0]'])
  })

  it('numbers each name among its same-named siblings in the path', () => {
    const doc = makeDocument({
      steps: [step(1, 'retrieve'), step(2, 'search_shard', 1), step(3, 'log', 1), step(4, 'search_shard', 1), step(5, 'search_shard', 1), step(6, 'retrieve')],
    })

    expect(outline(toTree(doc).roots)).toEqual([
      'retrieve[0] (0)',
      'retrieve[0]/search_shard[0] (1)',
      'retrieve[0]/log[0] (1)',
      'retrieve[0]/search_shard[1] (1)',
      'retrieve[0]/search_shard[2] (1)',
      'retrieve[1] (0)',
    ])
  })

  it('escapes the path punctuation in names, so different positions never share a path', () => {
    const doc = makeDocument({ steps: [step(1, 'a[0]/b'), step(2, 'a'), step(3, 'b', 2)] })

    expect(outline(toTree(doc).roots)).toEqual(['a\\[0\\]\\/b[0] (0)', 'a[0] (0)', 'a[0]/b[0] (1)'])
  })

  it('gives a trace without steps no roots', () => {
    expect(toTree(makeDocument({ steps: [] })).roots).toEqual([])
  })

  it('rebuilds a 10 000-deep chain of steps without overflowing the stack', () => {
    const depth = 10_000
    const steps = Array.from({ length: depth }, (_, index) => step(index + 1, 'step', index === 0 ? null : index))
    const doc = makeDocument({ steps: steps.reverse() })

    let node = toTree(doc).roots[0]
    while (node !== undefined && node.children.length > 0) node = node.children[0]

    expect(node?.depth).toBe(depth - 1)
    expect(node?.step.stepId).toBe(stepIdOf(depth))
    expect(node?.path.split('/')).toHaveLength(depth)
  })
})

describe('toTree on a malformed document', () => {
  it('names the step whose parent is not in the trace', () => {
    const doc = makeDocument({ steps: [step(1, 'retrieve'), step(2, 'rerank', 9)] })

    const error = thrown(() => toTree(doc))

    expect(error).toBeInstanceOf(MalformedTraceError)
    expect(error).toMatchObject({ name: 'MalformedTraceError', reason: 'unknown-parent', stepId: stepIdOf(2) })
    expect((error as Error).message).toBe(`Step "${stepIdOf(2)}" ("rerank") names the parent "${stepIdOf(9)}", which is not a step of this trace.`)
  })

  it('names a step that is its own parent', () => {
    const doc = makeDocument({ steps: [step(1, 'loop', 1)] })

    const error = thrown(() => toTree(doc))

    expect(error).toMatchObject({ reason: 'cycle', stepId: stepIdOf(1) })
    expect((error as Error).message).toContain(`"${stepIdOf(1)}" ("loop") is its own parent`)
  })

  it('names the steps of a parent cycle A → B → A', () => {
    const doc = makeDocument({ steps: [step(1, 'root'), step(2, 'a', 3), step(3, 'b', 2)] })

    const error = thrown(() => toTree(doc))

    expect(error).toBeInstanceOf(MalformedTraceError)
    expect(error).toMatchObject({ reason: 'cycle', stepId: stepIdOf(2) })
    expect((error as Error).message).toContain(`"${stepIdOf(2)}" ("a") → "${stepIdOf(3)}" ("b") → "${stepIdOf(2)}" ("a")`)
  })

  it('reports the cycle itself when the first unreachable step only hangs from it', () => {
    const doc = makeDocument({ steps: [step(1, 'leaf', 2, 0), step(2, 'a', 3, 1), step(3, 'b', 2, 2)] })

    const error = thrown(() => toTree(doc))

    expect(error).toMatchObject({ reason: 'cycle', stepId: stepIdOf(2) })
    expect((error as Error).message).not.toContain('leaf')
  })

  it('names a step id used twice, and both places', () => {
    const doc = makeDocument({ steps: [step(1, 'retrieve'), step(1, 'rerank', null, 1)] })

    const error = thrown(() => toTree(doc))

    expect(error).toMatchObject({ reason: 'duplicate-step', stepId: stepIdOf(1) })
    expect((error as Error).message).toBe(`Two steps share the id "${stepIdOf(1)}": steps[0] ("retrieve") and steps[1] ("rerank").`)
  })

  it('names a schemaVersion newer than 1', () => {
    const doc = { ...makeDocument(), schemaVersion: 2 } as unknown as TraceDocument

    const error = thrown(() => toTree(doc))

    expect(error).toMatchObject({ reason: 'schema-version', stepId: undefined })
    expect((error as Error).message).toMatch(/schemaVersion 2, newer than .* \(1\)/)
  })

  it('points a stored snake_case document to fromWire', () => {
    const wire = { schema_version: 1, steps: [] } as unknown as TraceDocument

    expect(() => toTree(wire)).toThrow(/fromWire/)
  })

  it('rejects steps that are not an array', () => {
    const doc = { ...makeDocument(), steps: { 0: makeStep() } } as unknown as TraceDocument

    const error = thrown(() => toTree(doc))

    expect(error).toMatchObject({ reason: 'steps' })
    expect((error as Error).message).toBe('Expected `steps` to be an array, got object.')
  })

  it('names the index of a step without an id', () => {
    const doc = makeDocument({ steps: [step(1, 'ok'), { ...makeStep(), stepId: undefined } as unknown as StepRecord] })

    expect(() => toTree(doc)).toThrow('Expected steps[1].stepId to be a non-empty string, got undefined.')
  })

  it('keeps control characters of a step name out of the message', () => {
    const doc = makeDocument({ steps: [step(1, '\u001b[31mred\u009b', 7)] })

    const error = thrown(() => toTree(doc)) as Error

    expect(error.message).not.toMatch(/[\u0000-\u001f\u007f-\u009f]/)
    expect(error.message).toContain('\\u001b[31mred\\u009b')
  })
})
