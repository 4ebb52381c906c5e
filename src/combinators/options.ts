/**
 * Options of `trace` and `traceTool`: their types, defaults and validation. Validation runs when
 * `trace(opts)` / `traceTool(opts)` is called, before any user code, and throws a `TypeError` that
 * names the option; a traced call never throws because of an option.
 */
import type { Reader } from 'fp-ts/Reader'
import type { JsonValue } from '../document/document.js'
import type { TraceContext } from '../core/context.js'
import { isParentHeaders, type ParentHeaders } from '../core/propagation.js'
import type { RetryPolicy } from '../core/retry.js'
import type { StepSpec } from '../core/run.js'
import type { RootOptions } from '../engine/runners.js'
import { capture } from '../serialization/capture.js'

/**
 * Options of `traceTool`.
 * @category combinators
 */
export interface ToolOptions {
  /** The step's name. @default fn.name, else "tool" */
  readonly name?: string
  /** The step's kind: "tool", "retriever", "llm", "reranker" … @default "tool" */
  readonly kind?: string
  /** Automatic retries on failure: at most maxRetries + 1 attempts. @default 0 */
  readonly maxRetries?: number
  /** Asked after each failed attempt; `false` stops retrying (e.g. on a 4xx). A throwing callback counts as `true`. @default () => true */
  readonly shouldRetry?: (error: unknown) => boolean
  /** First backoff wait, in ms. @default 500 */
  readonly minTimeout?: number
  /** Backoff multiplier: waits are minTimeout·factor^k. @default 2 */
  readonly factor?: number
  /** Longest single wait, in ms. @default 30000 */
  readonly maxTimeout?: number
  /** Bound on the whole retry sequence, in ms: no attempt starts after it. @default 60000 */
  readonly maxRetryTime?: number
  /** Record the arguments as the step's input. @default true */
  readonly captureInput?: boolean
  /** Record the return value as the step's output. @default true */
  readonly captureOutput?: boolean
  /** Shapes what is recorded as input; receives the argument list. */
  readonly mapInput?: (args: ReadonlyArray<unknown>) => unknown
  /** Shapes what is recorded as output; receives the awaited value (a stream's chunks as an array). */
  readonly mapOutput?: (value: unknown) => unknown
  /** Free data recorded on every step of this tool. @default {} */
  readonly metadata?: Readonly<Record<string, unknown>>
  /** The model an `llm` step calls, recorded as the step's `model`. */
  readonly model?: string
}

/**
 * Options of `trace`.
 * @category combinators
 */
export interface TraceOptions {
  /** The trace's name. @default fn.name, else "trace" */
  readonly prompt?: string
  /** The model this pipeline uses. */
  readonly modelName?: string
  /** @default configure({ project }), else TRACELLM_PROJECT, else "default" */
  readonly project?: string
  /** @default configure({ environment }), else TRACELLM_ENVIRONMENT, else NODE_ENV, else "development" */
  readonly environment?: string
  /** Free labels. @default [] */
  readonly tags?: ReadonlyArray<string>
  /** Free data. @default {} */
  readonly metadata?: Readonly<Record<string, unknown>>
  /** Record the arguments as the trace's input. @default true */
  readonly captureInput?: boolean
  /** Record the return value as the trace's output. @default true */
  readonly captureOutput?: boolean
  /** Shapes what is recorded as input; receives the argument list. */
  readonly mapInput?: (args: ReadonlyArray<unknown>) => unknown
  /** Shapes what is recorded as output; receives the awaited value. */
  readonly mapOutput?: (value: unknown) => unknown
  /**
   * A caller's trace context to continue: incoming headers (`traceparent`/`tracestate`, any case,
   * or a `Headers`) or a `traceparent` string, read at each call. A valid one records the caller's
   * trace and span as `parentTraceId`/`parentStepId`; a malformed one is ignored
   * with a warning. For per-request headers, see `continueTrace`.
   * @default the `continueTrace` caller, else the active OpenTelemetry span, else none
   */
  readonly parent?: ParentHeaders
}

/** Any function. @category combinators */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyFunction = (this: any, ...args: any[]) => any

/** What `.reader` adds: the same call with its context given explicitly. @category combinators */
export interface WithReader<F extends AnyFunction, R = ReturnType<F>> {
  /**
   * The same call with the parent context passed explicitly instead of read from
   * AsyncLocalStorage; while it runs, the step's context is mirrored into AsyncLocalStorage.
   */
  readonly reader: (...args: Parameters<F>) => Reader<TraceContext, R>
}

/** A native Promise stands for any thenable a function returns: the wrapper hands back a Promise. */
type Settled<R> = R extends Promise<unknown> ? R : R extends PromiseLike<infer T> ? Promise<T> : R

/** `fn` wrapped: same parameters, `this` and return type, plus `.reader`. @category combinators */
export type Traced<F extends AnyFunction> =
  ReturnType<F> extends PromiseLike<unknown>
    ? ReturnType<F> extends Promise<unknown>
      ? F & WithReader<F>
      : ((this: ThisParameterType<F>, ...args: Parameters<F>) => Settled<ReturnType<F>>) & WithReader<F, Settled<ReturnType<F>>>
    : F & WithReader<F>

/**
 * `fn` wrapped by a tool that retries: a synchronous result may arrive as a Promise when an attempt
 * failed and a backoff had to be waited for.
 * @category combinators
 */
export type Retrying<F extends AnyFunction> =
  ReturnType<F> extends PromiseLike<unknown>
    ? Traced<F>
    : ((this: ThisParameterType<F>, ...args: Parameters<F>) => ReturnType<F> | Promise<ReturnType<F>>) & WithReader<F, ReturnType<F> | Promise<ReturnType<F>>>

/** The wrapper type `traceTool(options)` makes: retrying only when `maxRetries` may be above 0. @category combinators */
export type ToolWrapped<F extends AnyFunction, O> = O extends { readonly maxRetries: infer N } ? ([N] extends [0 | undefined] ? Traced<F> : Retrying<F>) : Traced<F>

/** @internal */
export interface ResolvedTool extends Omit<StepSpec, 'name'>, RetryPolicy {
  readonly name: string | undefined
  readonly shouldRetry: ((error: unknown) => boolean) | undefined
}

/** @internal */
export interface ResolvedTrace extends RootOptions {
  readonly prompt: string | undefined
}

const TOOL_KEYS = ['name', 'kind', 'maxRetries', 'shouldRetry', 'minTimeout', 'factor', 'maxTimeout', 'maxRetryTime', 'captureInput', 'captureOutput', 'mapInput', 'mapOutput', 'metadata', 'model'] as const
const TRACE_KEYS = ['prompt', 'modelName', 'project', 'environment', 'tags', 'metadata', 'captureInput', 'captureOutput', 'mapInput', 'mapOutput', 'parent'] as const
// keys people reach for from other SDKs, with the option that does the job here
const ALIASES: { readonly [key: string]: string } = {
  'trace.name': 'prompt',
  'trace.model': 'modelName',
  'trace.tag': 'tags',
  'traceTool.prompt': 'name',
  'traceTool.retries': 'maxRetries',
  'traceTool.modelName': 'model',
  'traceTool.type': 'kind',
}
const EMPTY_METADATA: { readonly [key: string]: JsonValue } = Object.freeze({})

/** @internal Validates `traceTool` options and fills in the defaults. */
export function resolveToolOptions(options: ToolOptions | undefined): ResolvedTool {
  const given = checkObject(options, 'traceTool', TOOL_KEYS)
  const maxRetries = optionalNumber(given, 'maxRetries', 0, { integer: true })
  const minTimeout = optionalNumber(given, 'minTimeout', 500)
  const maxTimeout = optionalNumber(given, 'maxTimeout', 30_000, { infinite: true })
  if (maxTimeout < minTimeout) throw new TypeError(`Expected \`maxTimeout\` (${maxTimeout}) to be at least \`minTimeout\` (${minTimeout}).`)
  const factor = optionalNumber(given, 'factor', 2)
  if (factor < 1) throw new TypeError('Expected `factor` to be a number ≥ 1.')
  return {
    name: optionalString(given, 'name'),
    kind: optionalString(given, 'kind') ?? 'tool',
    maxRetries,
    shouldRetry: optionalFunction(given, 'shouldRetry') as ResolvedTool['shouldRetry'],
    minTimeout,
    factor,
    maxTimeout,
    maxRetryTime: optionalNumber(given, 'maxRetryTime', 60_000, { infinite: true }),
    captureInput: optionalBoolean(given, 'captureInput', true),
    captureOutput: optionalBoolean(given, 'captureOutput', true),
    mapInput: optionalFunction(given, 'mapInput') as ResolvedTool['mapInput'],
    mapOutput: optionalFunction(given, 'mapOutput') as ResolvedTool['mapOutput'],
    metadata: given.metadata === undefined ? undefined : checkMetadata(given.metadata),
    model: optionalString(given, 'model'),
  }
}

/** @internal Validates `trace` options and fills in the defaults. */
export function resolveTraceOptions(options: TraceOptions | undefined): ResolvedTrace {
  const given = checkObject(options, 'trace', TRACE_KEYS)
  const tags = given.tags
  if (tags !== undefined && (!Array.isArray(tags) || !tags.every((tag) => typeof tag === 'string'))) {
    throw new TypeError('Expected `tags` to be an array of strings.')
  }
  return {
    prompt: optionalString(given, 'prompt'),
    modelName: optionalString(given, 'modelName'),
    project: optionalString(given, 'project'),
    environment: optionalString(given, 'environment'),
    tags: tags === undefined ? [] : Object.freeze([...(tags as string[])]),
    metadata: given.metadata === undefined ? EMPTY_METADATA : checkMetadata(given.metadata),
    captureInput: optionalBoolean(given, 'captureInput', true),
    captureOutput: optionalBoolean(given, 'captureOutput', true),
    mapInput: optionalFunction(given, 'mapInput') as ResolvedTrace['mapInput'],
    mapOutput: optionalFunction(given, 'mapOutput') as ResolvedTrace['mapOutput'],
    parent: checkParent(given.parent),
  }
}

function checkParent(value: unknown): ParentHeaders | undefined {
  if (value === undefined) return undefined
  if (!isParentHeaders(value)) throw new TypeError(`Expected \`parent\` to be incoming headers (an object or a Headers) or a traceparent string, got ${describe(value)}.`)
  return value
}

/** @internal */
export function checkFunction(fn: unknown, who: string): void {
  if (typeof fn !== 'function') throw new TypeError(`Expected ${who}(options) to be given a function, got ${describe(fn)}.`)
}

function checkObject(options: unknown, who: string, known: ReadonlyArray<string>): Record<string, unknown> {
  if (options === undefined) return {}
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new TypeError(`Expected ${who}() options to be an object, got ${describe(options)}.`)
  }
  for (const key of Object.keys(options)) {
    if (!known.includes(key)) {
      const hint = ALIASES[`${who}.${key}`] ?? known.find((candidate) => candidate.toLowerCase().startsWith(key.toLowerCase().slice(0, 4)))
      throw new TypeError(`Unknown option \`${key}\` for ${who}().${hint === undefined ? '' : ` Did you mean \`${hint}\`?`}`)
    }
  }
  return options as Record<string, unknown>
}

function optionalString(options: Record<string, unknown>, key: string): string | undefined {
  const value = options[key]
  if (value === undefined) return undefined
  if (typeof value !== 'string' || value.trim() === '') throw new TypeError(`Expected \`${key}\` to be a non-empty string, got ${describe(value)}.`)
  return value
}

function optionalBoolean(options: Record<string, unknown>, key: string, fallback: boolean): boolean {
  const value = options[key]
  if (value === undefined) return fallback
  if (typeof value !== 'boolean') throw new TypeError(`Expected \`${key}\` to be a boolean, got ${describe(value)}.`)
  return value
}

function optionalFunction(options: Record<string, unknown>, key: string): unknown {
  const value = options[key]
  if (value !== undefined && typeof value !== 'function') throw new TypeError(`Expected \`${key}\` to be a function, got ${describe(value)}.`)
  return value
}

function optionalNumber(options: Record<string, unknown>, key: string, fallback: number, rules: { readonly integer?: boolean; readonly infinite?: boolean } = {}): number {
  const value = options[key]
  if (value === undefined) return fallback
  const valid = typeof value === 'number' && value >= 0 && (rules.infinite === true ? !Number.isNaN(value) : Number.isFinite(value)) && (rules.integer !== true || Number.isInteger(value))
  if (!valid) throw new TypeError(`Expected \`${key}\` to be a non-negative ${rules.integer === true ? 'integer' : 'number'}, got ${describe(value)}.`)
  return value
}

function checkMetadata(value: unknown): { readonly [key: string]: JsonValue } {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new TypeError(`Expected \`metadata\` to be a plain object, got ${describe(value)}.`)
  // captured once, at wrap time: metadata is static per wrapper
  return capture(value).value as { readonly [key: string]: JsonValue }
}

function describe(value: unknown): string {
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'an array'
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return String(value)
  return typeof value === 'object' ? 'an object' : typeof value
}
