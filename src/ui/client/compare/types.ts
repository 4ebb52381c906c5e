// The shape `/api/diff` answers (docs/ui.md#api): `tracellm diff --json`, plus each side's header and,
// per step, its depth, ids and durations.

/** One difference of a step, or of the trace (see `DiffChange` in src/replay/diff.ts). */
export interface Change {
  field: string
  path?: string
  before?: unknown
  after?: unknown
  ratio?: number | null
  count?: number
}

export type StepStatus = 'same' | 'changed' | 'added' | 'removed'

export interface DiffStep {
  path: string
  name: string
  status: StepStatus
  changes: Change[]
  /** `b / a`; absent for an added or removed step, null for ∞ (JSON has no Infinity). */
  durationRatio?: number | null
  depth: number
  aStepId: string | null
  bStepId: string | null
  aDurationMs: number | null
  bDurationMs: number | null
}

export interface Side {
  traceId: string
  prompt: string
  status: string
  startedAt: string
  durationMs: number
  replayOf: string | null
  stepCount: number
}

export interface DiffJson {
  equal: boolean
  a: string
  b: string
  summary: { added: number; removed: number; changed: number; same: number }
  trace: { status: 'same' | 'changed'; changes: Change[]; durationRatio: number | null }
  steps: DiffStep[]
  traces: { a: Side; b: Side }
}

/** `×2.5`, `×0.5`, `×12`, `×∞`; '' when it rounds to 1 (as the CLI's `renderDiff` writes it). */
export function formatRatio(ratio: number | null | undefined, bothPresent = true): string {
  if (ratio === undefined || !bothPresent) return ''
  if (ratio === null) return '×∞'
  if (!Number.isFinite(ratio)) return ''
  const text = ratio >= 10 ? String(Math.round(ratio)) : ratio >= 0.1 || ratio === 0 ? ratio.toFixed(1) : ratio.toPrecision(1)
  return text === '1.0' ? '' : `×${text}`
}
