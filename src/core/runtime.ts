/**
 * The runtime slot: the one immutable runtime every trace takes at its start and keeps to its end
 * (export queue, redactor, capture budgets, clock, ids). `configure()` builds runtimes and installs
 * them here; it lives in the wiring layer on top (`src/configure.ts`), so `core/` never builds a sink
 * and imports nothing from `sinks/` or `stores/` (docs/architecture.md).
 */
import type { ExportQueue } from '../export/queue.js'
import type { CaptureLimits } from '../serialization/capture.js'
import type { Redactor } from '../serialization/redact.js'
import type { IdSource } from './ids.js'
import type { Pricer } from './prices.js'

/** @internal Milliseconds: `now()` is monotonic, `epoch(now())` converts it to wall-clock time. */
export interface Clock {
  readonly now: () => number
  readonly epoch: (now: number) => number
}

/** @internal */
export interface Runtime {
  readonly project: string
  readonly environment: string
  readonly orphanSteps: 'warn' | 'trace'
  readonly flushOnReturn: boolean
  readonly capture: CaptureLimits
  readonly redactor: Redactor
  readonly maxStepsPerTrace: number
  readonly queue: ExportQueue
  /** Undefined when no model is priced, so sealing skips cost entirely. */
  readonly pricer: Pricer | undefined
  readonly clock: Clock
  readonly ids: IdSource
  shutDown: boolean
}

let runtime: Runtime | undefined
let buildDefault: (() => Runtime) | undefined

/** @internal The runtime, built from the defaults on first use. */
export function getRuntime(): Runtime {
  if (runtime !== undefined) return runtime
  // set when `configure.ts` is evaluated, which every entry point of the package imports
  if (buildDefault === undefined) throw new Error('tracellm: no runtime: import tracellm (or tracellm/fp), not one of its internal modules.')
  return (runtime = buildDefault())
}

/** @internal Makes `next` the runtime of the traces started from now on; returns the one it replaces. */
export function replaceRuntime(next: Runtime): Runtime | undefined {
  const previous = runtime
  runtime = next
  return previous
}

/** @internal How the runtime of the defaults is built, the first time a trace needs one: set by the wiring layer. */
export function setDefaultRuntime(build: () => Runtime): void {
  buildDefault = build
}
