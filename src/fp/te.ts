/**
 * `tracellm/fp`: the combinators for fp-ts pipelines, on the same runner as `trace` and `traceTool`.
 * A `Left` is a failed step (status "error", retried like a throw) and stays a `Left`: nothing here
 * throws. The ReaderTaskEither forms carry the `TraceContext` in their environment, so a pipeline
 * can pass its context explicitly from end to end.
 */
import type { ReaderTaskEither } from 'fp-ts/lib/ReaderTaskEither.js'
import type { TaskEither } from 'fp-ts/lib/TaskEither.js'
import type { Either, Left, Right } from 'fp-ts/Either'
import { current, type TraceContext } from '../core/context.js'
import type { EitherShape } from '../combinators/execute.js'
import { resolveToolOptions, resolveTraceOptions, type ToolOptions, type TraceOptions } from '../combinators/options.js'
import { traceRunner } from '../combinators/trace.js'
import { toolRunner } from '../combinators/trace-tool.js'

/**
 * The environment of a traced ReaderTaskEither: the context its steps nest under.
 * @category fp
 */
export interface TraceEnv {
  readonly trace: TraceContext
}

/** A `Left` is recorded as the step's error, a `Right` as its value: the step's output. */
const either: EitherShape = {
  leftOf: (value) => (tagOf(value) === 'Left' ? { error: (value as Left<unknown>).left } : undefined),
  rightOf: (value) => (tagOf(value) === 'Right' ? (value as Right<unknown>).right : value),
}

function tagOf(value: unknown): unknown {
  return typeof value === 'object' && value !== null ? (value as { readonly _tag?: unknown })._tag : undefined
}

/**
 * Wraps a TaskEither-returning tool: each run of the task inside a trace is one step. A `Left` is a
 * failed step and is retried like a throw (`maxRetries`); the final result is still the `Left`.
 *
 * @example
 * import * as TE from 'fp-ts/lib/TaskEither.js'
 * import { traceToolTE } from 'tracellm/fp'
 * const fetchDocs = traceToolTE({ name: 'fetch_docs' })((q: string) => TE.right([`doc about ${q}`]))
 * await fetchDocs('RAG')()   // => { _tag: 'Right', right: ['doc about RAG'] }
 *
 * @category fp
 * @since 0.1.0
 */
export function traceToolTE(options?: ToolOptions): <A extends ReadonlyArray<unknown>, E, B>(f: (...args: A) => TaskEither<E, B>) => (...args: A) => TaskEither<E, B> {
  const resolved = resolveToolOptions(options)
  return <A extends ReadonlyArray<unknown>, E, B>(f: (...args: A) => TaskEither<E, B>) => {
    const run = toolRunner(resolved, f.name, either)
    return (...args: A): TaskEither<E, B> => () => run(current(), [...args], () => f(...args)()) as Promise<Either<E, B>>
  }
}

/**
 * Wraps a TaskEither-returning pipeline: each run of the task is one trace (or a step of kind
 * "trace" inside another). A `Left` result gives an error document and is returned, not thrown.
 *
 * @example
 * import * as TE from 'fp-ts/lib/TaskEither.js'
 * import { pipe } from 'fp-ts/lib/function.js'
 * import { traceTE } from 'tracellm/fp'
 * const answer = traceTE({ prompt: 'answer' })((q: string) => pipe(TE.right(q), TE.map((s) => s.length)))
 * await answer('What is RAG?')()   // => { _tag: 'Right', right: 12 }
 *
 * @category fp
 * @since 0.1.0
 */
export function traceTE(options?: TraceOptions): <A extends ReadonlyArray<unknown>, E, B>(f: (...args: A) => TaskEither<E, B>) => (...args: A) => TaskEither<E, B> {
  const resolved = resolveTraceOptions(options)
  return <A extends ReadonlyArray<unknown>, E, B>(f: (...args: A) => TaskEither<E, B>) => {
    const run = traceRunner(resolved, f.name, either)
    return (...args: A): TaskEither<E, B> => () => run(current(), [...args], () => f(...args)()) as Promise<Either<E, B>>
  }
}

/**
 * Wraps a ReaderTaskEither tool whose environment carries the trace: the step nests under
 * `env.trace`, and the tool's own computation sees `env.trace` set to its step.
 *
 * @example
 * import * as RTE from 'fp-ts/lib/ReaderTaskEither.js'
 * import { traceRTE, traceToolRTE } from 'tracellm/fp'
 * const retrieve = traceToolRTE({ name: 'retrieve' })((q: string) => RTE.right<{ k: number }, never, string[]>([q]))
 * const run = traceRTE({ prompt: 'rag' })((q: string) => retrieve(q))
 * await run('RAG')({ k: 3 })()   // => { _tag: 'Right', right: ['RAG'] }
 *
 * @category fp
 * @since 0.1.0
 */
export function traceToolRTE(options?: ToolOptions): <A extends ReadonlyArray<unknown>, R, E, B>(f: (...args: A) => ReaderTaskEither<R, E, B>) => (...args: A) => ReaderTaskEither<R & TraceEnv, E, B> {
  const resolved = resolveToolOptions(options)
  return <A extends ReadonlyArray<unknown>, R, E, B>(f: (...args: A) => ReaderTaskEither<R, E, B>) => {
    const run = toolRunner(resolved, f.name, either)
    return (...args: A): ReaderTaskEither<R & TraceEnv, E, B> => (env) => () =>
      run(env.trace, [...args], (ctx) => f(...args)(withTrace(env, ctx))()) as Promise<Either<E, B>>
  }
}

/**
 * Wraps a ReaderTaskEither pipeline: running it starts a trace (nested when the environment, or the
 * running code, already has one) and hands the inner computation `{ ...env, trace }`.
 *
 * @example
 * import * as RTE from 'fp-ts/lib/ReaderTaskEither.js'
 * import { traceRTE } from 'tracellm/fp'
 * const run = traceRTE({ prompt: 'rag' })((q: string) => RTE.asks((env: { prefix: string }) => env.prefix + q))
 * await run('RAG')({ prefix: '> ' })()   // => { _tag: 'Right', right: '> RAG' }
 *
 * @category fp
 * @since 0.1.0
 */
export function traceRTE(options?: TraceOptions): <A extends ReadonlyArray<unknown>, R, E, B>(f: (...args: A) => ReaderTaskEither<R & TraceEnv, E, B>) => (...args: A) => ReaderTaskEither<R, E, B> {
  const resolved = resolveTraceOptions(options)
  return <A extends ReadonlyArray<unknown>, R, E, B>(f: (...args: A) => ReaderTaskEither<R & TraceEnv, E, B>) => {
    const run = traceRunner(resolved, f.name, either)
    return (...args: A): ReaderTaskEither<R, E, B> => (env) => () =>
      run((env as Partial<TraceEnv>).trace ?? current(), [...args], (ctx) => f(...args)(withTrace(env, ctx))()) as Promise<Either<E, B>>
  }
}

function withTrace<R>(env: R, ctx: TraceContext | undefined): R & TraceEnv {
  return { ...env, trace: ctx } as R & TraceEnv
}
