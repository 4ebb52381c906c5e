// The trace page's model of a skeleton (docs/ui.md#trace-page-in-detail): the tree in display order,
// self time, the critical path and per-name statistics. Pure functions without DOM, computed once per
// skeleton, so that every row costs O(1) while scrolling; tests/ui/trace-model.test.ts pins them.
import type { Skeleton } from '../api.js'

/** The tree of a skeleton. Steps are referred to by their index in the skeleton's columns. */
export interface TraceTree {
  readonly count: number
  /** Each step's parent index, -1 for a top-level step. */
  readonly parent: Int32Array
  readonly depth: Int32Array
  /** Each step's children, earliest first. */
  readonly children: ReadonlyArray<ReadonlyArray<number>>
  readonly roots: ReadonlyArray<number>
  /** Every step in display order (depth first, siblings by start). */
  readonly order: Int32Array
  /** Each step's position in `order`. */
  readonly position: Int32Array
  /** The position in `order` just after each step's subtree. */
  readonly subtreeEnd: Int32Array
  /** Errors among `order[0..p)`: the errors of a subtree are `errorsBefore[end] - errorsBefore[p + 1]`. */
  readonly errorsBefore: Int32Array
  /** The trace's extent in ms from its start. */
  readonly total: number
}

/**
 * Builds the tree. A step whose parent is not in the skeleton hangs under `callerOf(doc)` (a continued
 * document's root steps under the caller's span), else at the top.
 */
export function buildTree(skeleton: Skeleton, callerOf: ReadonlyMap<string, string> = new Map()): TraceTree {
  const c = skeleton.columns
  const count = c.stepId.length
  const indexOf = new Map<string, number>()
  for (let i = 0; i < count; i++) indexOf.set(c.stepId[i]!, i)
  const parent = new Int32Array(count).fill(-1)
  const children: number[][] = Array.from({ length: count }, () => [])
  const roots: number[] = []
  let total = 0
  for (let i = 0; i < count; i++) {
    const doc = c.doc[i] ?? null
    const named = c.parentStepId[i] ?? (doc !== null ? callerOf.get(doc) ?? null : null)
    const p = named === null ? undefined : indexOf.get(named)
    if (p !== undefined && p !== i) { parent[i] = p; children[p]!.push(i) } else roots.push(i)
    total = Math.max(total, (c.offsetMs[i] ?? 0) + (c.durationMs[i] ?? 0))
  }
  const byStart = (a: number, b: number): number => (c.offsetMs[a] ?? 0) - (c.offsetMs[b] ?? 0) || (c.seq[a] ?? 0) - (c.seq[b] ?? 0)
  roots.sort(byStart)
  for (const list of children) list.sort(byStart)
  const order = new Int32Array(count)
  const position = new Int32Array(count).fill(-1)
  const subtreeEnd = new Int32Array(count)
  const depth = new Int32Array(count)
  const errorsBefore = new Int32Array(count + 1)
  let at = 0
  // iterative depth-first walk (a cycle of parent ids is cut: a step already placed is not placed again)
  const stack: Array<[number, number]> = []
  for (let r = roots.length - 1; r >= 0; r--) stack.push([roots[r]!, 0])
  const visit = (): void => {
    while (stack.length > 0) {
      const [i, d] = stack.pop()!
      if (i < 0) { subtreeEnd[-i - 1] = at; continue }
      if (position[i] !== -1) continue
      position[i] = at
      order[at] = i
      depth[i] = d
      errorsBefore[at + 1] = errorsBefore[at]! + (c.status[i] === 'error' ? 1 : 0)
      at++
      stack.push([-i - 1, 0])
      const kids = children[i]!
      for (let k = kids.length - 1; k >= 0; k--) stack.push([kids[k]!, d + 1])
    }
  }
  visit()
  // steps only reachable through a cycle become top-level
  for (let i = 0; i < count; i++) {
    if (position[i] === -1) { parent[i] = -1; roots.push(i); stack.push([i, 0]); visit() }
  }
  return { count, parent, depth, children, roots, order, position, subtreeEnd, errorsBefore, total: total || 1 }
}

/** A row of the waterfall: a step, or the summary under a collapsed step ("N steps, M ✗"). */
export type Row = { readonly index: number; readonly summary: boolean }

/** The visible rows: display order, skipping the subtrees of collapsed steps (each leaves a summary row). */
export function visibleRows(tree: TraceTree, collapsed: ReadonlySet<number>): Row[] {
  const rows: Row[] = []
  for (let p = 0; p < tree.count;) {
    const i = tree.order[p]!
    rows.push({ index: i, summary: false })
    if (collapsed.has(i) && tree.children[i]!.length > 0) {
      rows.push({ index: i, summary: true })
      p = tree.subtreeEnd[i]!
    } else p++
  }
  return rows
}

/** How many steps and errors a step's subtree holds, itself excluded. */
export function subtreeSummary(tree: TraceTree, index: number): { steps: number; errors: number } {
  const p = tree.position[index]!
  const end = tree.subtreeEnd[index]!
  return { steps: end - p - 1, errors: tree.errorsBefore[end]! - tree.errorsBefore[p + 1]! }
}

/** Every step with children: what "collapse all" collapses. */
export function allParents(tree: TraceTree): Set<number> {
  const out = new Set<number>()
  for (let i = 0; i < tree.count; i++) if (tree.children[i]!.length > 0) out.add(i)
  return out
}

/** Collapses the deepest expanded level of steps that are shown and have children (Jaeger's "collapse +1"). */
export function collapseOneLevel(tree: TraceTree, collapsed: ReadonlySet<number>): Set<number> {
  const open = visibleRows(tree, collapsed).filter((row) => !row.summary && tree.children[row.index]!.length > 0 && !collapsed.has(row.index))
  const deepest = open.reduce((max, row) => Math.max(max, tree.depth[row.index]!), -1)
  const next = new Set(collapsed)
  for (const row of open) if (tree.depth[row.index] === deepest) next.add(row.index)
  return next
}

/** Expands the shallowest collapsed level of shown steps (Jaeger's "expand +1"). */
export function expandOneLevel(tree: TraceTree, collapsed: ReadonlySet<number>): Set<number> {
  const shut = visibleRows(tree, collapsed).filter((row) => row.summary)
  const shallowest = shut.reduce((min, row) => Math.min(min, tree.depth[row.index]!), Number.POSITIVE_INFINITY)
  const next = new Set(collapsed)
  for (const row of shut) if (tree.depth[row.index] === shallowest) next.delete(row.index)
  return next
}

/** `collapsed` without the ancestors of `indices`, so that each of them is shown. */
export function expandTo(tree: TraceTree, collapsed: ReadonlySet<number>, indices: Iterable<number>): ReadonlySet<number> {
  let next: Set<number> | undefined
  for (const index of indices) {
    for (let p = tree.parent[index]!; p >= 0; p = tree.parent[p]!) {
      if (collapsed.has(p)) { next ??= new Set(collapsed); next.delete(p) }
    }
  }
  return next ?? collapsed
}

/**
 * Self time of every step: its duration minus the union of its children's intervals, each clipped to
 * the step's own interval (children that overlap are counted once).
 */
export function selfTimes(skeleton: Skeleton, tree: TraceTree): Float64Array {
  const c = skeleton.columns
  const out = new Float64Array(tree.count)
  for (let i = 0; i < tree.count; i++) {
    const start = c.offsetMs[i] ?? 0
    const end = start + (c.durationMs[i] ?? 0)
    let covered = 0
    let reach = start
    // children are sorted by start: sweep, counting only what extends past the reach so far
    for (const k of tree.children[i]!) {
      const from = Math.max(c.offsetMs[k] ?? 0, reach)
      const to = Math.min((c.offsetMs[k] ?? 0) + (c.durationMs[k] ?? 0), end)
      if (to > from) { covered += to - from; reach = to }
    }
    out[i] = Math.max(0, end - start - covered)
  }
  return out
}

/** One section of the critical path: the part `[start, end)` (ms from the trace's start) of a step. */
export interface CriticalSection { readonly index: number; readonly start: number; readonly end: number }

/**
 * The critical path (Jaeger's algorithm): the chain of steps that bounds the trace's end. From the
 * trace's end, take the child that finishes last; within it, recurse; when a step has no child ending
 * before the point reached, its remaining part is critical and the walk goes back to its parent, from
 * that step's start, looking for the sibling that finished last before it. Children are clipped to their
 * parent's interval (a child starting after its parent ended is ignored). Returns the sections, latest first.
 */
export function criticalPath(skeleton: Skeleton, tree: TraceTree): CriticalSection[] {
  const c = skeleton.columns
  const startOf = (i: number): number => c.offsetMs[i] ?? 0
  const rawEnd = (i: number): number => startOf(i) + (c.durationMs[i] ?? 0)
  // children (and the roots, under a virtual node -1) by clipped end, latest first
  const clippedEnd = new Float64Array(tree.count)
  const sortedKids = (kids: ReadonlyArray<number>, parentStart: number, parentEnd: number): number[] => {
    const kept = kids.filter((k) => startOf(k) <= parentEnd && rawEnd(k) >= parentStart)
    for (const k of kept) clippedEnd[k] = Math.min(rawEnd(k), parentEnd)
    return kept.sort((a, b) => clippedEnd[b]! - clippedEnd[a]! || startOf(b) - startOf(a))
  }
  const lists = new Map<number, number[]>()
  const pointer = new Map<number, number>()
  const kidsOf = (node: number): number[] => {
    let list = lists.get(node)
    if (list === undefined) {
      list = node < 0 ? sortedKids(tree.roots, 0, tree.total) : sortedKids(tree.children[node]!, startOf(node), clippedEnd[node]!)
      lists.set(node, list)
    }
    return list
  }
  /** The next child of `node`, in end order, ending no later than `before`; each is taken at most once. */
  const lastFinishing = (node: number, before: number): number | undefined => {
    const list = kidsOf(node)
    for (let k = pointer.get(node) ?? 0; k < list.length; k++) {
      const kid = list[k]!
      if (clippedEnd[kid]! <= before) { pointer.set(node, k + 1); return kid }
    }
    pointer.set(node, list.length)
    return undefined
  }
  const sections: CriticalSection[] = []
  const endOf = (node: number): number => (node < 0 ? tree.total : clippedEnd[node]!)
  let node = -1
  let until = tree.total
  for (let guard = 0; guard < 4 * tree.count + 4; guard++) {
    const kid = lastFinishing(node, until)
    if (kid !== undefined) {
      if (node >= 0 && clippedEnd[kid]! < until) sections.push({ index: node, start: clippedEnd[kid]!, end: until })
      node = kid
      until = endOf(kid)
      continue
    }
    if (node < 0) break
    const start = startOf(node)
    if (start < until) sections.push({ index: node, start, end: until })
    until = start
    node = tree.parent[node]!
  }
  return sections
}

/** One line of the Stats view: the steps sharing a name and a kind. */
export interface StatsLine {
  readonly name: string; readonly kind: string
  count: number; total: number; self: number; errors: number; retries: number; tokens: number; cost: number
}

/** Per name and kind: count, total and self time, errors, retries, tokens (in + out), cost. */
export function statsOf(skeleton: Skeleton, self: Float64Array): StatsLine[] {
  const c = skeleton.columns
  const groups = new Map<string, StatsLine>()
  for (let i = 0; i < c.stepId.length; i++) {
    const name = c.name[i] ?? ''
    const kind = c.kind[i] ?? ''
    const key = JSON.stringify([name, kind])
    let line = groups.get(key)
    if (line === undefined) { line = { name, kind, count: 0, total: 0, self: 0, errors: 0, retries: 0, tokens: 0, cost: 0 }; groups.set(key, line) }
    line.count++
    line.total += c.durationMs[i] ?? 0
    line.self += self[i] ?? 0
    line.errors += c.status[i] === 'error' ? 1 : 0
    line.retries += c.retries[i] ?? 0
    line.tokens += (c.inputTokens[i] ?? 0) + (c.outputTokens[i] ?? 0)
    line.cost += c.costUsd[i] ?? 0
  }
  return [...groups.values()].sort((a, b) => b.total - a.total)
}

/** The stretches of the trace where no step runs, `[start, end)` in ms, earliest first. */
export function idleGaps(skeleton: Skeleton, tree: TraceTree): Array<readonly [number, number]> {
  const c = skeleton.columns
  const byStart = Array.from(tree.order).sort((a, b) => (c.offsetMs[a] ?? 0) - (c.offsetMs[b] ?? 0))
  const gaps: Array<readonly [number, number]> = []
  let reach = 0
  for (const i of byStart) {
    const start = c.offsetMs[i] ?? 0
    if (start > reach) gaps.push([reach, start])
    reach = Math.max(reach, start + (c.durationMs[i] ?? 0))
  }
  return gaps
}

/** A time axis: real ms from the trace's start to display ms, with the idle gaps it squeezes. */
export interface Axis { readonly map: (ms: number) => number; readonly gaps: ReadonlyArray<readonly [number, number]>; readonly keep: number }

export const LINEAR: Axis = { map: (ms) => ms, gaps: [], keep: 0 }

/**
 * An axis on which every idle gap longer than 2% of the trace is drawn 1% wide (Langfuse's
 * "compress idle time"), so that the work on both sides of a long wait is readable.
 */
export function compressedAxis(gaps: ReadonlyArray<readonly [number, number]>, total: number): Axis {
  const keep = total * 0.01
  const long = gaps.filter(([a, b]) => b - a > 2 * keep)
  const removed: number[] = []
  let sum = 0
  for (const [a, b] of long) { removed.push(sum); sum += b - a - keep }
  const map = (ms: number): number => {
    let lo = 0
    let hi = long.length - 1
    let k = -1
    while (lo <= hi) { const mid = (lo + hi) >> 1; if (long[mid]![0] <= ms) { k = mid; lo = mid + 1 } else hi = mid - 1 }
    if (k < 0) return ms
    const [a, b] = long[k]!
    if (ms >= b) return ms - removed[k]! - (b - a - keep)
    return a - removed[k]! + ((ms - a) * keep) / (b - a)
  }
  return { map, gaps: long, keep }
}

/** Whether idle time is over half the trace, when compressing it is offered. */
export const idleShare = (gaps: ReadonlyArray<readonly [number, number]>, total: number): number =>
  gaps.reduce((sum, [a, b]) => sum + b - a, 0) / total
