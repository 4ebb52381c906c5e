/**
 * The JSON Lines sink: one stored (snake_case) document per line, appended to a file.
 */
import { appendFileSync, mkdirSync, promises as fs } from 'node:fs'
import { dirname, resolve } from 'node:path'
import safeStringify from 'safe-stable-stringify'
import type { TraceDocument } from '../document/document.js'
import { toWire } from '../document/wire.js'
import type { Sink } from '../export/queue.js'

/**
 * Builds a sink that appends each document as one line of snake_case JSON (`toWire`) to `path`,
 * with one synchronous append per batch (one `write(2)` to a local file: the exit hook can never find a batch half-written). The parent directory is created on the first write (mode 0700),
 * the file with mode 0600, because traces hold prompts and personal data. `writeSync` does the same
 * synchronously for the process `exit` hook. `String(sink)` and `util.inspect(sink)` show only
 * `jsonlSink(<path>)`. Throws a `TypeError` when `path` is missing or empty.
 *
 * @example
 * import { configure, jsonlSink } from 'tracellm'
 * const sink = jsonlSink({ path: '.tracellm/traces.jsonl' })
 * configure({ sinks: [sink] })
 * String(sink)   // => 'jsonlSink(.tracellm/traces.jsonl)'
 *
 * @param options.path - The file to append to, relative to the working directory at creation.
 * @category sinks
 * @since 0.1.0
 */
export function jsonlSink(options: { readonly path: string }): Sink & { writeSync(batch: ReadonlyArray<TraceDocument>): void; toString(): string } {
  if (typeof options !== 'object' || options === null) throw new TypeError('Expected `jsonlSink` options to be an object with a `path`.')
  const given: unknown = options.path
  if (typeof given !== 'string' || given.trim() === '') throw new TypeError('Expected `path` to be a non-empty string.')
  const file = resolve(given)
  const directory = dirname(file)
  const label = `jsonlSink(${given})`
  let directoryReady: Promise<void> | undefined
  let directoryKnown = false
  // batches are appended one after the other, so two writes can never interleave in the file
  let tail: Promise<void> = Promise.resolve()
  // documents already in the file: append is not idempotent, so writeSync must not repeat them
  const appended = new WeakSet<TraceDocument>()

  const ensureDirectory = (): Promise<void> => {
    directoryReady ??= fs.mkdir(directory, { recursive: true, mode: DIRECTORY_MODE }).then(
      () => {
        directoryKnown = true
      },
      (error: unknown) => {
        directoryReady = undefined   // try again with the next batch
        throw error
      },
    )
    return directoryReady
  }

  return {
    name: 'jsonl',
    // A batch is appended with one synchronous write (its lines are formatted first; the write itself
    // is one write(2) to a local file, typically well under a millisecond), so the process `exit` hook
    // can never meet a batch half-written: after process.exit() nothing is lost and nothing is written
    // twice (docs/reliability.md#delivery-what-is-never-lost). The directory is made asynchronously once.
    write: (batch) => {
      if (batch.length === 0) return Promise.resolve()
      const text = toLines(batch)
      const done = tail.then(async () => {
        if (!directoryKnown) await ensureDirectory()
        appendFileSync(file, text, { encoding: 'utf8', mode: FILE_MODE })
        for (const doc of batch) appended.add(doc)
      })
      tail = done.catch(() => undefined)
      return done
    },
    writeSync: (batch) => {
      // the exit hook hands over the batch in flight too: skip what its write already appended
      const rest = batch.filter((doc) => !appended.has(doc))
      if (rest.length === 0) return
      const text = toLines(rest)
      if (!directoryKnown) {
        mkdirSync(directory, { recursive: true, mode: DIRECTORY_MODE })
        directoryKnown = true
      }
      appendFileSync(file, text, { encoding: 'utf8', mode: FILE_MODE })
      for (const doc of rest) appended.add(doc)
    },
    toString: () => label,
    [Symbol.for('nodejs.util.inspect.custom')]: () => label,
  }
}

const FILE_MODE = 0o600
const DIRECTORY_MODE = 0o700
const stringify = safeStringify.configure({ bigint: true, circularValue: '[Circular]', deterministic: false })

function toLines(batch: ReadonlyArray<TraceDocument>): string {
  let text = ''
  for (const doc of batch) text += `${stringify(toWire(doc))}\n`
  return text
}
