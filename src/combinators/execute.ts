/**
 * One traced call, from the first attempt to the end of its step: sync or async is decided per call
 * by what the function returns, retries go asynchronous only when a backoff has to be waited for,
 * and streams keep the step open until they end. The user's value or error is handed back as it is.
 */
import { runIn, type TraceContext } from '../core/context.js'
import { guard } from '../core/guard.js'
import { isAbortError, retryAfterFirst, type RetryPolicy } from '../core/retry.js'
import type { FailedAttempt, Running } from '../core/run.js'
import { streamShapeOf, traceAsyncIterable, traceWebStream, watchNodeStream, type StreamEnd } from './streams.js'

/** @internal A `Left` of fp-ts is a failure that is returned, not thrown. */
export type FailureOf = (value: unknown) => { readonly error: unknown } | undefined

/** @internal */
export interface Plan {
  readonly running: Running
  readonly name: string
  readonly retry: RetryPolicy | undefined
  readonly shouldRetry: ((error: unknown) => boolean) | undefined
  readonly failureOf: FailureOf | undefined
  readonly maxChunks: number
  /** Awaited before an asynchronous result is handed back (serverless `flushOnReturn`). */
  readonly afterEnd: (() => Promise<void>) | undefined
}

/** A failed attempt: what was thrown, or the `Left` that was returned. */
interface Failure {
  readonly error: unknown
  readonly returned: boolean
  readonly value: unknown
}

/** @internal Runs `invoke` under the plan. Returns exactly what the caller of the unwrapped function would get. */
export function execute(plan: Plan, invoke: (ctx: TraceContext | undefined) => unknown): unknown {
  const ctx = plan.running.ctx
  let result: unknown
  try {
    result = runIn(ctx, () => invoke(ctx))
  } catch (error) {
    const failure: Failure = { error, returned: false, value: undefined }
    if (canRetry(plan, error)) return retry(plan, invoke, failure)
    plan.running.fail(error)
    throw error
  }
  if (isThenable(result)) {
    // the common case (no retry, no Left to look for, no flush to wait for) costs one `then`
    if (plan.retry === undefined && plan.failureOf === undefined && plan.afterEnd === undefined) {
      const running = plan.running
      return Promise.resolve(result).then(
        (value) => succeed(plan, value),
        (error: unknown) => {
          running.fail(error)
          throw error
        },
      )
    }
    return settle(plan, invoke, result)
  }
  return succeed(plan, result)
}

async function settle(plan: Plan, invoke: (ctx: TraceContext | undefined) => unknown, pending: PromiseLike<unknown>): Promise<unknown> {
  let value: unknown
  try {
    value = await pending
  } catch (error) {
    return fail(plan, invoke, { error, returned: false, value: undefined })
  }
  const left = plan.failureOf?.(value)
  if (left !== undefined) return fail(plan, invoke, { error: left.error, returned: true, value })
  return plan.afterEnd === undefined ? succeed(plan, value) : succeedAsync(plan, value)
}

async function fail(plan: Plan, invoke: (ctx: TraceContext | undefined) => unknown, failure: Failure): Promise<unknown> {
  if (canRetry(plan, failure.error)) return retry(plan, invoke, failure)
  plan.running.fail(failure.error)
  await afterEnd(plan)
  if (failure.returned) return failure.value
  throw failure.error
}

async function retry(plan: Plan, invoke: (ctx: TraceContext | undefined) => unknown, first: Failure): Promise<unknown> {
  const { running } = plan
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
      const left = plan.failureOf?.(value)
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
    return plan.afterEnd === undefined ? succeed(plan, outcome.value) : succeedAsync(plan, outcome.value)
  }
  const last = outcome.failure as Failure
  // the failures followed by another attempt: all but the last one
  running.retried(attempts, failures.slice(0, -1))
  running.fail(last.error)
  await afterEnd(plan)
  if (last.returned) return last.value
  throw last.error
}

function succeed(plan: Plan, value: unknown): unknown {
  const { running } = plan
  switch (streamShapeOf(value)) {
    case 'async-iterable':
      return traceAsyncIterable(value as object, running.ctx, plan.maxChunks, endStream(plan))
    case 'web-stream':
      return traceWebStream(value as ReadableStream<unknown>, plan.maxChunks, endStream(plan))
    case 'node-stream':
      watchNodeStream(value as NodeJS.EventEmitter, (failed, error) => {
        if (failed) running.fail(error)
        else running.succeed(value, 'stream')
        return afterEnd(plan)
      })
      return value
    default:
      running.succeed(value)
      return value
  }
}

function endStream(plan: Plan): StreamEnd {
  return (chunks, failed, error) => {
    if (failed) plan.running.fail(error)
    else plan.running.succeed(chunks, 'stream')
    return afterEnd(plan)
  }
}

async function succeedAsync(plan: Plan, value: unknown): Promise<unknown> {
  const handed = succeed(plan, value)
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

/** @internal Never throws: a Proxy whose `then` getter throws is not a thenable. */
export function isThenable(value: unknown): value is PromiseLike<unknown> {
  if (value === null || (typeof value !== 'object' && typeof value !== 'function')) return false
  try {
    return typeof (value as { then?: unknown }).then === 'function'
  } catch {
    return false
  }
}
