/**
 * The in-memory sink: keeps documents as they are (camelCase), for tests and for inspecting traces
 * from inside the process.
 */
import type { TraceDocument } from '../document/document.js'
import type { Sink } from '../export/queue.js'

/**
 * Builds a sink that keeps the documents it receives in `traces`, oldest first. Only the newest
 * `limit` documents are kept, so a long-running process cannot grow it without bound; `clear()`
 * empties it. Throws a `TypeError` when `limit` is not a positive integer.
 *
 * @example
 * import { configure, flush, memorySink, trace } from 'tracellm'
 * const sink = memorySink({ limit: 100 })
 * configure({ sinks: [sink] })
 * trace({ prompt: 'hello' })(() => 'hi')()
 * await flush()
 * sink.traces.map((doc) => doc.prompt)   // => ['hello']
 *
 * @param options.limit - How many documents to keep. @default 10000
 * @category sinks
 * @since 0.1.0
 */
export function memorySink(options: { readonly limit?: number } = {}): Sink & { readonly traces: ReadonlyArray<TraceDocument>; clear(): void } {
  if (typeof options !== 'object' || options === null) throw new TypeError('Expected `memorySink` options to be an object.')
  const limit = options.limit ?? DEFAULT_LIMIT
  if (typeof limit !== 'number' || !(Number.isInteger(limit) || limit === Infinity) || limit < 1) {
    throw new TypeError(`Expected \`limit\` to be a positive integer, got ${String(limit)}.`)
  }
  let traces: TraceDocument[] = []
  return {
    name: 'memory',
    get traces(): ReadonlyArray<TraceDocument> {
      return traces
    },
    write: (batch) => {
      if (batch.length >= limit) {
        traces = batch.slice(batch.length - limit)
        return
      }
      for (const doc of batch) traces.push(doc)
      if (traces.length > limit) traces.splice(0, traces.length - limit)
    },
    clear: () => {
      traces = []
    },
  }
}

const DEFAULT_LIMIT = 10_000
