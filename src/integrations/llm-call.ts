/**
 * What the vendor integrations share: one SDK call becomes one `llm` step. The SDK's own objects are
 * handed back with their behaviour intact: its promise (with `.withResponse()` / `.asResponse()`)
 * through a Proxy that only reroutes `then`/`catch`/`finally`/`withResponse`/`_thenUnwrap`, its
 * stream through a Proxy whose iteration is observed one chunk at a time, never read ahead of the
 * caller. The SDKs' helpers (`stream()`, `parse()`, `runTools()`) call the patched `create` and are
 * recorded through it: one step per request.
 *
 * The call takes the decisions every producer of steps takes (engine/runners.ts): outside any trace,
 * the orphan policy; under `replay()`, the request is never sent: the answer is rebuilt from the
 * recorded step (replayed.ts) and recorded through the same path as a real response.
 */
import { currentTrace, runSuppressed, type RecordedCall, type TraceContext } from '../core/context.js'
import { annotateStep, startStep, type Running, type StepAnnotation, type StepSpec } from '../core/run.js'
import type { JsonValue } from '../document/document.js'
import { openRoot, orphanRoute, type OpenedRoot, type RootOptions } from '../engine/runners.js'
import { capture, defaultCaptureLimits, isCapturing } from '../serialization/capture.js'
import { answerFrom, type Rebuild } from './replayed.js'

/** @internal Folds a stream's chunks into the step's output and annotation. */
export interface StreamAssembler {
  readonly add: (chunk: unknown) => void
  readonly finish: () => LlmOutcome
}

/** @internal What one response tells about its step. */
export interface LlmOutcome {
  readonly output: unknown
  readonly annotation: StepAnnotation
}

/** @internal How one SDK method is turned into steps. */
export interface LlmMethod {
  readonly name: string
  /** The step's kind. @default 'llm' */
  readonly kind?: string
  readonly fromResponse: (response: unknown) => LlmOutcome
  readonly assembler: () => StreamAssembler
  /** Under `replay()`: the response, or the stream's chunks, that `fromResponse` / `assembler` read back as the recorded step. */
  readonly rebuild: Rebuild
}

/** One traced request: how its responses are read, its step, and the abort signal it was given. */
interface Call {
  readonly method: LlmMethod
  readonly running: Running
  readonly signal: unknown
  /** Set when the call is a trace of its own: awaited before its outcome is handed back (`flushOnReturn`). */
  readonly afterEnd: (() => Promise<void>) | undefined
}

const PATCHED = Symbol.for('tracellm.integration.patched')

/** @internal Replaces `owner[key]` (an SDK resource's method) by a traced one, once. */
export function patchMethod(owner: unknown, key: string, method: LlmMethod): void {
  if (owner === null || typeof owner !== 'object') return
  const original = (owner as Record<string, unknown>)[key]
  if (typeof original !== 'function' || (original as unknown as Record<symbol, unknown>)[PATCHED] === true) return
  const sdk: SdkMethod = { method, original: original as (...args: unknown[]) => unknown, label: `${method.name}.${key}` }
  const traced = function (this: unknown, ...args: unknown[]): unknown {
    return tracedCall(sdk, this, args)
  }
  Object.defineProperty(traced, PATCHED, { value: true })
  Object.defineProperty(traced, 'name', { value: original.name })
  Object.defineProperty(owner, key, { value: traced, writable: true, configurable: true, enumerable: false })
}

/** One patched SDK method: how it is recorded, the SDK's own function, and its name for warnings. */
interface SdkMethod {
  readonly method: LlmMethod
  readonly original: (...args: unknown[]) => unknown
  /** `openai.chat.completions.create` */
  readonly label: string
}

function tracedCall(sdk: SdkMethod, thisArg: unknown, args: unknown[]): unknown {
  // called from a getter that capture is reading: not a call of the program
  if (isCapturing()) return runSuppressed(() => sdk.original.apply(thisArg, args))
  const parent = currentTrace()
  if (parent !== undefined) return stepCall(sdk, thisArg, args, parent, undefined)
  switch (orphanRoute(sdk.method.name, sdk.label)) {
    case 'trace': {
      // a trace of its own, named after the step; its input is the request (the argument list
      // without the per-request options), so `replay()` can call the method with it again
      const root = openRoot(ORPHAN_TRACE, sdk.method.name, args.slice(0, 1))
      if (root === undefined) return sdk.original.apply(thisArg, args)
      return stepCall(sdk, thisArg, args, root.running.ctx as TraceContext, root)
    }
    default:
      return sdk.original.apply(thisArg, args)
  }
}

const ORPHAN_TRACE: RootOptions = {
  modelName: undefined, project: undefined, environment: undefined, tags: [], metadata: {},
  captureInput: true, captureOutput: true, mapInput: undefined, mapOutput: undefined, parent: undefined,
}

/**
 * One call as a step under `parent` (and, for an orphan call made a trace of its own, the end of
 * `root` with it). Under `replay()` the SDK is not called: its answer is rebuilt from the record.
 */
function stepCall(sdk: SdkMethod, thisArg: unknown, args: unknown[], parent: TraceContext, root: OpenedRoot | undefined): unknown {
  const { method, original } = sdk
  const params = args[0]
  const signal = objectField(args[1], 'signal')
  const spec: StepSpec = {
    name: method.name,
    kind: method.kind ?? 'llm',
    captureInput: true,
    captureOutput: true,
    mapInput: () => params,
    mapOutput: undefined,
    metadata: undefined,
    model: stringField(params, 'model'),
  }
  const recorded: RecordedCall | undefined = parent.recorder.replay?.recordedCall(method.name, args)
  const invoke = (): unknown => (recorded === undefined ? original.apply(thisArg, args) : answerFrom(recorded, method.rebuild, params, signal))
  const step = startStep(parent, spec, args)
  const running = root === undefined ? step : step === undefined ? root.running : endingBoth(step, root.running)
  if (running === undefined) return invoke()
  let result: unknown
  try {
    result = invoke()
  } catch (error) {
    fail(running, error)
    throw error
  }
  const call: Call = { method, running, signal, afterEnd: root?.afterEnd }
  if (!isThenable(result)) return settleValue(call, result)
  return tracePromise(call, result)
}

/** The step of an orphan call, and the trace of its own it is the one step of: both end together, with the same outcome. */
function endingBoth(step: Running, root: Running): Running {
  return {
    ctx: step.ctx,
    succeed: (value, outputKind) => {
      step.succeed(value, outputKind)
      root.succeed(value, outputKind)
    },
    fail: (error) => {
      step.fail(error)
      root.fail(error)
    },
    retried: (attempts, failures) => step.retried(attempts, failures),
  }
}

/** The SDK's promise, with its value traced once however many times it is awaited. */
function tracePromise(call: Call, source: PromiseLike<unknown>): unknown {
  const { running } = call
  let traced: Promise<unknown> | undefined
  const settled = (): Promise<unknown> =>
    (traced ??= Promise.resolve(source).then(
      (value) => {
        const handed = settleValue(call, value)
        // a stream's step ends later: only a finished step waits for its trace to be written
        return call.afterEnd === undefined || handed !== value ? handed : waitFor(call.afterEnd).then(() => handed)
      },
      (error: unknown) => {
        fail(running, error)
        if (call.afterEnd === undefined) throw error
        return waitFor(call.afterEnd).then(() => { throw error })
      },
    ))
  const target = source as unknown as Record<PropertyKey, unknown>
  return new Proxy(target, {
    get(object, key) {
      switch (key) {
        case 'then':
          return (onFulfilled?: (value: unknown) => unknown, onRejected?: (error: unknown) => unknown) => settled().then(onFulfilled, onRejected)
        case 'catch':
          return (onRejected?: (error: unknown) => unknown) => settled().catch(onRejected)
        case 'finally':
          return (onFinally?: () => void) => settled().finally(onFinally)
        case 'withResponse':
          if (typeof object.withResponse !== 'function') break
          // the data first: a failed request is recorded, and the caller gets the error withResponse() gives
          return async () => {
            const data = await settled()
            const withResponse = await (object.withResponse as () => Promise<Record<string, unknown>>).call(object)
            return { ...withResponse, data }
          }
        case 'asResponse':
          if (typeof object.asResponse !== 'function') break
          // the caller reads the body itself: the step ends when the response arrives, without output
          return () => (object.asResponse as () => Promise<unknown>).call(object).then(
            (response) => {
              if (traced === undefined) running.succeed(undefined)
              return response
            },
            (error: unknown) => {
              fail(running, error)
              throw error
            },
          )
        case '_thenUnwrap':
          if (typeof object._thenUnwrap !== 'function') break
          return (transform: unknown, ...rest: unknown[]) => deriveTraced(call, object, transform, rest)
      }
      const value = Reflect.get(object, key, object)
      return typeof value === 'function' && key !== 'constructor' ? (value as (...args: unknown[]) => unknown).bind(object) : value
    },
  })
}

/**
 * `_thenUnwrap` is how the SDKs derive a promise from a request's (`chat.completions.parse`,
 * `responses.parse`): the caller awaits the derived promise, never ours, so the step follows the
 * derived one and records the value the caller gets (the parsed response). The response's usage is
 * noted before the SDK's transform runs: a transform that throws (a truncated JSON answer) fails the
 * step, but the tokens were spent.
 */
function deriveTraced(call: Call, source: Record<PropertyKey, unknown>, transform: unknown, rest: ReadonlyArray<unknown>): unknown {
  const thenUnwrap = source._thenUnwrap as (...args: unknown[]) => unknown
  if (typeof transform !== 'function') return thenUnwrap.call(source, transform, ...rest)
  const noted = function (this: unknown, ...args: unknown[]): unknown {
    annotateResponse(call, args[0])
    return Reflect.apply(transform, this, args)
  }
  const derived = thenUnwrap.call(source, noted, ...rest)
  return isThenable(derived) ? tracePromise(call, derived) : derived
}

function annotateResponse({ method, running }: Call, value: unknown): void {
  if (isAsyncIterable(value)) return
  try {
    annotateStep(running.ctx, method.fromResponse(value).annotation)
  } catch {
    // a response of an unexpected shape is annotated by nothing
  }
}

function settleValue(call: Call, value: unknown): unknown {
  const { method, running } = call
  if (isAsyncIterable(value)) return traceStream(call, value)
  let outcome: LlmOutcome | undefined
  try {
    outcome = method.fromResponse(value)
  } catch {
    outcome = undefined
  }
  if (outcome !== undefined) annotateStep(running.ctx, outcome.annotation)
  running.succeed(outcome === undefined ? value : outcome.output)
  return value
}

/**
 * The SDK's stream behind a Proxy: iterating it feeds the assembler and ends the step when iteration
 * finishes, is broken off or throws. `tee()` traces its first branch; `toReadableStream()` reads
 * through the traced iterator; every other member is the stream's own.
 */
function traceStream<T extends object>(call: Call, source: T): T {
  const { method, running } = call
  let assembler: StreamAssembler | undefined
  let ended = false
  let unwatch: (() => void) | undefined
  const assemble = (): StreamAssembler => (assembler ??= method.assembler())
  const end = (failed: boolean, error: unknown): Promise<void> | undefined => {
    if (ended) return undefined
    ended = true
    unwatch?.()
    let outcome: LlmOutcome | undefined
    try {
      outcome = assemble().finish()
    } catch {
      outcome = undefined
    }
    if (outcome !== undefined) annotateStep(running.ctx, outcome.annotation)
    if (failed) {
      if (outcome !== undefined) annotateStep(running.ctx, { metadata: { partial_output: toJson(outcome.output) } })
      fail(running, error)
    } else running.succeed(outcome?.output)
    return call.afterEnd === undefined ? undefined : waitFor(call.afterEnd)
  }
  const observe = (chunk: unknown): void => {
    try {
      assemble().add(chunk)
    } catch {
      // a chunk of an unexpected shape is left out of the assembled output, never thrown
    }
  }
  const iterate = (): AsyncIterator<unknown> => {
    if (!ended) unwatch ??= onAbort(call.signal, () => end(false, undefined))
    const iterator = (source as AsyncIterable<unknown>)[Symbol.asyncIterator]()
    const settle = (pending: Promise<IteratorResult<unknown>>): Promise<IteratorResult<unknown>> =>
      pending.then(
        (result) => {
          if (result.done !== true) {
            observe(result.value)
            return result
          }
          const waiting = end(false, undefined)
          return waiting === undefined ? result : waiting.then(() => result)
        },
        (error: unknown) => {
          const waiting = end(true, error)
          if (waiting === undefined) throw error
          return waiting.then(() => { throw error })
        },
      )
    return {
      next: (...args: [] | [unknown]) => settle(Promise.resolve().then(() => iterator.next(...args))),
      return: (value?: unknown) => {
        end(false, undefined)
        return typeof iterator.return === 'function' ? iterator.return(value) : Promise.resolve({ done: true as const, value })
      },
      throw: (error?: unknown) => {
        end(true, error)
        return typeof iterator.throw === 'function' ? iterator.throw(error) : Promise.reject(error)
      },
    }
  }
  const proxy: T = new Proxy(source, {
    get(target, key) {
      if (key === Symbol.asyncIterator) return () => iterate()
      const value: unknown = Reflect.get(target, key, target)
      if (typeof value !== 'function') return value
      if (key === 'tee') {
        return () => {
          const [left, right] = (value as () => [T, T]).call(target)
          return [traceStream(call, left), right]
        }
      }
      // reads `this[Symbol.asyncIterator]()` only: through the proxy, so the traced iterator
      if (key === 'toReadableStream') return (value as () => unknown).bind(proxy)
      return (value as (...args: unknown[]) => unknown).bind(target)
    },
  })
  return proxy
}

/**
 * Calls `listener` when the request's `signal` (its options' `signal`) aborts. The SDKs' stream
 * helpers stop on `break` or `abort()` by aborting the signal they passed and let their own read loop
 * notice on a later tick; the step ends at the abort, with what had arrived, rather than after the
 * caller's trace has ended. (The stream's own `controller` is not watched: the SDK aborts it as well
 * when a read fails, and that must stay a failed step.)
 */
function onAbort(signal: unknown, listener: () => void): () => void {
  const target = signal as Partial<Pick<AbortSignal, 'aborted' | 'addEventListener' | 'removeEventListener'>> | null | undefined
  try {
    if (target == null || typeof target.addEventListener !== 'function' || typeof target.removeEventListener !== 'function' || target.aborted === true) return () => undefined
    target.addEventListener('abort', listener, { once: true })
  } catch {
    // a signal of an unexpected shape: the step ends with the iteration instead
    return () => undefined
  }
  // a signal can outlive many requests (one per server, say): the step takes its listener away when it ends
  return () => {
    try {
      target.removeEventListener?.('abort', listener)
    } catch {
      // nothing to take away
    }
  }
}

/** Flushing is best effort: the caller's own outcome matters more. */
async function waitFor(afterEnd: () => Promise<void>): Promise<void> {
  try {
    await afterEnd()
  } catch {
    // nothing to do: the document stays queued
  }
}

function fail(running: Running, error: unknown): void {
  const status = numberField(error, 'status')
  if (status !== undefined) annotateStep(running.ctx, { metadata: { status_code: status } })
  running.fail(error)
}

/** @internal */
export function stringField(value: unknown, key: string): string | undefined {
  const field = objectField(value, key)
  return typeof field === 'string' ? field : undefined
}

/** @internal */
export function numberField(value: unknown, key: string): number | undefined {
  const field = objectField(value, key)
  return typeof field === 'number' && Number.isFinite(field) ? field : undefined
}

/** @internal */
export function objectField(value: unknown, key: string): unknown {
  if (value === null || typeof value !== 'object') return undefined
  try {
    return (value as Record<string, unknown>)[key]
  } catch {
    return undefined
  }
}

/** @internal Metadata built from a response: keeps only the defined numbers and strings. */
export function compact(fields: { readonly [key: string]: string | number | undefined }): { readonly [key: string]: JsonValue } | undefined {
  const out: { [key: string]: JsonValue } = {}
  let any = false
  for (const [key, value] of Object.entries(fields)) {
    if (value === undefined) continue
    out[key] = value
    any = true
  }
  return any ? out : undefined
}

function toJson(value: unknown): JsonValue {
  try {
    return capture(value ?? null, defaultCaptureLimits).value ?? null
  } catch {
    return null
  }
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  if (value === null || (typeof value !== 'object' && typeof value !== 'function')) return false
  try {
    return typeof (value as { then?: unknown }).then === 'function'
  } catch {
    return false
  }
}

function isAsyncIterable(value: unknown): value is object {
  if (value === null || typeof value !== 'object') return false
  try {
    return typeof (value as Record<PropertyKey, unknown>)[Symbol.asyncIterator] === 'function'
  } catch {
    return false
  }
}
