/**
 * The one AsyncLocalStorage. The implicit path (a wrapped call reading `current()`) and the explicit
 * one (`.reader(...)(ctx)`) both enter a step through `runIn`, so they cannot disagree.
 * Only `AsyncLocalStorage.run` is used, never `enterWith`.
 */
import { AsyncLocalStorage } from 'node:async_hooks'
import type { StepId, StepRecord, TraceDocument, TraceId } from '../document/document.js'
import type { Recorder } from './recorder.js'

/**
 * Where the running code sits: which trace, and which step inside it. Immutable: entering a step
 * makes a new context. Get one from `currentTrace()`, and pass it to `.reader(...)` to nest a call
 * explicitly.
 *
 * @example
 * import { currentTrace, trace } from 'tracellm'
 * const run = trace({ prompt: 'where' })(() => currentTrace()?.prompt)
 * run()   // => 'where'
 *
 * @category context
 * @since 0.1.0
 */
export interface TraceContext {
  readonly traceId: TraceId
  /** The step the code runs in, or `null` in the body of the trace itself. */
  readonly stepId: StepId | null
  readonly prompt: string
  readonly project: string
  readonly environment: string
  /** @internal */
  readonly recorder: Recorder
}

/**
 * @internal Set around a call by `replay()` or `continueTrace()`: the next root trace started under it
 * takes `replay` (and answers its tools from the record) and/or continues `parent`. Not a trace:
 * `current()` sees nothing there.
 */
export interface PendingMarker {
  readonly pending: true
  readonly replay: ReplayHooks | undefined
  readonly parent: ParentRef | undefined
}

/**
 * @internal A caller's span that a new root trace continues: from a W3C `traceparent` header or an
 * active OpenTelemetry span. Ids are validated lowercase hex, never all zero.
 */
export interface ParentRef {
  readonly traceId: TraceId
  readonly spanId: StepId
  /** The caller's `tracestate`, passed on by `injectTraceparent`. */
  readonly tracestate: string | undefined
}

/** @internal What the core asks a replay: an answer for a tool call, and the finished document. */
export interface ReplayHooks {
  /** The trace being replayed. */
  readonly of: TraceId
  /** Claims the hooks for one root trace; false when another root already has them. */
  claim(): boolean
  /** How to run one call of tool `name` instead of its body, or `undefined` to run it for real. */
  answer(name: string, args: ReadonlyArray<unknown>, returnsEither: boolean, isAsync: boolean): ((ctx: TraceContext | undefined) => unknown) | undefined
  /** The replay's own document, once sealed. */
  sealed(doc: TraceDocument): void
  /**
   * The recorded call that answers one call of `name`, for a producer that rebuilds its own response
   * from the record (the SDK integrations), or `undefined` to run it for real. Matched as `answer`
   * matches, and counted as one of its calls.
   */
  recordedCall(name: string, args: ReadonlyArray<unknown>): RecordedCall | undefined
}

/** @internal One call answered from the record, as `ReplayHooks.recordedCall` hands it out. */
export interface RecordedCall {
  /** The recorded step; undefined when the record has no answer for the call (a mismatch). */
  readonly step: StepRecord | undefined
  /** The stand-in `answer` gives an async call: a Promise of the recorded output, or a rejection with the recorded error or the mismatch. */
  readonly run: (ctx: TraceContext | undefined) => unknown
}

type Slot = TraceContext | PendingMarker | typeof SUPPRESSED | undefined

const SUPPRESSED: unique symbol = Symbol('tracellm.suppressed')
const STORAGE_KEY = Symbol.for('tracellm.context.v0')

// One storage per process even if two copies of the package are loaded (same major version).
const holder = globalThis as unknown as Record<symbol, AsyncLocalStorage<Slot> | undefined>
const storage: AsyncLocalStorage<Slot> = (holder[STORAGE_KEY] ??= new AsyncLocalStorage<Slot>())

/** @internal Runs `thunk` with `ctx` as the current context. */
export function runIn<T>(ctx: TraceContext | undefined, thunk: () => T): T {
  return storage.run(ctx, thunk)
}

/** @internal Runs `thunk` with tracing switched off (used around sink writes). */
export function runSuppressed<T>(thunk: () => T): T {
  return storage.run(SUPPRESSED, thunk)
}

/** @internal */
export function current(): TraceContext | undefined {
  const slot = storage.getStore()
  return slot === SUPPRESSED || (slot !== undefined && 'pending' in slot) ? undefined : slot
}

/** @internal Runs `thunk` so that the root trace it starts is a replay answered by `hooks`. */
export function runReplaying<T>(hooks: ReplayHooks, thunk: () => T): T {
  return storage.run({ pending: true, replay: hooks, parent: undefined }, thunk)
}

/**
 * @internal Runs `thunk` so that the root traces it starts continue `parent`. Inside a running trace
 * it changes nothing: the code already has a parent. A replay waiting here stays waiting.
 */
export function runContinuing<T>(parent: ParentRef | undefined, thunk: () => T): T {
  const slot = storage.getStore()
  if (slot === SUPPRESSED || (slot !== undefined && !('pending' in slot))) return thunk()
  return storage.run({ pending: true, replay: slot?.replay, parent }, thunk)
}

/** @internal What waits here for the next root trace (`replay()`, `continueTrace`), if anything. */
export function pending(): PendingMarker | undefined {
  const slot = storage.getStore()
  return slot !== undefined && slot !== SUPPRESSED && 'pending' in slot ? slot : undefined
}

/** @internal */
export function isSuppressed(): boolean {
  return storage.getStore() === SUPPRESSED
}

/**
 * The context of the code running now, or `undefined` outside any trace.
 *
 * @example
 * import { currentTrace, trace } from 'tracellm'
 * currentTrace()                                              // => undefined
 * trace({ prompt: 'inside' })(() => currentTrace()?.stepId)()  // => null
 *
 * @category context
 * @since 0.1.0
 */
export function currentTrace(): TraceContext | undefined {
  return current()
}
