/**
 * `traceTool`: each call inside a trace becomes one step of it.
 */
import { types } from 'node:util'
import type { TraceContext } from '../core/context.js'
import { startStep, unrecorded, type StepSpec } from '../core/run.js'
import { orphanRoute } from '../engine/runners.js'
import { execute, type EitherShape, type Plan } from './execute.js'
import { checkFunction, resolveToolOptions, type AnyFunction, type ResolvedTool, type ResolvedTrace, type ToolOptions, type ToolWrapped } from './options.js'
import { isCapturing } from '../serialization/capture.js'
import { runRoot, runUntraced } from './trace.js'
import { wrap } from './wrap.js'

const tools = new WeakSet<object>()

/**
 * Wraps a tool so each call inside a trace becomes one step of that trace: name, kind, duration,
 * input (snapshotted at the call), output, status, attempts and retries. The wrapper has the same
 * parameters, `this` and return type, and returns exactly what `fn` returns (a thenable comes back
 * as a Promise of the same value; an async iterable as a traced view of it). Called outside any
 * trace, the tool runs unrecorded and warns once per tool name. Options are checked here, at wrap
 * time: an invalid one throws a `TypeError`. Wrapping a tool wrapper again returns it unchanged.
 *
 * @example
 * import { configure, flush, memorySink, trace, traceTool } from 'tracellm'
 * const sink = memorySink()
 * configure({ sinks: [sink] })
 * const add = traceTool({ name: 'add' })((a: number, b: number) => a + b)
 * trace({ prompt: 'sum' })((n: number) => add(n, 1))(2)   // => 3
 * await flush()
 * sink.traces[0]?.steps.map((step) => step.name)           // => ['add']
 *
 * @category combinators
 * @since 0.1.0
 */
export function traceTool<const O extends ToolOptions>(options?: O): <F extends AnyFunction>(fn: F) => ToolWrapped<F, O> {
  const resolved = resolveToolOptions(options)
  return <F extends AnyFunction>(fn: F): ToolWrapped<F, O> => {
    checkFunction(fn, 'traceTool')
    if (tools.has(fn)) return fn as unknown as ToolWrapped<F, O>
    const run = toolRunner(resolved, fn.name, undefined, types.isAsyncFunction(fn))
    const wrapper = wrap(fn, (thisArg, args, parent) => run(parent, args, () => fn.apply(thisArg, args)))
    tools.add(wrapper)
    return wrapper as unknown as ToolWrapped<F, O>
  }
}

/** @internal Runs one tool call under `parent`; `invoke` calls the user's function. Shared with `tracellm/fp`. */
export type ToolRun = (parent: TraceContext | undefined, args: unknown[], invoke: (ctx: TraceContext | undefined) => unknown) => unknown

/** @internal */
export function toolRunner(resolved: ResolvedTool, fnName: string, either: EitherShape | undefined, isAsync = true): ToolRun {
  const name = resolved.name ?? (fnName === '' ? 'tool' : fnName)
  const spec: StepSpec = { ...resolved, name }
  const retry = resolved.maxRetries > 0 ? resolved : undefined
  const plan: Plan = { name, retry, shouldRetry: resolved.shouldRetry, either, afterEnd: undefined }
  // with orphanSteps: 'trace', an orphan call is a trace named after the tool, holding that one step
  const asTrace: ResolvedTrace = { prompt: name, modelName: resolved.model, project: undefined, environment: undefined, tags: [], metadata: {}, captureInput: resolved.captureInput, captureOutput: resolved.captureOutput, mapInput: resolved.mapInput, mapOutput: resolved.mapOutput, parent: undefined }
  // a replay answers from the record and replays retries without waiting for their backoff
  const replayPlan: Plan = { ...plan, retry: retry === undefined ? undefined : { ...retry, minTimeout: 0, maxTimeout: 0 } }
  const run: ToolRun = (parent, args, invoke) => {
    if (isCapturing()) return runUntraced(invoke)
    if (parent === undefined) return orphan(args, invoke)
    const replay = parent.recorder.replay
    if (replay !== undefined) {
      const answer = replay.answer(name, args, either !== undefined, isAsync)
      if (answer !== undefined) {
        const running = startStep(parent, spec, args)
        return running === undefined ? answer(parent) : execute(replayPlan, running, answer)
      }
    }
    const running = startStep(parent, spec, args)
    if (running === undefined) return invoke(parent)
    return execute(plan, running, invoke)
  }
  const orphan = (args: unknown[], invoke: (ctx: TraceContext | undefined) => unknown): unknown => {
    const route = orphanRoute(name, `traceTool "${name}"`)
    if (route === 'untraced') return invoke(undefined)
    if (route === 'trace') return runRoot(asTrace, name, args, (root) => run(root, args, invoke), either)
    if (retry === undefined && either === undefined) return invoke(undefined)
    return execute(plan, unrecorded, invoke)
  }
  return run
}
