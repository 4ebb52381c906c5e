/**
 * Start, settle and end a step or a root trace. Everything here runs on the traced call's path, so
 * it does only what cannot wait: read the clock, take an id, snapshot the input (docs/capture-and-redaction.md:
 * the record shows the arguments as they were at call time). Redaction and ISO dates wait for `seal`.
 */
import type { JsonValue, Status } from '../document/document.js'
import { capture, captureError, isCapturing, type Captured } from '../serialization/capture.js'
import { getRuntime, type Runtime } from './runtime.js'
import type { ParentRef, ReplayHooks, TraceContext } from './context.js'
import { guard } from './guard.js'
import { createRecorder, seal, type OpenStep, type Recorder, type TraceHeader } from './recorder.js'

/** @internal What a step records, fixed when the tool is wrapped. */
export interface StepSpec {
  readonly name: string
  readonly kind: string
  readonly captureInput: boolean
  readonly captureOutput: boolean
  readonly mapInput: ((args: ReadonlyArray<unknown>) => unknown) | undefined
  readonly mapOutput: ((value: unknown) => unknown) | undefined
  readonly metadata: { readonly [key: string]: JsonValue } | undefined
  readonly model: string | undefined
}

/** @internal A step or a root trace that is running: where its outcome goes. */
export interface Running {
  /** The context the function runs in; undefined for an unrecorded (orphan) call. */
  readonly ctx: TraceContext | undefined
  readonly succeed: (value: unknown, outputKind?: 'stream') => void
  readonly fail: (error: unknown) => void
  /** After retries: how many attempts ran, and the failures that were followed by another attempt. */
  readonly retried: (attempts: number, failures: ReadonlyArray<FailedAttempt>) => void
}

/** @internal */
export interface FailedAttempt {
  readonly attempt: number
  readonly error: unknown
}

/** @internal Records nothing: an orphan call that still needs the retry machinery. */
export const unrecorded: Running = {
  ctx: undefined,
  succeed: () => undefined,
  fail: () => undefined,
  retried: () => undefined,
}

/**
 * @internal Opens a step under `parent`. Returns undefined when the step is not to be recorded: its
 * trace already ended (a call from a detached promise), or the trace hit `maxStepsPerTrace`.
 */
export function startStep(parent: TraceContext, spec: StepSpec, args: ReadonlyArray<unknown>): Running | undefined {
  // a bug in tracing must not fail the user's call: the call then runs unrecorded
  try {
    return openStep(parent, spec, args)
  } catch (error) {
    return internalError(error)
  }
}

function openStep(parent: TraceContext, spec: StepSpec, args: ReadonlyArray<unknown>): Running | undefined {
  const recorder = parent.recorder
  // called from a getter that capture is reading: not a step of the program (docs/reliability.md#capture-budgets)
  if (recorder.sealed || isCapturing()) return undefined
  const runtime = recorder.runtime
  if (recorder.steps.length >= runtime.maxStepsPerTrace) {
    recorder.droppedSteps++
    return undefined
  }
  const input = spec.captureInput ? captureInput(runtime, spec, args) : undefined
  const step: OpenStep = {
    stepId: runtime.ids.stepId(),
    parentStepId: parent.stepId,
    seq: recorder.seq++,
    name: spec.name,
    kind: spec.kind,
    start: runtime.clock.now(),
    end: undefined,
    status: 'success',
    input: input?.value,
    output: undefined,
    outputKind: undefined,
    error: null,
    attempts: 1,
    attemptErrors: undefined,
    metadata: spec.metadata,
    bytes: input?.bytes ?? 0,
    truncated: input?.truncated ?? 0,
    model: spec.model,
    usage: undefined,
  }
  recorder.steps.push(step)
  const ctx: TraceContext = { traceId: parent.traceId, stepId: step.stepId, prompt: parent.prompt, project: parent.project, environment: parent.environment, recorder }
  return new RunningStep(ctx, step, spec, recorder)
}

/**
 * A step while its call runs. A class rather than three closures: one allocation per traced call
 * instead of four, on the hottest path of the library.
 */
class RunningStep implements Running {
  constructor(
    readonly ctx: TraceContext,
    private readonly step: OpenStep,
    private readonly spec: StepSpec,
    private readonly recorder: Recorder,
  ) {}

  succeed(value: unknown, outputKind?: 'stream'): void {
    try {
      this.record(value, outputKind)
    } catch (error) {
      internalError(error)
    }
  }

  private record(value: unknown, outputKind: 'stream' | undefined): void {
    const { step, recorder, spec } = this
    if (step.end !== undefined || recorder.sealed) return
    const runtime = recorder.runtime
    step.end = runtime.clock.now()
    if (spec.captureOutput) {
      const output = captureOutput(runtime, spec.mapOutput, value)
      step.output = output.value
      step.bytes += output.bytes
      step.truncated += output.truncated
      step.outputKind = outputKind ?? (value === undefined ? 'undefined' : undefined)
    }
  }

  fail(error: unknown): void {
    const { step, recorder } = this
    if (step.end !== undefined || recorder.sealed) return
    step.end = recorder.runtime.clock.now()
    step.status = 'error'
    step.error = guard('internal', () => captureError(error, recorder.runtime.capture), () => ({ type: 'Unknown', message: '[capture failed]' }))
  }

  retried(attempts: number, failures: ReadonlyArray<FailedAttempt>): void {
    const { step, recorder } = this
    if (recorder.sealed) return
    step.attempts = attempts
    step.attemptErrors = guard('internal', () => failures.map(({ attempt, error }) => ({ attempt, error: captureError(error, recorder.runtime.capture) })), () => [])
  }
}

/** @internal What a root trace records about itself. */
export interface RootSpec {
  readonly header: TraceHeader
  readonly captureInput: boolean
  readonly captureOutput: boolean
  readonly mapInput: ((args: ReadonlyArray<unknown>) => unknown) | undefined
  readonly mapOutput: ((value: unknown) => unknown) | undefined
  /** The caller's span this trace continues, if any. */
  readonly parent?: ParentRef | undefined
}

/** @internal A running root trace: a `Running` whose end seals and enqueues the document. */
export interface RunningRoot extends Running {
  /** Resolves when this trace's document has been written (used by `flushOnReturn`). */
  readonly written: () => Promise<void>
  /** Resolves when this trace's document is in the export queue (used by `queue.whenFull: 'wait'`). */
  readonly admitted: () => Promise<void>
}

/** @internal Opens a root trace with the runtime in force now; that runtime stays with it to the end. */
export function startRoot(runtime: Runtime, spec: RootSpec, args: ReadonlyArray<unknown>, replay?: ReplayHooks): RunningRoot | undefined {
  if (isCapturing()) return undefined
  try {
    return openRoot(runtime, spec, args, replay)
  } catch (error) {
    return internalError(error)
  }
}

// inline try/catch rather than guard(): no closure allocated per traced call
function internalError(error: unknown): undefined {
  return guard('internal', () => { throw error }, () => undefined)
}

function openRoot(runtime: Runtime, spec: RootSpec, args: ReadonlyArray<unknown>, replay: ReplayHooks | undefined): RunningRoot {
  const start = runtime.clock.now()
  const recorder = createRecorder(runtime, spec.header, start, spec.parent)
  recorder.replay = replay
  const input = spec.captureInput ? captureInput(runtime, spec, args) : undefined
  const ctx: TraceContext = { traceId: recorder.traceId, stepId: null, prompt: spec.header.prompt, project: spec.header.project, environment: spec.header.environment, recorder }
  // with queue.whenFull 'wait' and a full queue: settles once the document found room
  let admission: Promise<void> | undefined
  const finish = (status: Status, output: Captured | undefined, outputKind: 'undefined' | 'stream' | undefined, error: unknown, failed: boolean): void => {
    if (recorder.sealed) return
    guard('seal', () => {
      const { doc, bytes } = seal(recorder, {
        end: runtime.clock.now(),
        status,
        input: input?.value,
        output: output?.value,
        outputKind,
        error: failed ? captureError(error, runtime.capture) : null,
        bytes: (input?.bytes ?? 0) + (output?.bytes ?? 0),
        truncated: (input?.truncated ?? 0) + (output?.truncated ?? 0),
      })
      // configure() retired this trace's setup while it ran: deliver through the one in force now
      const queue = runtime.shutDown && runtime !== getRuntime() ? getRuntime().queue : runtime.queue
      admission = queue.enqueue(doc, bytes)
      recorder.replay?.sealed(doc)
    }, () => undefined)
  }
  return {
    ctx,
    succeed: (value, outputKind) => guard('seal', () => {
      const output = spec.captureOutput ? captureOutput(runtime, spec.mapOutput, value) : undefined
      finish('success', output, spec.captureOutput ? (outputKind ?? (value === undefined ? 'undefined' : undefined)) : undefined, undefined, false)
    }, () => undefined),
    // a failed root has no output: the field is left out rather than recorded as null
    fail: (error) => finish('error', undefined, undefined, error, true),
    retried: () => undefined,
    written: async () => {
      await runtime.queue.flush(undefined, { report: false })
    },
    admitted: () => admission ?? Promise.resolve(),
  }
}

function captureInput(runtime: Runtime, spec: { readonly mapInput: ((args: ReadonlyArray<unknown>) => unknown) | undefined; readonly name?: string }, args: ReadonlyArray<unknown>): Captured {
  const mapInput = spec.mapInput
  if (mapInput === undefined) return capture(args, runtime.capture)
  return guard(`mapInput:${spec.name ?? ''}`, () => capture(mapInput(args), runtime.capture), () => ({ value: '[mapInput failed]', bytes: 20, truncated: 1 }))
}

function captureOutput(runtime: Runtime, mapOutput: ((value: unknown) => unknown) | undefined, value: unknown): Captured {
  if (mapOutput === undefined) return capture(value, runtime.capture)
  return guard('mapOutput', () => capture(mapOutput(value), runtime.capture), () => ({ value: '[mapOutput failed]', bytes: 20, truncated: 1 }))
}

/** @internal What an integration learns about an `llm` step while its call runs. */
export interface StepAnnotation {
  readonly model?: string | undefined
  readonly usage?: { readonly inputTokens: number; readonly outputTokens: number } | undefined
  readonly metadata?: { readonly [key: string]: JsonValue } | undefined
}

/**
 * @internal Sets the model, usage and extra metadata of the step `ctx` runs in (used by the vendor
 * integrations, which learn them from the response). A no-op outside a step or once the trace is
 * sealed; never throws.
 */
export function annotateStep(ctx: TraceContext | undefined, annotation: StepAnnotation): void {
  try {
    if (ctx === undefined || ctx.stepId === null || ctx.recorder.sealed) return
    const steps = ctx.recorder.steps
    for (let index = steps.length - 1; index >= 0; index--) {
      const step = steps[index] as OpenStep
      if (step.stepId !== ctx.stepId) continue
      if (annotation.model !== undefined) step.model = annotation.model
      if (annotation.usage !== undefined) step.usage = { inputTokens: annotation.usage.inputTokens, outputTokens: annotation.usage.outputTokens }
      if (annotation.metadata !== undefined) step.metadata = { ...step.metadata, ...annotation.metadata }
      return
    }
  } catch (error) {
    internalError(error)
  }
}
