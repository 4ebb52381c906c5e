/**
 * An SDK call answered from the record, under `replay()`: the request is never sent. What the caller
 * gets is shaped like the SDK's own objects, built from the recorded step: a promise with
 * `withResponse()`, `asResponse()` and `_thenUnwrap()` (which the SDKs' `parse()` and stream helpers
 * use), resolving to a response object or to a stream with a `controller`, `tee()` and
 * `toReadableStream()`. The vendor adapters say how a recorded step becomes a response or chunks.
 */
import type { RecordedCall } from '../core/context.js'
import type { JsonValue, StepRecord, Usage } from '../document/document.js'

/** @internal What a recorded `llm` step tells about the response it recorded. */
export interface RecordedResponse {
  /** The recorded output (a fresh copy: the SDKs' helpers change what they are given). */
  readonly output: unknown
  /** The model the vendor answered with (metadata `response_model`), if it was recorded. */
  readonly model: string | undefined
  readonly usage: Usage | undefined
  readonly metadata: { readonly [key: string]: JsonValue }
  /** The id a rebuilt response carries: the recorded step's, prefixed with `replay_`. */
  readonly id: string
  /** The recorded start, in Unix seconds (`created` of a chat completion). */
  readonly created: number
}

/** @internal How a vendor adapter rebuilds its SDK's answer from a recorded step. */
export interface Rebuild {
  /** The response that the method's `fromResponse` reads back as the recorded output and annotation. */
  readonly response: (recorded: RecordedResponse, params: unknown) => unknown
  /** The chunks (events) of a stream that the method's assembler folds back into the recorded output. */
  readonly chunks: (recorded: RecordedResponse, params: unknown) => ReadonlyArray<unknown>
}

/**
 * @internal The SDK-shaped answer to one call from `call` (a recorded step, or a mismatch): with
 * `stream: true` in `params`, a stream of the rebuilt chunks; else the rebuilt response. A recorded
 * failure is thrown again as the replay throws a failed tool's error, with the recorded HTTP status
 * as its `status`; a stream that failed part-way yields what had arrived before it throws.
 */
export function answerFrom(call: RecordedCall, rebuild: Rebuild, params: unknown, signal: unknown): PromiseLike<unknown> {
  const step = call.step
  const stream = isObject(params) && params.stream === true
  if (step === undefined) return replayedPromise(Promise.resolve(call.run(undefined)), undefined)
  const failure = (): Promise<never> => withStatus(call.run(undefined), step.metadata.status_code)
  try {
    if (step.status === 'error') {
      const partial = step.metadata.partial_output
      if (!stream || partial === undefined) return replayedPromise(failure(), undefined)
      const chunks = rebuild.chunks(recordedOf(step, partial), params)
      return replayedPromise(Promise.resolve(new ReplayedStream(chunks, failure, signal)), chunks)
    }
    const recorded = recordedOf(step, step.output)
    if (stream) {
      const chunks = rebuild.chunks(recorded, params)
      return replayedPromise(Promise.resolve(new ReplayedStream(chunks, undefined, signal)), chunks)
    }
    return replayedPromise(Promise.resolve(rebuild.response(recorded, params)), undefined)
  } catch {
    // a record of an unexpected shape: the recorded output as it is, as a tool would get it
    return replayedPromise(Promise.resolve(call.run(undefined)), undefined)
  }
}

/** @internal A number the recorded step's metadata holds under `key`. */
export function countOf(recorded: RecordedResponse, key: string): number | undefined {
  const value = recorded.metadata[key]
  return typeof value === 'number' ? value : undefined
}

function recordedOf(step: StepRecord, output: JsonValue | undefined): RecordedResponse {
  const model = step.metadata.response_model
  const started = Date.parse(step.startedAt)
  return {
    output: output === undefined ? undefined : structuredClone(output),
    model: typeof model === 'string' ? model : undefined,
    usage: step.usage,
    metadata: step.metadata,
    id: `replay_${step.stepId}`,
    created: Number.isFinite(started) ? Math.floor(started / 1000) : 0,
  }
}

/** The recorded error, with the HTTP status the SDK's error carried (`error.status === 429` still works). */
function withStatus(pending: unknown, status: JsonValue | undefined): Promise<never> {
  return Promise.resolve(pending).then(
    () => Promise.reject(new Error('recorded failure')),
    (error: unknown) => {
      if (typeof status === 'number' && error !== null && typeof error === 'object' && !('status' in error) && Object.isExtensible(error)) {
        Object.defineProperty(error, 'status', { value: status, enumerable: true, writable: true, configurable: true })
      }
      throw error
    },
  )
}

/**
 * A promise shaped like the SDKs' `APIPromise`. `chunks` is set for a stream: `asResponse()` then
 * hands a server-sent-events body of them, as the wire would have.
 */
function replayedPromise(data: Promise<unknown>, chunks: ReadonlyArray<unknown> | undefined): PromiseLike<unknown> {
  // a caller that awaits it gets the rejection; one that drops it gets no unhandled rejection
  data.catch(() => undefined)
  let response: Response | undefined
  const responseOf = (value: unknown): Response => (response ??= rawResponse(value, chunks))
  return {
    then: (onFulfilled, onRejected) => data.then(onFulfilled, onRejected),
    catch: (onRejected: (error: unknown) => unknown) => data.catch(onRejected),
    finally: (onFinally: () => void) => data.finally(onFinally),
    withResponse: async () => {
      const value = await data
      return { data: value, response: responseOf(value), request_id: null }
    },
    asResponse: async () => responseOf(await data),
    _thenUnwrap: (transform: (value: unknown, props: unknown) => unknown) =>
      replayedPromise(data.then((value) => transform(value, { response: responseOf(value), options: {}, controller: new AbortController() })), chunks),
  } as PromiseLike<unknown>
}

function rawResponse(value: unknown, chunks: ReadonlyArray<unknown> | undefined): Response {
  if (chunks === undefined) return new Response(JSON.stringify(value ?? null), { status: 200, headers: { 'content-type': 'application/json' } })
  const body = chunks.map((chunk) => `data: ${JSON.stringify(chunk)}\n\n`).join('')
  return new Response(body, { status: 200, headers: { 'content-type': 'text/event-stream' } })
}

/**
 * A stream shaped like the SDKs' `Stream`: the chunks one by one, then the recorded error if the
 * recorded stream failed. Aborting the request's `signal` or the stream's `controller` ends it, as
 * the SDKs end a stream whose request was aborted.
 */
class ReplayedStream implements AsyncIterable<unknown> {
  readonly controller: AbortController

  constructor(
    private readonly chunks: ReadonlyArray<unknown>,
    private readonly failure: (() => Promise<never>) | undefined,
    signal: unknown,
    controller?: AbortController,
  ) {
    this.controller = controller ?? new AbortController()
    const given = signal as AbortSignal | null | undefined
    if (controller === undefined && given != null && typeof given.addEventListener === 'function') {
      if (given.aborted) this.controller.abort()
      else given.addEventListener('abort', () => this.controller.abort(), { once: true })
    }
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<unknown> {
    for (const chunk of this.chunks) {
      if (this.controller.signal.aborted) return
      yield chunk
    }
    if (this.failure !== undefined && !this.controller.signal.aborted) await this.failure()
  }

  tee(): [ReplayedStream, ReplayedStream] {
    return [
      new ReplayedStream(this.chunks, this.failure, undefined, this.controller),
      new ReplayedStream(structuredClone(this.chunks), this.failure, undefined, this.controller),
    ]
  }

  toReadableStream(): ReadableStream<Uint8Array> {
    const iterator = this[Symbol.asyncIterator]()
    const encoder = new TextEncoder()
    return new ReadableStream<Uint8Array>({
      async pull(controller) {
        const next = await iterator.next()
        if (next.done === true) controller.close()
        else controller.enqueue(encoder.encode(`${JSON.stringify(next.value)}\n`))
      },
      async cancel() {
        await iterator.return(undefined)
      },
    }, { highWaterMark: 0 })
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object'
}
