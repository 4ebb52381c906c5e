/**
 * `trace`: each top-level call produces one trace document; a call inside another trace is a step
 * of kind "trace" of the outer one.
 */
import { isSuppressed, runSuppressed, type TraceContext } from '../core/context.js'
import { startStep, type StepSpec } from '../core/run.js'
import { openRoot } from '../engine/runners.js'
import { isCapturing } from '../serialization/capture.js'
import { execute, type EitherShape, type Plan } from './execute.js'
import { checkFunction, resolveTraceOptions, type AnyFunction, type ResolvedTrace, type TraceOptions, type Traced } from './options.js'
import { wrap } from './wrap.js'

const traces = new WeakSet<object>()

/**
 * Wraps an orchestration function: each top-level call yields one trace document, written once
 * under one `trace_id` when the call ends (for a returned stream, when the stream ends); tools
 * called inside become its steps. The wrapper keeps `fn`'s parameters, `this` and return type,
 * hands back its value or error unchanged, and adds `.reader`. Inside another trace it records a
 * step of kind "trace" instead. Options are checked here, at wrap time.
 *
 * @example
 * import { configure, flush, memorySink, trace } from 'tracellm'
 * const sink = memorySink()
 * configure({ sinks: [sink] })
 * const answer = trace({ prompt: 'answer', tags: ['demo'] })(async (q: string) => `echo: ${q}`)
 * await answer('hi')                 // => 'echo: hi'
 * await flush()
 * sink.traces[0]?.prompt            // => 'answer'
 *
 * @category combinators
 * @since 0.1.0
 */
export function trace(options?: TraceOptions): <F extends AnyFunction>(fn: F) => Traced<F> {
  const resolved = resolveTraceOptions(options)
  return <F extends AnyFunction>(fn: F): Traced<F> => {
    checkFunction(fn, 'trace')
    if (traces.has(fn)) return fn as unknown as Traced<F>
    const run = traceRunner(resolved, fn.name, undefined)
    const wrapper = wrap(fn, (thisArg, args, parent) => run(parent, args, () => fn.apply(thisArg, args)))
    traces.add(wrapper)
    return wrapper as unknown as Traced<F>
  }
}

/** @internal Runs one trace call: nested under `parent`, or as a new root. Shared with `tracellm/fp`. */
export type TraceRun = (parent: TraceContext | undefined, args: unknown[], invoke: (ctx: TraceContext | undefined) => unknown) => unknown

/** @internal */
export function traceRunner(resolved: ResolvedTrace, fnName: string, either: EitherShape | undefined): TraceRun {
  const prompt = resolved.prompt ?? (fnName === '' ? 'trace' : fnName)
  const nested: StepSpec = {
    name: prompt,
    kind: 'trace',
    captureInput: resolved.captureInput,
    captureOutput: resolved.captureOutput,
    mapInput: resolved.mapInput,
    mapOutput: resolved.mapOutput,
    metadata: resolved.tags.length === 0 ? resolved.metadata : { ...resolved.metadata, tags: resolved.tags },
    model: resolved.modelName,
  }
  const nestedPlan: Plan = { name: prompt, retry: undefined, shouldRetry: undefined, either, afterEnd: undefined }
  return (parent, args, invoke) => {
    if (isCapturing()) return runUntraced(invoke)
    if (parent !== undefined) {
      const running = startStep(parent, nested, args)
      if (running === undefined) return invoke(parent)
      return execute(nestedPlan, running, invoke)
    }
    if (isSuppressed()) return invoke(undefined)
    return runRoot(resolved, prompt, args, invoke, either)
  }
}

/** @internal Starts a new trace document and runs `invoke` as its body. */
export function runRoot(resolved: ResolvedTrace, prompt: string, args: unknown[], invoke: (ctx: TraceContext | undefined) => unknown, either: EitherShape | undefined): unknown {
  const root = openRoot(resolved, prompt, args)
  if (root === undefined) return invoke(undefined)
  return execute({ name: prompt, retry: undefined, shouldRetry: undefined, either, afterEnd: root.afterEnd }, root.running, invoke)
}

/**
 * @internal A call made by a getter or `toJSON` that capture is reading: tracing's own doing, not the
 * program's, so it runs with tracing off, and so does everything it starts (a getter that calls the
 * traced function again would otherwise capture again, 2^depth times; docs/reliability.md#capture-budgets).
 */
export function runUntraced(invoke: (ctx: TraceContext | undefined) => unknown): unknown {
  return runSuppressed(() => invoke(undefined))
}
