/**
 * What `TraceStore.overview()` takes and returns: the store overview's top-10 tables, read from the
 * `steps` and `traces` tables (docs/stores.md#overview). Types only; re-exported by `stores/types.ts`.
 */

/**
 * Which traces `TraceStore.overview()` covers.
 * @category store
 */
export interface OverviewQuery {
  /** Only traces (and their steps) started at or after this instant: a Date, an ISO string, or a duration such as `"24h"` (that long ago). */
  readonly since?: Date | string
}

/** A step name and how often it failed: a row of `StoreOverview.failingSteps`. @category store */
export interface FailingStepRow {
  readonly name: string
  /** Steps of this name. */
  readonly steps: number
  /** Those that ended in `"error"`. */
  readonly errors: number
}

/** A step name and its duration percentiles: a row of `StoreOverview.slowestSteps`. @category store */
export interface SlowStepRow {
  readonly name: string
  readonly steps: number
  /** The median duration, interpolated between the two middle steps as PostgreSQL's `percentile_cont(0.5)` does. */
  readonly p50Ms: number
  /** The 95th percentile, interpolated the same way (`percentile_cont(0.95)`). */
  readonly p95Ms: number
}

/** A step name and its retries: a row of `StoreOverview.mostRetried`. @category store */
export interface RetriedStepRow {
  readonly name: string
  readonly steps: number
  /** Steps of this name retried at least once. */
  readonly retriedSteps: number
  /** Retries summed over those steps. */
  readonly retries: number
}

/** Tokens and cost of one model (from its steps) or one prompt (from its traces). @category store */
export interface UsageRow {
  /** The model (`StepRecord.model`) or the prompt. */
  readonly name: string
  /** Steps of the model, or traces of the prompt. */
  readonly count: number
  readonly inputTokens: number
  readonly outputTokens: number
  /** Summed `costUsd`; `null` when none of them was priced. */
  readonly costUsd: number | null
}

/**
 * What `TraceStore.overview()` reports: top-10 tables across the store, read from the `steps` and
 * `traces` tables (never the documents). Every table is ordered by its measure, largest first, ties
 * by name (in code-point order).
 * @category store
 */
export interface StoreOverview {
  /** Step names with at least one failed step, most failures first. */
  readonly failingSteps: ReadonlyArray<FailingStepRow>
  /** Step names by their 95th-percentile duration, slowest first. */
  readonly slowestSteps: ReadonlyArray<SlowStepRow>
  /** Step names with at least one retry, most retries first. */
  readonly mostRetried: ReadonlyArray<RetriedStepRow>
  /** Models of steps (steps without a model are left out), by cost, then by input plus output tokens. */
  readonly byModel: ReadonlyArray<UsageRow>
  /** Prompts of traces (documents), by cost, then by input plus output tokens. */
  readonly byPrompt: ReadonlyArray<UsageRow>
}
