/**
 * The execution tree of a trace, rebuilt from the flat `steps` array through `parentStepId`.
 * Everything here is iterative: a pathological 10 000-deep chain of steps costs memory, never the stack.
 */
import type { StepRecord, TraceDocument } from '../document/document.js'

/**
 * One step and the steps it called, in start order (`seq`).
 *
 * @category replay
 */
export interface TreeNode {
  readonly step: StepRecord
  readonly children: ReadonlyArray<TreeNode>
  /** 0 for a step called directly from the trace body. */
  readonly depth: number
  /**
   * Where the step sits, independent of ids and timing: one segment per level, `name[i]` where `i`
   * counts the earlier siblings of the same name (`retrieve[0]/search_shard[2]`). In a name,
   * `\`, `/`, `[` and `]` are escaped with a backslash, so two different positions never share a path.
   */
  readonly path: string
}

/**
 * A trace document with its steps arranged as a tree.
 *
 * @category replay
 */
export interface TraceTree {
  readonly doc: TraceDocument
  /** Steps whose `parentStepId` is null, in start order. */
  readonly roots: ReadonlyArray<TreeNode>
}

/** What is wrong with a document `toTree` refused. @category replay */
export type MalformedTraceReason =
  | 'document'
  | 'schema-version'
  | 'steps'
  | 'step'
  | 'duplicate-step'
  | 'unknown-parent'
  | 'cycle'

/**
 * Thrown by `toTree` (and so by `diffTraces`) for a document whose steps cannot form a tree, or
 * which was written by a newer schema. `stepId` names the offending step when there is one.
 *
 * @example
 * import { MalformedTraceError, toTree, type TraceDocument } from 'tracellm'
 * declare const doc: TraceDocument   // one step whose parentStepId is not in the trace
 * try {
 *   toTree(doc)
 * } catch (error) {
 *   if (error instanceof MalformedTraceError) error.reason   // => 'unknown-parent'
 * }
 *
 * @category replay
 * @since 0.1.0
 */
export class MalformedTraceError extends Error {
  override readonly name = 'MalformedTraceError'
  /** The step the problem was found at; undefined for a problem of the document itself. */
  readonly stepId: string | undefined
  readonly reason: MalformedTraceReason

  constructor(message: string, reason: MalformedTraceReason, stepId?: string) {
    super(message)
    this.reason = reason
    this.stepId = stepId
  }
}

/**
 * Rebuilds the execution tree of a trace: each step under the step it was called from
 * (`parentStepId`), siblings in start order (`seq`, then their order in `steps`). A nested `trace`
 * is a step of kind `"trace"`, and the tools it called are its children.
 *
 * Throws a `MalformedTraceError` naming the step when a step's parent is not in the trace, when
 * parents form a cycle (a step that is its own parent included), when two steps share an id, when
 * `steps` is not an array or a step lacks an id, name or seq, and when `schemaVersion` is not 1 (a
 * newer version is named). A stored, snake_case document must go through `fromWire` first.
 *
 * @example
 * import { toTree, type TraceDocument } from 'tracellm'
 * declare const doc: TraceDocument   // retrieve > (search_shard, search_shard)
 * const tree = toTree(doc)
 * tree.roots[0]?.children.map((node) => node.path)   // => ['retrieve[0]/search_shard[0]', 'retrieve[0]/search_shard[1]']
 *
 * @category replay
 * @since 0.1.0
 */
export function toTree(doc: TraceDocument): TraceTree {
  checkDocument(doc)
  const steps = doc.steps.map((step, index) => checkStep(step, index))
  const ordered = steps.map((step, index) => ({ step, index })).sort((x, y) => x.step.seq - y.step.seq || x.index - y.index)

  const byId = new Map<string, { readonly step: StepRecord; readonly index: number }>()
  for (const entry of ordered) {
    const previous = byId.get(entry.step.stepId)
    if (previous !== undefined) {
      const [first, second] = previous.index < entry.index ? [previous, entry] : [entry, previous]
      throw new MalformedTraceError(
        `Two steps share the id ${quote(entry.step.stepId)}: steps[${first.index}] (${quote(first.step.name)}) and steps[${second.index}] (${quote(second.step.name)}).`,
        'duplicate-step',
        entry.step.stepId,
      )
    }
    byId.set(entry.step.stepId, entry)
  }

  const roots: StepRecord[] = []
  const children = new Map<string, StepRecord[]>()
  for (const { step } of ordered) {
    const parent = step.parentStepId
    if (parent === null) {
      roots.push(step)
      continue
    }
    if (parent === step.stepId) {
      throw new MalformedTraceError(`Step ${describe(step)} is its own parent.`, 'cycle', step.stepId)
    }
    if (!byId.has(parent)) {
      throw new MalformedTraceError(
        `Step ${describe(step)} names the parent ${quote(parent)}, which is not a step of this trace.`,
        'unknown-parent',
        step.stepId,
      )
    }
    const siblings = children.get(parent)
    if (siblings === undefined) children.set(parent, [step])
    else siblings.push(step)
  }

  const reached = new Set<string>()
  const rootNodes = nodesOf(roots, '', 0)
  const stack: MutableNode[] = [...rootNodes]
  for (let node = stack.pop(); node !== undefined; node = stack.pop()) {
    reached.add(node.step.stepId)
    const kids = children.get(node.step.stepId)
    if (kids === undefined) continue
    node.children = nodesOf(kids, `${node.path}/`, node.depth + 1)
    for (const kid of node.children) stack.push(kid)
  }

  if (reached.size !== ordered.length) {
    // every parent exists, so a step no root reaches hangs from a cycle: follow its parents to find it
    const start = ordered.find((entry) => !reached.has(entry.step.stepId)) as { readonly step: StepRecord }
    throw cycleError(start.step, byId)
  }
  return { doc, roots: rootNodes }
}

// --- private ---

interface MutableNode {
  readonly step: StepRecord
  children: MutableNode[]
  readonly depth: number
  readonly path: string
}

/** Nodes for one list of siblings (already in seq order), numbering same-named siblings. */
function nodesOf(siblings: ReadonlyArray<StepRecord>, prefix: string, depth: number): MutableNode[] {
  const seen = new Map<string, number>()
  return siblings.map((step) => {
    const occurrence = seen.get(step.name) ?? 0
    seen.set(step.name, occurrence + 1)
    return { step, children: [], depth, path: `${prefix}${segment(step.name, occurrence)}` }
  })
}

/** One path segment: `name[i]`, with the path's own punctuation escaped in the name. */
function segment(name: string, occurrence: number): string {
  return `${name.replace(/[\\/[\]]/g, '\\$&')}[${occurrence}]`
}

function cycleError(start: StepRecord, byId: ReadonlyMap<string, { readonly step: StepRecord }>): MalformedTraceError {
  const chain: StepRecord[] = []
  const at = new Map<string, number>()
  let step: StepRecord | undefined = start
  while (step !== undefined && !at.has(step.stepId)) {
    at.set(step.stepId, chain.length)
    chain.push(step)
    step = step.parentStepId === null ? undefined : byId.get(step.parentStepId)?.step
  }
  const cycle = step === undefined ? chain : chain.slice(at.get(step.stepId))
  const first = cycle[0] ?? start
  const shown = cycle.length > 6 ? [...cycle.slice(0, 5).map(describe), `… ${cycle.length - 5} more`] : cycle.map(describe)
  return new MalformedTraceError(
    `Steps form a parent cycle, so they belong to no tree: ${[...shown, describe(first)].join(' → ')}.`,
    'cycle',
    first.stepId,
  )
}

function checkDocument(doc: TraceDocument): void {
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) {
    throw new MalformedTraceError('Expected a trace document (an object).', 'document')
  }
  const version = (doc as { readonly schemaVersion?: unknown }).schemaVersion
  if (version !== 1) {
    if (typeof version === 'number' && version > 1) {
      throw new MalformedTraceError(
        `The trace document has schemaVersion ${version}, newer than this version of tracellm reads (1): upgrade tracellm.`,
        'schema-version',
      )
    }
    const hint = version === undefined && 'schema_version' in doc ? ' (a stored, snake_case document: read it with `fromWire` first)' : ''
    throw new MalformedTraceError(`Expected \`schemaVersion\` to be 1, got ${quote(version)}${hint}.`, 'schema-version')
  }
  if (!Array.isArray(doc.steps)) {
    throw new MalformedTraceError(`Expected \`steps\` to be an array, got ${kindOf(doc.steps)}.`, 'steps')
  }
}

function checkStep(step: StepRecord, index: number): StepRecord {
  if (typeof step !== 'object' || step === null || Array.isArray(step)) {
    throw new MalformedTraceError(`Expected steps[${index}] to be a step object, got ${kindOf(step)}.`, 'step')
  }
  if (typeof step.stepId !== 'string' || step.stepId === '') {
    throw new MalformedTraceError(`Expected steps[${index}].stepId to be a non-empty string, got ${quote(step.stepId)}.`, 'step')
  }
  if (typeof step.name !== 'string') {
    throw new MalformedTraceError(`Expected the name of step ${quote(step.stepId)} (steps[${index}]) to be a string, got ${quote(step.name)}.`, 'step', step.stepId)
  }
  if (typeof step.seq !== 'number' || !Number.isFinite(step.seq)) {
    throw new MalformedTraceError(`Expected the seq of step ${describe(step)} to be a number, got ${quote(step.seq)}.`, 'step', step.stepId)
  }
  if (step.parentStepId !== null && typeof step.parentStepId !== 'string') {
    throw new MalformedTraceError(
      `Expected the parentStepId of step ${describe(step)} to be a step id or null, got ${quote(step.parentStepId)}.`,
      'step',
      step.stepId,
    )
  }
  return step
}

/** `"00000000000000a1" ("search")` */
function describe(step: StepRecord): string {
  return `${quote(step.stepId)} (${quote(step.name)})`
}

/** A value for an error message: JSON-quoted, cut, with no control character left raw. */
function quote(value: unknown): string {
  let text: string
  try {
    text = typeof value === 'string' ? JSON.stringify(value.length > 80 ? `${value.slice(0, 79)}…` : value) : String(JSON.stringify(value) ?? String(value))
  } catch {
    text = Object.prototype.toString.call(value)
  }
  if (text.length > 100) text = `${text.slice(0, 99)}…`
  // JSON.stringify escapes C0 controls; C1 (an 8-bit CSI) and the line separators it leaves as they are
  return text.replace(/[\u007f-\u009f\u2028\u2029]/g, (char) => `\\u${(char.codePointAt(0) as number).toString(16).padStart(4, '0')}`)
}

function kindOf(value: unknown): string {
  return value === null ? 'null' : Array.isArray(value) ? 'an array' : typeof value
}
