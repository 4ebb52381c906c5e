// The trace page's pure model (src/ui/client/trace/model.ts) and find (trace/find.ts): the tree in
// display order, collapse, self time, the critical path, stats, and the find grammar.
import { describe, expect, it } from '@jest/globals'
import type { Previews, Skeleton } from '../../src/ui/client/api.js'
import { findSteps, matchStep, parseQuery } from '../../src/ui/client/trace/find.js'
import {
  allParents, buildTree, collapseOneLevel, compressedAxis, criticalPath, expandOneLevel, expandTo, idleGaps, idleShare, selfTimes, statsOf,
  subtreeSummary, visibleRows,
} from '../../src/ui/client/trace/model.js'

interface Spec { id: string; parent?: string; name?: string; kind?: string; at: number; ms: number; error?: boolean; retries?: number; model?: string; tokens?: [number, number]; input?: string }

/** A skeleton in the API's columnar shape. */
function skeletonOf(specs: Spec[]): Skeleton {
  const col = <T>(pick: (spec: Spec, n: number) => T): T[] => specs.map(pick)
  return {
    traceId: 'a'.repeat(32), count: specs.length, startedAt: null,
    columns: {
      stepId: col((s) => s.id), parentStepId: col((s) => s.parent ?? null), doc: col(() => null), seq: col((_, n) => n),
      name: col((s) => s.name ?? s.id), kind: col((s) => s.kind ?? 'tool'), status: col((s) => (s.error ? 'error' : 'success')),
      offsetMs: col((s) => s.at), durationMs: col((s) => s.ms), attempts: col((s) => 1 + (s.retries ?? 0)), retries: col((s) => s.retries ?? 0),
      model: col((s) => s.model ?? null), inputTokens: col((s) => s.tokens?.[0] ?? null), outputTokens: col((s) => s.tokens?.[1] ?? null),
      costUsd: col((s) => (s.tokens ? 0.001 : null)), errorType: col((s) => (s.error ? 'TimeoutError' : null)),
      errorPreview: col((s) => (s.error ? 'the search timed out' : null)),
      inputBytes: col(() => null), outputBytes: col(() => null), truncated: col(() => false), incomplete: col(() => false),
    },
  }
}

// root 0–100: fetch 0–30, generate 20–60 (lookup 25–35, lookup 30–50), format 40–55, search 65–90 (failed, retried)
const DESIGNED = skeletonOf([
  { id: 'root', kind: 'chain', at: 0, ms: 100 },
  { id: 'fetch', parent: 'root', at: 0, ms: 30, input: 'needle in the input' },
  { id: 'generate', parent: 'root', kind: 'llm', at: 20, ms: 40, model: 'gpt-test', tokens: [100, 20] },
  { id: 'lookup1', name: 'lookup', parent: 'generate', at: 25, ms: 10 },
  { id: 'lookup2', name: 'lookup', parent: 'generate', at: 30, ms: 20 },
  { id: 'format', parent: 'root', at: 40, ms: 15 },
  { id: 'search', parent: 'root', kind: 'retriever', at: 65, ms: 25, error: true, retries: 2 },
])
const tree = buildTree(DESIGNED)
const ids = (indices: Iterable<number>): string[] => [...indices].map((i) => DESIGNED.columns.stepId[i]!)
const at = (id: string): number => DESIGNED.columns.stepId.indexOf(id)

describe('buildTree and visibleRows', () => {
  it('orders steps depth first, siblings by start, with depths and subtree summaries', () => {
    expect(ids(tree.order)).toEqual(['root', 'fetch', 'generate', 'lookup1', 'lookup2', 'format', 'search'])
    expect([...tree.depth]).toEqual([0, 1, 1, 2, 2, 1, 1])
    expect(subtreeSummary(tree, at('root'))).toEqual({ steps: 6, errors: 1 })
    expect(subtreeSummary(tree, at('generate'))).toEqual({ steps: 2, errors: 0 })
    expect(tree.total).toBe(100)
  })

  it('hides a collapsed subtree behind one summary row, and expandTo opens the ancestors of a step', () => {
    const rows = visibleRows(tree, new Set([at('generate')]))
    expect(rows.map((row) => `${DESIGNED.columns.stepId[row.index]}${row.summary ? '+' : ''}`))
      .toEqual(['root', 'fetch', 'generate', 'generate+', 'format', 'search'])
    const all = allParents(tree)
    expect(ids(all).sort()).toEqual(['generate', 'root'])
    expect(visibleRows(tree, all)).toHaveLength(2)
    expect(ids(expandTo(tree, all, [at('lookup2')])).sort()).toEqual([])
    expect(ids(expandTo(tree, all, [at('fetch')]))).toEqual(['generate'])
  })

  it('collapses and expands one level at a time', () => {
    const once = collapseOneLevel(tree, new Set())
    expect(ids(once)).toEqual(['generate'])
    const twice = collapseOneLevel(tree, once)
    expect(ids(twice).sort()).toEqual(['generate', 'root'])
    expect(ids(expandOneLevel(tree, twice))).toEqual(['generate'])
  })

  it('puts a step whose parent is missing at the top, and a cycle of parents does not hang', () => {
    const orphan = buildTree(skeletonOf([{ id: 'a', parent: 'gone', at: 5, ms: 1 }, { id: 'b', at: 0, ms: 1 }]))
    expect([...orphan.order]).toEqual([1, 0])
    const cycle = buildTree(skeletonOf([{ id: 'a', parent: 'b', at: 0, ms: 1 }, { id: 'b', parent: 'a', at: 0, ms: 1 }]))
    expect([...cycle.order].sort()).toEqual([0, 1])
  })
})

describe('selfTimes', () => {
  it('is the duration minus the union of the children, clipped to the step', () => {
    const self = selfTimes(DESIGNED, tree)
    expect(Object.fromEntries(DESIGNED.columns.stepId.map((id, i) => [id, self[i]]))).toEqual({
      root: 15, fetch: 30, generate: 15, lookup1: 10, lookup2: 20, format: 15, search: 25,
    })
  })
})

describe('criticalPath', () => {
  it('follows the last-finishing child backwards from the trace end (Jaeger)', () => {
    const sections = criticalPath(DESIGNED, tree)
    expect(sections.map((s) => [DESIGNED.columns.stepId[s.index], s.start, s.end])).toEqual([
      ['root', 90, 100], ['search', 65, 90], ['root', 60, 65], ['generate', 50, 60], ['lookup2', 30, 50], ['generate', 20, 30], ['root', 0, 20],
    ])
    expect(new Set(ids(sections.map((s) => s.index)))).toEqual(new Set(['root', 'search', 'generate', 'lookup2']))
  })

  it('chains sequential top-level steps, including ones that touch', () => {
    const flat = skeletonOf([{ id: 'a', at: 0, ms: 10 }, { id: 'b', at: 10, ms: 10 }, { id: 'c', at: 2, ms: 3 }])
    const sections = criticalPath(flat, buildTree(flat))
    expect(sections.map((s) => flat.columns.stepId[s.index])).toEqual(['b', 'a'])
  })
})

describe('statsOf', () => {
  it('groups by name and kind: count, total, self, errors, retries, tokens', () => {
    const lines = statsOf(DESIGNED, selfTimes(DESIGNED, tree))
    expect(lines.find((line) => line.name === 'lookup')).toMatchObject({ kind: 'tool', count: 2, total: 30, self: 30, errors: 0 })
    expect(lines.find((line) => line.name === 'search')).toMatchObject({ count: 1, errors: 1, retries: 2 })
    expect(lines.find((line) => line.name === 'generate')).toMatchObject({ tokens: 120, cost: 0.001 })
    expect(lines[0]!.name).toBe('root')
  })
})

describe('find', () => {
  // the I/O previews come apart from the skeleton (GET /api/traces/:id/previews), in its order
  const previews = (skeleton: Skeleton, input: Record<string, string>): Previews => ({
    traceId: skeleton.traceId,
    columns: { stepId: skeleton.columns.stepId, inputPreview: skeleton.columns.stepId.map((id) => input[id] ?? null), outputPreview: skeleton.columns.stepId.map(() => null) },
  })
  const PREVIEWS = previews(DESIGNED, { fetch: 'needle in the input' })
  const found = (text: string): string[] => ids(findSteps(DESIGNED, tree.order, parseQuery(text), PREVIEWS))

  it('matches words in name, kind, status, model, error and previews, all of them, case-insensitively', () => {
    expect(found('LOOKUP')).toEqual(['lookup1', 'lookup2'])
    expect(found('gpt-test')).toEqual(['generate'])
    expect(found('timed out')).toEqual(['search'])
    expect(found('"timed out"')).toEqual(['search'])
    expect(found('needle')).toEqual(['fetch'])
    expect(found('needle lookup')).toEqual([])
    expect(found('')).toEqual([])
  })

  it('searches the previews only once they are loaded, and only for the step they belong to', () => {
    expect(ids(findSteps(DESIGNED, tree.order, parseQuery('needle')))).toEqual([])
    expect(ids(findSteps(DESIGNED, tree.order, parseQuery('needle'), null))).toEqual([])
    // previews of another state of the trace (the store changed between the two requests) are not used
    const shifted = { ...PREVIEWS, columns: { ...PREVIEWS.columns, stepId: [...PREVIEWS.columns.stepId].reverse() } }
    expect(ids(findSteps(DESIGNED, tree.order, parseQuery('needle'), shifted))).toEqual([])
  })

  it('filters kind, status, retries, duration, tokens and model', () => {
    expect(found('kind:llm')).toEqual(['generate'])
    expect(found('status:error')).toEqual(['search'])
    expect(found('retries:>0')).toEqual(['search'])
    expect(found('duration:>20ms')).toEqual(['root', 'fetch', 'generate', 'search'])
    expect(found('duration:>=0.02s kind:tool')).toEqual(['fetch', 'lookup2'])
    expect(found('duration:<15')).toEqual(['lookup1'])
    expect(found('tokens:>100')).toEqual(['generate'])
    expect(found('model:gpt')).toEqual(['generate'])
    expect(found('kind:tool lookup')).toEqual(['lookup1', 'lookup2'])
  })

  it('reports a malformed filter and keeps it as a word', () => {
    const query = parseQuery('duration:>fast')
    expect(query.error).toMatch(/duration:>500ms/)
    expect(matchStep(DESIGNED, 0, query)).toBe(false)
    expect(parseQuery('kind:llm').error).toBeNull()
  })
})

describe('idleGaps and compressedAxis', () => {
  it('finds where no step runs and squeezes long gaps to 1% of the trace', () => {
    const sparse = skeletonOf([{ id: 'a', at: 0, ms: 10 }, { id: 'b', at: 990, ms: 10 }, { id: 'c', at: 5, ms: 10 }])
    const sparseTree = buildTree(sparse)
    const gaps = idleGaps(sparse, sparseTree)
    expect(gaps).toEqual([[15, 990]])
    expect(idleShare(gaps, sparseTree.total)).toBeCloseTo(0.975)
    const axis = compressedAxis(gaps, sparseTree.total)
    expect([axis.map(0), axis.map(15), axis.map(990), axis.map(1000)]).toEqual([0, 15, 25, 35])
    expect(axis.map(502.5)).toBeCloseTo(20)
    expect(idleGaps(DESIGNED, tree)).toEqual([])
  })
})

describe('criticalPath with children outside their parent', () => {
  it('clips a child that outlives its parent and ignores one that starts after it ended', () => {
    const odd = skeletonOf([
      { id: 'p', at: 0, ms: 50 },
      { id: 'late', parent: 'p', at: 40, ms: 30 },
      { id: 'after', parent: 'p', at: 60, ms: 5 },
      { id: 'early', parent: 'p', at: 0, ms: 20 },
    ])
    const oddTree = buildTree(odd)
    const sections = criticalPath(odd, oddTree)
    // the trace ends at 70 (late's end): p is clipped at 50, late clipped to 40–50
    expect(sections.map((s) => [odd.columns.stepId[s.index], s.start, s.end])).toEqual([
      ['late', 40, 50], ['p', 20, 40], ['early', 0, 20],
    ])
    expect(selfTimes(odd, oddTree)[0]).toBe(20)
  })
})
