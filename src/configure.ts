/**
 * The wiring layer on top of the library: `configure()` builds one immutable runtime (sinks, export
 * queue, redactor, capture budgets, clock, ids) and installs it in `core/runtime.ts`, where every trace
 * takes the runtime current at its start and keeps it to its end; `flush`, `exportStats`, `shutdown`;
 * and the default sink, the SQLite store. `core/` holds the runtime but builds no sink: it imports
 * nothing from `sinks/` or `stores/` (docs/architecture.md).
 */
import type { Sink, QueueOptions, FlushReport, ExportStats } from './export/queue.js'
import { createExportQueue, defaultQueueOptions } from './export/queue.js'
import { defaultCaptureLimits, type CaptureLimits } from './serialization/capture.js'
import { createRedactor, type RedactOptions } from './serialization/redact.js'
import { sqliteSink } from './stores/sqlite/sink.js'
import { runSuppressed } from './core/context.js'
import { setWarningFilter, warnAlways, warnOnce } from './core/guard.js'
import { randomIds, type IdSource } from './core/ids.js'
import { createPricer, validatePrices, type Prices } from './core/prices.js'
import { getRuntime, replaceRuntime, setDefaultRuntime, type Clock, type Runtime } from './core/runtime.js'

/**
 * Options of `configure()`. Every call starts again from the defaults: options are not merged with
 * those of an earlier call.
 * @category configuration
 */
export interface ConfigureOptions {
  /** Where finished traces go. @default [sqliteSink({ path: TRACELLM_DB ?? '.tracellm/traces.db' })], none when TRACELLM_DISABLED=1 */
  readonly sinks?: ReadonlyArray<Sink>
  /** @default TRACELLM_PROJECT, else "default" */
  readonly project?: string
  /** @default TRACELLM_ENVIRONMENT, else NODE_ENV, else "development" */
  readonly environment?: string
  /** What a `traceTool` call or a `wrapOpenAI` / `wrapAnthropic` SDK call outside any trace does: `"warn"` runs it unrecorded (one warning per tool or SDK method), `"trace"` makes it its own trace (docs/options.md). @default "warn" */
  readonly orphanSteps?: 'warn' | 'trace'
  /** Wrapped handlers resolve only after their own trace is written. @default true on AWS Lambda, Vercel and Azure Functions, else false */
  readonly flushOnReturn?: boolean
  /** Extra redaction rules; `false` switches the built-in rules off too. @default {} */
  readonly redact?: RedactOptions | false
  /** Capture budgets per value. @default { maxDepth: 20, maxBreadth: 1000, maxNodes: 10000, maxStringLength: 65536, maxFieldBytes: 65536, maxKeyLength: 1024 } */
  readonly capture?: Partial<CaptureLimits>
  /** Steps kept per trace; later steps run but are counted in `droppedSteps` instead of recorded. @default 10000 */
  readonly maxStepsPerTrace?: number
  /** Export queue bounds, batching and sink retry policy. */
  readonly queue?: Partial<Omit<QueueOptions, 'retry'>> & { readonly retry?: Partial<QueueOptions['retry']> }
  /** Dollars per million tokens by model name: a step with a priced `model` and `usage` gets `costUsd`, its trace the sum. @default {} */
  readonly prices?: Prices
  /** @internal Pins the clock in tests. */
  readonly clock?: Clock
  /** @internal Pins the id source in tests. */
  readonly ids?: IdSource
}

// read once: `performance.timeOrigin` is a getter that costs as much as the addition it feeds
const timeOrigin = performance.timeOrigin
const performanceClock: Clock = {
  now: () => performance.now(),
  epoch: (now) => timeOrigin + now,
}

// nothing configured: the first trace builds the runtime of the defaults (the SQLite store), here
setDefaultRuntime(() => buildRuntime({}))

/**
 * Sets up tracing for the whole process: sinks, project, environment, redaction, capture budgets,
 * serverless flushing. Throws a `TypeError` on an invalid option. A trace already running keeps the
 * capture and redaction settings it started with and is delivered through the new sinks; the previous
 * export queue is flushed and closed in the background.
 *
 * @example
 * import { configure, memorySink } from 'tracellm'
 * const sink = memorySink()
 * configure({ sinks: [sink], project: 'rag-service', redact: { keys: ['ssn'] } })
 * sink.traces.length   // => 0
 *
 * @category configuration
 * @since 0.1.0
 */
export function configure(options: ConfigureOptions = {}): void {
  const previous = replaceRuntime(buildRuntime(options))
  if (previous !== undefined) retire(previous)
}

/**
 * Resolves when every trace finished so far has been handed to every sink (or dropped), or when
 * `timeoutMs` (default 5 s) runs out; the timeout keeps the process alive until then. Never rejects.
 * The report counts the traces that settled since the previous report (dropped ones with their
 * reason, including those dropped earlier because a queue was full): see `FlushReport`.
 *
 * @example
 * import { configure, flush, memorySink, trace } from 'tracellm'
 * const sink = memorySink()
 * configure({ sinks: [sink] })
 * trace({ prompt: 'hello' })(() => 'hi')()
 * await flush()
 * sink.traces.length   // => 1
 *
 * @category configuration
 * @since 0.1.0
 */
export function flush(timeoutMs?: number): Promise<FlushReport> {
  return getRuntime().queue.flush(timeoutMs)
}

/**
 * What the export pipeline did with every trace finished since `configure()`: how many were
 * produced, written by every sink, dropped (and why), and are still pending, in total and per sink.
 * The counts always add up: `produced = written + dropped + pending`.
 *
 * @example
 * import { configure, exportStats, flush, memorySink, trace } from 'tracellm'
 * configure({ sinks: [memorySink()] })
 * trace({ prompt: 'hello' })(() => 'hi')()
 * await flush()
 * exportStats().sinks.map((sink) => [sink.name, sink.written])   // => [['memory', 1]]
 *
 * @category configuration
 * @since 0.2.0
 */
export function exportStats(): ExportStats {
  return getRuntime().queue.stats()
}

/**
 * Flushes, then closes every sink. Idempotent. Traces started afterwards still run the user's
 * function but record nothing (one warning). Call it before a process ends on purpose:
 * `process.exit()` skips the asynchronous flush that a natural exit gets.
 *
 * @example
 * import { shutdown } from 'tracellm'
 * const report = await shutdown()
 * report.timedOut   // => false
 *
 * @category configuration
 * @since 0.1.0
 */
export function shutdown(timeoutMs?: number): Promise<FlushReport> {
  const current = getRuntime()
  current.shutDown = true
  return current.queue.shutdown(timeoutMs)
}

function retire(previous: Runtime): void {
  previous.shutDown = true
  previous.queue.shutdown().then(
    () => previous.queue.dispose?.(),
    () => previous.queue.dispose?.(),
  )
}

function buildRuntime(options: ConfigureOptions): Runtime {
  validateConfigure(options)
  const redactor = createRedactor(options.redact === false ? { defaults: false } : (options.redact ?? {}))
  setWarningFilter(redactor.text)
  const queueOptions: QueueOptions = {
    ...defaultQueueOptions,
    ...options.queue,
    retry: { ...defaultQueueOptions.retry, ...options.queue?.retry },
  }
  const sinks = options.sinks ?? defaultSinks()
  return {
    project: options.project ?? nonEmpty(process.env.TRACELLM_PROJECT) ?? 'default',
    environment: options.environment ?? nonEmpty(process.env.TRACELLM_ENVIRONMENT) ?? nonEmpty(process.env.NODE_ENV) ?? 'development',
    orphanSteps: options.orphanSteps ?? 'warn',
    flushOnReturn: options.flushOnReturn ?? isServerless(),
    capture: { ...defaultCaptureLimits, ...options.capture },
    redactor,
    maxStepsPerTrace: options.maxStepsPerTrace ?? 10_000,
    queue: createExportQueue(sinks, queueOptions, { report: (key, message) => warnOnce(key, message), warn: warnAlways, runSuppressed }),
    pricer: createPricer(options.prices),
    clock: options.clock ?? performanceClock,
    ids: options.ids ?? randomIds,
    shutDown: false,
  }
}

function defaultSinks(): ReadonlyArray<Sink> {
  if (isTruthy(process.env.TRACELLM_DISABLED)) return []
  return [sqliteSink({ path: nonEmpty(process.env.TRACELLM_DB) ?? '.tracellm/traces.db' })]
}

/** @internal */
export function isServerless(env: NodeJS.ProcessEnv = process.env): boolean {
  return Boolean(env.AWS_LAMBDA_FUNCTION_NAME || env.VERCEL || env.FUNCTIONS_WORKER_RUNTIME)
}

function isTruthy(value: string | undefined): boolean {
  return value !== undefined && value !== '' && value !== '0' && value.toLowerCase() !== 'false'
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value
}

const CONFIGURE_KEYS = new Set(['sinks', 'project', 'environment', 'orphanSteps', 'flushOnReturn', 'redact', 'capture', 'maxStepsPerTrace', 'queue', 'prices', 'clock', 'ids'])
const CAPTURE_KEYS = new Set(Object.keys(defaultCaptureLimits))

function validateConfigure(options: ConfigureOptions): void {
  if (typeof options !== 'object' || options === null) throw new TypeError('Expected `configure` options to be an object.')
  for (const key of Object.keys(options)) {
    if (!CONFIGURE_KEYS.has(key)) throw new TypeError(`Unknown option \`${key}\` for configure(). Known options: ${[...CONFIGURE_KEYS].filter((k) => k !== 'clock' && k !== 'ids').join(', ')}.`)
  }
  if (options.sinks !== undefined) {
    if (!Array.isArray(options.sinks)) throw new TypeError('Expected `sinks` to be an array of sinks.')
    options.sinks.forEach((sink: Sink, index: number) => {
      if (typeof sink !== 'object' || sink === null || typeof sink.write !== 'function' || typeof sink.name !== 'string') {
        throw new TypeError(`Expected \`sinks[${index}]\` to be a sink: an object with a string \`name\` and a \`write(batch)\` function.`)
      }
    })
  }
  for (const key of ['project', 'environment'] as const) {
    const value = options[key]
    if (value !== undefined && (typeof value !== 'string' || value === '')) throw new TypeError(`Expected \`${key}\` to be a non-empty string.`)
  }
  if (options.orphanSteps !== undefined && options.orphanSteps !== 'warn' && options.orphanSteps !== 'trace') {
    throw new TypeError('Expected `orphanSteps` to be "warn" or "trace".')
  }
  if (options.flushOnReturn !== undefined && typeof options.flushOnReturn !== 'boolean') throw new TypeError('Expected `flushOnReturn` to be a boolean.')
  if (options.redact !== undefined && options.redact !== false && (typeof options.redact !== 'object' || options.redact === null)) {
    throw new TypeError('Expected `redact` to be an object of redaction options, or false.')
  }
  if (options.capture !== undefined) {
    if (typeof options.capture !== 'object' || options.capture === null) throw new TypeError('Expected `capture` to be an object of budgets.')
    for (const [key, value] of Object.entries(options.capture)) {
      if (!CAPTURE_KEYS.has(key)) throw new TypeError(`Unknown capture budget \`${key}\`. Known budgets: ${[...CAPTURE_KEYS].join(', ')}.`)
      if (!Number.isInteger(value) || (value as number) < 1) throw new TypeError(`Expected \`capture.${key}\` to be a positive integer.`)
    }
  }
  if (options.maxStepsPerTrace !== undefined && (!Number.isInteger(options.maxStepsPerTrace) || options.maxStepsPerTrace < 1)) {
    throw new TypeError('Expected `maxStepsPerTrace` to be a positive integer.')
  }
  if (options.queue !== undefined) {
    if (typeof options.queue !== 'object' || options.queue === null) throw new TypeError('Expected `queue` to be an object.')
    checkKeys(options.queue, Object.keys(defaultQueueOptions), 'queue')
    if (options.queue.retry !== undefined) checkKeys(options.queue.retry, Object.keys(defaultQueueOptions.retry), 'queue.retry')
  }
  if (options.prices !== undefined) validatePrices(options.prices)
}

function checkKeys(given: object, known: ReadonlyArray<string>, where: string): void {
  for (const key of Object.keys(given)) {
    if (!known.includes(key)) throw new TypeError(`Unknown option \`${where}.${key}\`. Known options: ${known.join(', ')}.`)
  }
}
