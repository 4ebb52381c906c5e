/**
 * Streams returned by a traced function. The step ends when iteration finishes, is broken off or
 * throws; chunks are passed through one `next()` at a time (never read ahead of the caller), and
 * each pull runs in the step's context, so tools called while a generator produces its chunks nest
 * under the stream's step.
 */
import { runIn, type TraceContext } from '../core/context.js'

/** @internal How a returned value has to be watched before its step can end. */
export type StreamShape = 'async-iterable' | 'node-stream' | 'web-stream' | undefined

/** @internal Called once when the stream ends; may return a promise the last `next()` waits for. */
export type StreamEnd = (chunks: ReadonlyArray<unknown>, failed: boolean, error: unknown) => void | Promise<void>

/** @internal Never throws: probing a hostile Proxy is itself guarded. */
export function streamShapeOf(value: unknown): StreamShape {
  if (value === null || (typeof value !== 'object' && typeof value !== 'function')) return undefined
  try {
    const candidate = value as Record<PropertyKey, unknown>
    if (Object.prototype.toString.call(value) === '[object ReadableStream]' && typeof candidate.pipeThrough === 'function') return 'web-stream'
    if (typeof candidate.pipe === 'function' && typeof candidate.on === 'function' && typeof candidate.once === 'function') return 'node-stream'
    if (typeof candidate[Symbol.asyncIterator] === 'function') return 'async-iterable'
  } catch {
    return undefined
  }
  return undefined
}

/**
 * @internal Wraps an async iterable (an async generator, an SDK stream) in a Proxy: `next`, `return`,
 * `throw` and `Symbol.asyncIterator` are traced; every other property is the original's, so SDK
 * helpers on the stream object keep working.
 */
export function traceAsyncIterable<T extends object>(source: T, ctx: TraceContext | undefined, maxChunks: number, onEnd: StreamEnd): T {
  const chunks: unknown[] = []
  let iterator: AsyncIterator<unknown> | undefined
  let ended = false
  const end = (failed: boolean, error: unknown): void | Promise<void> => {
    if (ended) return undefined
    ended = true
    return onEnd(chunks, failed, error)
  }
  const open = (): AsyncIterator<unknown> =>
    (iterator ??= runIn(ctx, () => (source as AsyncIterable<unknown>)[Symbol.asyncIterator]()))
  const settle = (pending: Promise<IteratorResult<unknown>> | IteratorResult<unknown>, finishing: boolean): Promise<IteratorResult<unknown>> =>
    Promise.resolve(pending).then(
      (result) => {
        if (result.done === true || finishing) {
          const waiting = end(false, undefined)
          return waiting === undefined ? result : waiting.then(() => result, () => result)
        }
        if (chunks.length < maxChunks) chunks.push(result.value)
        return result
      },
      (error: unknown) => {
        const waiting = end(true, error)
        if (waiting === undefined) throw error
        return waiting.then(() => { throw error }, () => { throw error })
      },
    )
  // runs one iterator call in the step's context; a synchronous throw ends the step and is rethrown as is
  const call = (method: (it: AsyncIterator<unknown>) => Promise<IteratorResult<unknown>>, finishing: boolean): Promise<IteratorResult<unknown>> => {
    const it = open()
    let pending: Promise<IteratorResult<unknown>>
    try {
      pending = runIn(ctx, () => method(it))
    } catch (error) {
      void end(true, error)
      throw error
    }
    return settle(pending, finishing)
  }
  const traced: AsyncIterator<unknown> = {
    next: (...args: [] | [unknown]) => call((it) => it.next(...args), false),
    return: (value?: unknown) => {
      const it = open()
      if (typeof it.return !== 'function') return settle({ done: true, value }, true)
      return call((iterator) => (iterator.return as (value?: unknown) => Promise<IteratorResult<unknown>>)(value), true)
    },
    throw: (error?: unknown) => {
      const it = open()
      if (typeof it.throw !== 'function') {
        const waiting = end(true, error)
        return Promise.resolve(waiting).then(() => Promise.reject(error))
      }
      return call((iterator) => (iterator.throw as (error?: unknown) => Promise<IteratorResult<unknown>>)(error), false)
    },
  }
  const proxy: T = new Proxy(source, {
    get(target, key) {
      if (key === Symbol.asyncIterator) return () => proxy
      if (key === 'next' || key === 'return' || key === 'throw') {
        if (key === 'next' || hasMethod(target, key)) return traced[key]
      }
      const value: unknown = Reflect.get(target, key, target)
      if (typeof value !== 'function' || isFrozenProperty(target, key)) return value
      return (value as (...args: unknown[]) => unknown).bind(target)
    },
  })
  return proxy
}

/**
 * @internal A web ReadableStream is read through a new ReadableStream with no buffer of its own
 * (highWaterMark 0: a chunk is pulled from the source only when the caller asks for one). The step
 * ends when the source is done, errors, or the caller cancels.
 */
export function traceWebStream(source: ReadableStream<unknown>, maxChunks: number, onEnd: StreamEnd): ReadableStream<unknown> {
  const chunks: unknown[] = []
  let reader: ReadableStreamDefaultReader<unknown> | undefined
  let ended = false
  const end = async (failed: boolean, error: unknown): Promise<void> => {
    if (ended) return
    ended = true
    try {
      await onEnd(chunks, failed, error)
    } catch {
      // recording is best effort; the stream's own outcome is what the caller sees
    }
  }
  return new ReadableStream<unknown>({
    async pull(controller) {
      reader ??= source.getReader()
      let result: Awaited<ReturnType<ReadableStreamDefaultReader<unknown>["read"]>>
      try {
        result = await reader.read()
      } catch (error) {
        await end(true, error)
        controller.error(error)
        return
      }
      if (result.done) {
        await end(false, undefined)
        controller.close()
        return
      }
      if (chunks.length < maxChunks) chunks.push(result.value)
      controller.enqueue(result.value)
    },
    async cancel(reason) {
      await end(false, undefined)
      await (reader ?? source).cancel(reason)
    },
  }, { highWaterMark: 0 })
}

/**
 * @internal A Node stream is returned as it is (it may be piped, read or iterated) and watched for
 * `end`/`close`. No `error` listener is added: that would swallow an error the program relies on
 * crashing or being handled elsewhere; a destroyed stream's `errored` tells the status instead.
 */
export function watchNodeStream(stream: NodeJS.EventEmitter & { readonly errored?: unknown }, onEnd: (failed: boolean, error: unknown) => void | Promise<void>): void {
  let ended = false
  const finish = (): void => {
    if (ended) return
    ended = true
    const error = stream.errored
    const failed = error !== null && error !== undefined
    void Promise.resolve(onEnd(failed, error)).catch(() => undefined)
  }
  stream.once('end', finish)
  stream.once('close', finish)
}

function hasMethod(target: object, key: PropertyKey): boolean {
  try {
    return typeof (target as Record<PropertyKey, unknown>)[key] === 'function'
  } catch {
    return false
  }
}

function isFrozenProperty(target: object, key: PropertyKey): boolean {
  const descriptor = Object.getOwnPropertyDescriptor(target, key)
  return descriptor !== undefined && descriptor.configurable === false && descriptor.writable === false
}
