/**
 * One traced call, from the first attempt to the end of its step: sync or async is decided per call
 * by what the function returns, retries go asynchronous only when a backoff has to be waited for,
 * and streams keep the step open until they end. The user's value or error is handed back as it is.
 */
import { types } from 'node:util'
import { runIn, type TraceContext } from '../core/context.js'
import { guard } from '../core/guard.js'
import { isAbortError, retryAfterFirst, type RetryPolicy } from '../core/retry.js'
import type { FailedAttempt, Running } from '../core/run.js'
import { defaultCaptureLimits } from '../serialization/capture.js'
import { streamShapeOf, traceAsyncIterable, traceWebStream, watchNodeStream, type StreamEnd } from './streams.js'

/**
 * @internal How a returned fp-ts `Either` is read: a `Left` is a failure that is returned, not
 * thrown, and recorded as the error; a `Right` is recorded as its value, so the record holds what
 * the next step receives (and a replay can answer with it).
 */
export interface EitherShape {
  /** The failure a value stands for (a `Left`'s value), or undefined for a success. */
  readonly leftOf: (value: unknown) => { readonly error: unknown } | undefined
  /** The output to record for a success (a `Right`'s value). */
  readonly rightOf: (value: unknown) => unknown
}

/** @internal */
export interface Plan {
  readonly name: string
  readonly retry: RetryPolicy | undefined
  readonly shouldRetry: ((error: unknown) => boolean) | undefined
  readonly either: EitherShape | undefined
  /** Awaited before an asynchronous result is handed back (serverless `flushOnReturn`). */
  readonly afterEnd: (() => Promise<void>) | undefined
}

/** A failed attempt: what was thrown, or the `Left` that was returned. */
interface Failure {
  readonly error: unknown
  readonly returned: boolean
  readonly value: unknown
}

/**
 * @internal Runs `invoke` for one call: `plan` is fixed per wrapper (no allocation per call), `running`
 * is this call's step. Returns exactly what the caller of the unwrapped function would get.
 */
export function execute(plan: Plan, running: Running, invoke: (ctx: TraceContext | undefined) => unknown): unknown {
  const ctx = running.ctx
  let result: unknown
  try {
    result = runIn(ctx, () => invoke(ctx))
  } catch (error) {
    const failure: Failure = { error, returned: false, value: undefined }
    if (canRetry(plan, error)) return retry(plan, running, invoke, failure)
    running.fail(error)
    throw error
  }
  if (isPlainPromise(result)) {
    // the common case (no retry, no Left to look for, no flush to wait for) costs one `then`; the
    // derived promise rejects when `result` does, so a rejection nobody handles stays unhandled
    if (plan.retry === undefined && plan.either === undefined && plan.afterEnd === undefined) {
      try {
        return promiseThen.call(result, (value) => succeed(plan, running, value), (error: unknown) => {
          running.fail(error)
          throw error
        })
      } catch {
        // a subclass whose species constructor throws: watched like any other thenable
        return handled(settleThenable(plan, running, invoke, result))
      }
    }
    return settle(plan, running, invoke, result)
  }
  if (isThenable(result)) return handled(settleThenable(plan, running, invoke, result))
  return succeed(plan, running, result)
}

/**
 * Any other thenable (a custom one, a query builder, a promise subclass with its own `then`): its
 * `then` is called once, through a native Promise, whatever it does (throws, calls both callbacks or
 * one twice, never calls them). Unwrapped, a thenable nobody awaits never fails, so the promise
 * handed back here is marked handled: a caller that awaits it still gets the rejection, a caller
 * that drops it gets no unhandled rejection (docs/reliability.md#capture-budgets).
 */
function settleThenable(plan: Plan, running: Running, invoke: (ctx: TraceContext | undefined) => unknown, result: PromiseLike<unknown>): Promise<unknown> {
  // resolve() reads `then` itself: a getter that throws rejects this promise instead of throwing here
  const adopted = new Promise<unknown>((resolve) => {
    resolve(result)
  })
  if (plan.retry === undefined && plan.either === undefined && plan.afterEnd === undefined) {
    return promiseThen.call(adopted, (value) => succeed(plan, running, value), (error: unknown) => {
      running.fail(error)
      throw error
    })
  }
  return settle(plan, running, invoke, adopted)
}

function handled(promise: Promise<unknown>): Promise<unknown> {
  promiseThen.call(promise, undefined as never, ignore)
  return promise
}

function ignore(): undefined {
  return undefined
}

async function settle(plan: Plan, running: Running, invoke: (ctx: TraceContext | undefined) => unknown, pending: PromiseLike<unknown>): Promise<unknown> {
  let value: unknown
  try {
    value = await pending
  } catch (error) {
    return fail(plan, running, invoke, { error, returned: false, value: undefined })
  }
  const left = plan.either?.leftOf(value)
  if (left !== undefined) return fail(plan, running, invoke, { error: left.error, returned: true, value })
  return plan.afterEnd === undefined ? succeed(plan, running, value) : succeedAsync(plan, running, value)
}

async function fail(plan: Plan, running: Running, invoke: (ctx: TraceContext | undefined) => unknown, failure: Failure): Promise<unknown> {
  if (canRetry(plan, failure.error)) return retry(plan, running, invoke, failure)
  running.fail(failure.error)
  await afterEnd(plan)
  if (failure.returned) return failure.value
  throw failure.error
}

async function retry(plan: Plan, running: Running, invoke: (ctx: TraceContext | undefined) => unknown, first: Failure): Promise<unknown> {
  const failures: FailedAttempt[] = [{ attempt: 1, error: first.error }]
  let attempts = 1
  const outcome = await retryAfterFirst(
    first,
    async (attemptNumber) => {
      attempts = attemptNumber
      let value: unknown
      try {
        value = await runIn(running.ctx, () => invoke(running.ctx))
      } catch (error) {
        failures.push({ attempt: attemptNumber, error })
        throw { error, returned: false, value: undefined } satisfies Failure
      }
      const left = plan.either?.leftOf(value)
      if (left !== undefined) {
        failures.push({ attempt: attemptNumber, error: left.error })
        throw { error: left.error, returned: true, value } satisfies Failure
      }
      return value
    },
    plan.retry as RetryPolicy,
    (failure) => decide(plan, (failure as Failure).error),
  )
  if (outcome.ok) {
    running.retried(attempts, failures)
    return plan.afterEnd === undefined ? succeed(plan, running, outcome.value) : succeedAsync(plan, running, outcome.value)
  }
  const last = outcome.failure as Failure
  // the failures followed by another attempt: all but the last one
  running.retried(attempts, failures.slice(0, -1))
  running.fail(last.error)
  await afterEnd(plan)
  if (last.returned) return last.value
  throw last.error
}

function succeed(plan: Plan, running: Running, value: unknown): unknown {
  switch (streamShapeOf(value)) {
    case 'async-iterable':
      return traceAsyncIterable(value as object, running.ctx, maxChunks(running), endStream(plan, running))
    case 'web-stream':
      return traceWebStream(value as ReadableStream<unknown>, maxChunks(running), endStream(plan, running))
    case 'node-stream':
      watchNodeStream(value as NodeJS.EventEmitter, (failed, error) => {
        if (failed) running.fail(error)
        else running.succeed(value, 'stream')
        return afterEnd(plan)
      })
      return value
    default:
      running.succeed(plan.either === undefined ? value : plan.either.rightOf(value))
      return value
  }
}

function endStream(plan: Plan, running: Running): StreamEnd {
  return (chunks, failed, error) => {
    if (failed) running.fail(error)
    else running.succeed(chunks, 'stream')
    return afterEnd(plan)
  }
}

/** A stream keeps at most maxBreadth chunks, the capture budget of its trace. */
function maxChunks(running: Running): number {
  return running.ctx?.recorder.runtime.capture.maxBreadth ?? defaultCaptureLimits.maxBreadth
}

async function succeedAsync(plan: Plan, running: Running, value: unknown): Promise<unknown> {
  const handed = succeed(plan, running, value)
  // a stream's step ends later: only a finished step waits for its trace to be written
  if (handed === value && streamShapeOf(value) === undefined) await afterEnd(plan)
  return handed
}

function canRetry(plan: Plan, error: unknown): boolean {
  return plan.retry !== undefined && plan.retry.maxRetries > 0 && decide(plan, error)
}

function decide(plan: Plan, error: unknown): boolean {
  if (isAbortError(error)) return false
  const shouldRetry = plan.shouldRetry
  if (shouldRetry === undefined) return true
  return guard(`shouldRetry:${plan.name}`, () => Boolean(shouldRetry(error)), () => true)
}

async function afterEnd(plan: Plan): Promise<void> {
  if (plan.afterEnd === undefined) return
  try {
    await plan.afterEnd()
  } catch {
    // flushing is best effort: the handler's own result matters more
  }
}

const PromisePrototype = Promise.prototype
const promiseThen = Promise.prototype.then as (this: Promise<unknown>, onFulfilled: (value: unknown) => unknown, onRejected: (error: unknown) => unknown) => Promise<unknown>
const hasOwn = Object.prototype.hasOwnProperty

/**
 * @internal A native Promise whose `then` is the built-in one (a Promise of any realm, or a subclass
 * that does not override `then`): its settlement can be watched without running a user's `then`.
 * Never throws, and runs no user code.
 */
export function isPlainPromise(value: unknown): value is Promise<unknown> {
  // types.isPromise is false for a Proxy, so the reads below run no trap
  if (!types.isPromise(value) || hasOwn.call(value, 'then')) return false
  let proto = Object.getPrototypeOf(value) as object | null
  if (proto === PromisePrototype) return true
  for (let i = 0; i < 8 && proto !== null && !types.isProxy(proto); i++) {
    const own = Object.getOwnPropertyDescriptor(proto, 'then')
    if (own !== undefined) {
      if (own.value === promiseThen) return true
      // another realm's Promise.prototype: right above that realm's Object.prototype
      const above = Object.getPrototypeOf(proto) as object | null
      return above !== null && !types.isProxy(above) && Object.getPrototypeOf(above) === null && hasOwn.call(proto, 'catch')
    }
    proto = Object.getPrototypeOf(proto) as object | null
  }
  return false
}

/** @internal Never throws: a Proxy whose `then` getter throws is not a thenable. */
export function isThenable(value: unknown): value is PromiseLike<unknown> {
  if (value === null || (typeof value !== 'object' && typeof value !== 'function')) return false
  try {
    return typeof (value as { then?: unknown }).then === 'function'
  } catch {
    return false
  }
}
