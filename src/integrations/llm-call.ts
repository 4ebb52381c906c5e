/**
 * What the vendor integrations share: one SDK call becomes one `llm` step. The SDK's own objects are
 * handed back with their behaviour intact: its promise (with `.withResponse()` / `.asResponse()`)
 * through a Proxy that only reroutes `then`/`catch`/`finally`/`withResponse`, its stream through a
 * Proxy whose iteration is observed one chunk at a time, never read ahead of the caller.
 */
import { currentTrace } from '../core/context.js'
import { annotateStep, startStep, type Running, type StepAnnotation, type StepSpec } from '../core/run.js'
import type { JsonValue } from '../document/document.js'
import { capture, defaultCaptureLimits } from '../serialization/capture.js'

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
  readonly fromResponse: (response: unknown) => LlmOutcome
  readonly assembler: () => StreamAssembler
}

const PATCHED = Symbol.for('tracellm.integration.patched')

/** @internal Replaces `owner[key]` (an SDK resource's method) by a traced one, once. */
export function patchMethod(owner: unknown, key: string, method: LlmMethod): void {
  if (owner === null || typeof owner !== 'object') return
  const original = (owner as Record<string, unknown>)[key]
  if (typeof original !== 'function' || (original as unknown as Record<symbol, unknown>)[PATCHED] === true) return
  const traced = function (this: unknown, ...args: unknown[]): unknown {
    return tracedCall(method, original as (...args: unknown[]) => unknown, this, args)
  }
  Object.defineProperty(traced, PATCHED, { value: true })
  Object.defineProperty(traced, 'name', { value: original.name })
  Object.defineProperty(owner, key, { value: traced, writable: true, configurable: true, enumerable: false })
}

function tracedCall(method: LlmMethod, original: (...args: unknown[]) => unknown, thisArg: unknown, args: unknown[]): unknown {
  const parent = currentTrace()
  if (parent === undefined) return original.apply(thisArg, args)
  const params = args[0]
  const spec: StepSpec = {
    name: method.name,
    kind: 'llm',
    captureInput: true,
    captureOutput: true,
    mapInput: () => params,
    mapOutput: undefined,
    metadata: undefined,
    model: stringField(params, 'model'),
  }
  const running = startStep(parent, spec, args)
  if (running === undefined) return original.apply(thisArg, args)
  let result: unknown
  try {
    result = original.apply(thisArg, args)
  } catch (error) {
    fail(running, error)
    throw error
  }
  if (!isThenable(result)) return settleValue(method, running, result)
  return tracePromise(method, running, result)
}

/** The SDK's promise, with its value traced once however many times it is awaited. */
function tracePromise(method: LlmMethod, running: Running, source: PromiseLike<unknown>): unknown {
  let traced: Promise<unknown> | undefined
  const settled = (): Promise<unknown> =>
    (traced ??= Promise.resolve(source).then(
      (value) => settleValue(method, running, value),
      (error: unknown) => {
        fail(running, error)
        throw error
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
          return async () => {
            const withResponse = await (object.withResponse as () => Promise<Record<string, unknown>>).call(object)
            return { ...withResponse, data: await settled() }
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
      }
      const value = Reflect.get(object, key, object)
      return typeof value === 'function' && key !== 'constructor' ? (value as (...args: unknown[]) => unknown).bind(object) : value
    },
  })
}

function settleValue(method: LlmMethod, running: Running, value: unknown): unknown {
  if (isAsyncIterable(value)) return traceStream(method, running, value)
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
function traceStream<T extends object>(method: LlmMethod, running: Running, source: T): T {
  let assembler: StreamAssembler | undefined
  let ended = false
  const assemble = (): StreamAssembler => (assembler ??= method.assembler())
  const end = (failed: boolean, error: unknown): void => {
    if (ended) return
    ended = true
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
  }
  const observe = (chunk: unknown): void => {
    try {
      assemble().add(chunk)
    } catch {
      // a chunk of an unexpected shape is left out of the assembled output, never thrown
    }
  }
  const iterate = (): AsyncIterator<unknown> => {
    const iterator = (source as AsyncIterable<unknown>)[Symbol.asyncIterator]()
    const settle = (pending: Promise<IteratorResult<unknown>>): Promise<IteratorResult<unknown>> =>
      pending.then(
        (result) => {
          if (result.done === true) end(false, undefined)
          else observe(result.value)
          return result
        },
        (error: unknown) => {
          end(true, error)
          throw error
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
          return [traceStream(method, running, left), right]
        }
      }
      // reads `this[Symbol.asyncIterator]()` only: through the proxy, so the traced iterator
      if (key === 'toReadableStream') return (value as () => unknown).bind(proxy)
      return (value as (...args: unknown[]) => unknown).bind(target)
    },
  })
  return proxy
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
