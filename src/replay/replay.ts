/**
 * Replay: run a traced pipeline again with every `traceTool` call answered from a recorded trace,
 * so a production failure can be reproduced offline, without side effects, and compared step by step.
 */
import { isDeepStrictEqual } from 'node:util'
import { runReplaying, type ReplayHooks, type TraceContext } from '../core/context.js'
import { capture } from '../serialization/capture.js'
import type { AnyFunction } from '../combinators/options.js'
import type { ErrorRecord, JsonValue, StepRecord, TraceDocument } from '../document/document.js'
import { diffTraces, type TraceDiff } from './diff.js'

/** Options of `replay()`. @category replay */
export interface ReplayOptions<A extends ReadonlyArray<unknown> = ReadonlyArray<unknown>> {
  /** The arguments to call `fn` with. @default the recorded trace's `input` (its argument list) */
  readonly args?: A
  /**
   * `"recorded"`: every `traceTool` call is answered from the record. `"partial"`: only the tools named
   * in `tools` are; the others run for real.
   * @default "recorded"
   */
  readonly mode?: 'recorded' | 'partial'
  /** With `mode: "partial"`, the tools answered from the record. */
  readonly tools?: ReadonlyArray<string>
  /** Also require each call's input to equal the recorded input (after capture); a difference is a mismatch. @default false */
  readonly matchInput?: boolean
}

/** What a replay did. @category replay */
export interface ReplayResult<R> {
  /** True when `fn` returned (or resolved) rather than threw. */
  readonly ok: boolean
  /** What `fn` returned (awaited), when `ok`. */
  readonly value?: R
  /** What `fn` threw, when not `ok`. */
  readonly error?: unknown
  /** The replay's own trace document (it carries `replayOf`), also written to the configured sinks. */
  readonly doc: TraceDocument
  /** Calls the record could not answer, in the order they happened. */
  readonly mismatches: ReadonlyArray<ReplayMismatchError>
  /** Recorded tool calls the replay never made: `{ name, position }` (position 0-based among calls of that tool). */
  readonly unused: ReadonlyArray<{ readonly name: string; readonly position: number }>
  /**
   * The recorded trace compared with the replay (`diffTraces(recorded, replayed)`). The calls a
   * recorded tool made inside itself are left out of the recorded side when that tool was answered
   * from the record: its body, and so those calls, did not run.
   */
  readonly diff: TraceDiff
}

/**
 * Thrown into a replayed pipeline when a tool call has no recorded answer: a tool the record does
 * not have, more calls than were recorded, or (with `matchInput`) a different input. It names the
 * tool, its position among that tool's calls and what the record expected.
 * @category errors
 */
export class ReplayMismatchError extends Error {
  override readonly name = 'ReplayMismatchError'
  constructor(
    /** The tool's name. */
    readonly tool: string,
    /** 0-based position among the calls of this tool. */
    readonly position: number,
    /** What the record held for this call. */
    readonly expected: string,
    /** What the replay did instead. */
    readonly actual: string,
  ) {
    super(`Replay mismatch at ${tool} call #${position + 1}: expected ${expected}, got ${actual}.`)
  }
}

/**
 * An error of a recorded step, thrown again by a replay: same `name` (the recorded type), `message`,
 * `code` and `stack`, but not the original class. A replay throws an instance of a subclass named
 * after the recorded type, so the replay records the same `type` as the original run (and a replayed
 * failure is equal to its record in `diffTraces`); `instanceof ReplayedError` holds.
 * @category errors
 */
export class ReplayedError extends Error {
  readonly code?: JsonValue
  constructor(record: ErrorRecord) {
    super(record.message)
    Object.defineProperty(this, 'name', { value: record.type, enumerable: false, writable: true, configurable: true })
    if (record.code !== undefined) this.code = record.code
    if (record.stack !== undefined) this.stack = record.stack
  }
}

/**
 * Runs `fn` (a `trace`-wrapped pipeline, or a function that calls one) again with every
 * `traceTool` call answered from `doc`'s steps, matched by tool name and occurrence order, without
 * running the tool bodies. Recorded errors are thrown again (or returned as a `Left` by
 * `traceToolTE`), recorded retries replay without waiting, recorded streams replay chunk by chunk.
 * A call the record cannot answer throws a `ReplayMismatchError` into the pipeline. The replay is
 * traced like any call and its document carries `replayOf`. Never rejects because of the pipeline:
 * its outcome is in the result. Rejects when `fn` starts no trace.
 *
 * @example
 * import { configure, memorySink, replay, trace, traceTool, type TraceDocument } from 'tracellm'
 * configure({ sinks: [memorySink()] })
 * let calls = 0
 * const search = traceTool({ name: 'search' })(async (q: string) => { calls++; return [`live ${q}`] })
 * const answer = trace({ prompt: 'answer' })(async (q: string) => (await search(q)).join())
 * const recorded = {
 *   schemaVersion: 1, traceId: '0af7651916cd43dd8448eb211c80319c', prompt: 'answer', project: 'p', environment: 'e',
 *   tags: [], metadata: {}, status: 'success', startedAt: '2026-11-24T10:00:00.000Z', endedAt: '2026-11-24T10:00:00.010Z',
 *   durationMs: 10, input: ['RAG'], output: 'recorded RAG', error: null, retryCount: 0, usage: { inputTokens: 0, outputTokens: 0 },
 *   steps: [{ stepId: '00f067aa0ba902b7', parentStepId: null, seq: 0, name: 'search', kind: 'tool', status: 'success',
 *     startedAt: '2026-11-24T10:00:00.001Z', endedAt: '2026-11-24T10:00:00.009Z', durationMs: 8, input: ['RAG'],
 *     output: ['recorded RAG'], error: null, attempts: 1, retries: 0, attemptErrors: [], metadata: {} }],
 *   sdk: { name: 'tracellm', version: '0.1.0' },
 * } as unknown as TraceDocument
 * const result = await replay(recorded, answer)
 * result.value   // => 'recorded RAG'
 * calls          // => 0
 *
 * @category replay
 * @since 0.1.0
 */
export async function replay<F extends AnyFunction>(doc: TraceDocument, fn: F, options: ReplayOptions<Parameters<F>> = {}): Promise<ReplayResult<Awaited<ReturnType<F>>>> {
  const settings = checkOptions(doc, fn, options)
  const session = createSession(doc, settings)
  let ok = true
  let value: unknown
  let error: unknown
  try {
    value = await runReplaying(session.hooks, () => fn(...settings.args))
  } catch (thrown) {
    ok = false
    error = thrown
  }
  const replayed = session.doc()
  if (replayed === undefined) {
    throw new Error('replay(): the function started no trace. Pass the trace-wrapped pipeline (or a function that calls it), and call replay() outside any other trace.')
  }
  return {
    ok,
    ...(ok ? { value: value as Awaited<ReturnType<F>> } : { error }),
    doc: replayed,
    mismatches: session.mismatches,
    unused: session.unused(),
    diff: diffTraces(session.expected(), replayed),
  }
}

// ---------------------------------------------------------------------------------------------------

interface Settings {
  readonly args: ReadonlyArray<unknown>
  readonly live: (name: string) => boolean
  readonly matchInput: boolean
}

interface Session {
  readonly hooks: ReplayHooks
  readonly mismatches: ReplayMismatchError[]
  doc(): TraceDocument | undefined
  /** The recorded document without the calls made inside answered tools (what the replay can match). */
  expected(): TraceDocument
  unused(): Array<{ readonly name: string; readonly position: number }>
}

const OPTION_KEYS = new Set(['args', 'mode', 'tools', 'matchInput'])

function checkOptions(doc: TraceDocument, fn: unknown, options: ReplayOptions): Settings {
  if (typeof doc !== 'object' || doc === null || !Array.isArray(doc.steps)) throw new TypeError('Expected a trace document (read one with openStore().get() or fromWire()).')
  if (doc.schemaVersion !== 1) throw new TypeError(`Expected a document of schema version 1, got ${JSON.stringify(doc.schemaVersion)}.`)
  if (typeof fn !== 'function') throw new TypeError('Expected the pipeline to replay to be a function.')
  if (typeof options !== 'object' || options === null) throw new TypeError('Expected `replay` options to be an object.')
  for (const key of Object.keys(options)) {
    if (!OPTION_KEYS.has(key)) throw new TypeError(`Unknown \`replay\` option \`${key}\`.`)
  }
  const mode = options.mode ?? 'recorded'
  if (mode !== 'recorded' && mode !== 'partial') throw new TypeError(`Expected \`mode\` to be "recorded" or "partial", got ${JSON.stringify(mode)}.`)
  const tools = options.tools ?? []
  if (!Array.isArray(tools) || !tools.every((tool) => typeof tool === 'string')) throw new TypeError('Expected `tools` to be an array of tool names.')
  if (mode === 'partial' && tools.length === 0) throw new TypeError('Expected `tools` to name the tools answered from the record in `mode: "partial"`.')
  if (mode === 'recorded' && tools.length > 0) throw new TypeError('`tools` only applies with `mode: "partial"`.')
  const args = options.args ?? doc.input
  if (!Array.isArray(args)) {
    throw new TypeError('Expected `args`: the recorded trace has no argument list to replay with (it was recorded with captureInput: false or mapInput).')
  }
  const answered = new Set(tools)
  return { args, live: mode === 'partial' ? (name) => !answered.has(name) : () => false, matchInput: options.matchInput === true }
}

function createSession(doc: TraceDocument, settings: Settings): Session {
  // the recorded calls of each tool, in start order; nested traces are orchestration and run again
  const recorded = new Map<string, StepRecord[]>()
  for (const step of [...doc.steps].sort((a, b) => a.seq - b.seq)) {
    if (step.kind === 'trace') continue
    const list = recorded.get(step.name)
    if (list === undefined) recorded.set(step.name, [step])
    else list.push(step)
  }
  const children = new Map<string, StepRecord[]>()
  for (const step of doc.steps) {
    if (step.parentStepId === null) continue
    const list = children.get(step.parentStepId)
    if (list === undefined) children.set(step.parentStepId, [step])
    else list.push(step)
  }
  // the recorded calls made inside an answered tool: its body does not run, so neither do they
  const covered = new Set<string>()
  const cover = (step: StepRecord): void => {
    const stack = [...(children.get(step.stepId) ?? [])]
    while (stack.length > 0) {
      const child = stack.pop() as StepRecord
      if (covered.has(child.stepId)) continue
      covered.add(child.stepId)
      stack.push(...(children.get(child.stepId) ?? []))
    }
  }
  /** The next recorded call of `name` not covered by an answered tool, from `cursor` on. */
  const nextOf = (list: ReadonlyArray<StepRecord>, cursor: number): number => {
    while (cursor < list.length && covered.has((list[cursor] as StepRecord).stepId)) cursor++
    return cursor
  }
  const calls = new Map<string, number>()
  const mismatches: ReplayMismatchError[] = []
  let claimed = false
  let replayed: TraceDocument | undefined

  const mismatch = (error: ReplayMismatchError, returnsEither: boolean, isAsync: boolean): ((ctx: TraceContext | undefined) => unknown) => {
    mismatches.push(error)
    return () => failWith(error, returnsEither, isAsync)
  }

  const hooks: ReplayHooks = {
    of: doc.traceId,
    claim: () => {
      if (claimed) return false
      claimed = true
      return true
    },
    answer: (name, args, returnsEither, isAsync) => {
      if (settings.live(name)) return undefined
      const list = recorded.get(name)
      const index = nextOf(list ?? [], calls.get(name) ?? 0)
      calls.set(name, index + 1)
      const step = list?.[index]
      if (step === undefined) {
        const expected = list === undefined ? 'no call of this tool' : `${list.length} call(s) of this tool`
        return mismatch(new ReplayMismatchError(name, index, expected, `call #${index + 1}`), returnsEither, isAsync)
      }
      cover(step)
      if (settings.matchInput && step.input !== undefined) {
        const input = capture(args).value
        if (!isDeepStrictEqual(input, step.input)) {
          return mismatch(new ReplayMismatchError(name, index, `input ${abbreviate(step.input)}`, `input ${abbreviate(input)}`), returnsEither, isAsync)
        }
      }
      return answerFrom(step, returnsEither, isAsync)
    },
    sealed: (sealedDoc) => {
      replayed = sealedDoc
    },
    // an SDK call: answered as an async tool is, and handed the step it was matched to, from which
    // the integration rebuilds the SDK's response
    recordedCall: (name, args) => {
      const before = mismatches.length
      const run = hooks.answer(name, args, false, true)
      if (run === undefined) return undefined
      const step = mismatches.length === before ? recorded.get(name)?.[(calls.get(name) ?? 0) - 1] : undefined
      return { step, run }
    },
  }

  return {
    hooks,
    mismatches,
    doc: () => replayed,
    expected: () => (covered.size === 0 ? doc : { ...doc, steps: doc.steps.filter((step) => !covered.has(step.stepId)) }),
    unused: () => {
      const out: Array<{ readonly name: string; readonly position: number }> = []
      for (const [name, list] of recorded) {
        if (settings.live(name)) continue
        for (let position = nextOf(list, calls.get(name) ?? 0); position < list.length; position = nextOf(list, position + 1)) out.push({ name, position })
      }
      return out
    },
  }
}

/** The stand-in for one call: each attempt replays the recorded attempt's outcome. */
function answerFrom(step: StepRecord, returnsEither: boolean, isAsync: boolean): (ctx: TraceContext | undefined) => unknown {
  let attempt = 0
  return () => {
    attempt++
    if (attempt < step.attempts) {
      const failed = step.attemptErrors.find((entry) => entry.attempt === attempt)
      return failWith(toThrown(failed?.error ?? { type: 'Error', message: `attempt ${attempt} failed` }), returnsEither, isAsync)
    }
    if (step.status === 'error') return failWith(toThrown(step.error ?? { type: 'Error', message: 'recorded failure' }), returnsEither, isAsync)
    const value = step.outputKind === 'undefined' ? undefined : step.outputKind === 'stream' ? chunks(step.output) : step.output
    if (returnsEither) return Promise.resolve({ _tag: 'Right', right: value })
    return isAsync && step.outputKind !== 'stream' ? Promise.resolve(value) : value
  }
}

function failWith(error: unknown, returnsEither: boolean, isAsync: boolean): unknown {
  if (returnsEither) return Promise.resolve({ _tag: 'Left', left: error })
  if (isAsync) return Promise.reject(error)
  throw error
}

/** A recorded error as a throwable value: a thrown non-Error comes back as its recorded value. */
function toThrown(record: ErrorRecord): unknown {
  if (record.type === 'NonError' && record.value !== undefined) return record.value
  return new (replayedClass(record.type))(record)
}

/**
 * A `ReplayedError` subclass named `type`. Capture records an error whose `name` is "Error" under its
 * class name (a `class TimeoutError extends Error` keeps the inherited name), so a plain
 * `ReplayedError` of a recorded "Error" would be recorded as "ReplayedError", a change the diff reports.
 * Replayed errors are rare, so a class per error is cheaper than a cache to bound.
 */
function replayedClass(type: unknown): typeof ReplayedError {
  const named = class extends ReplayedError {}
  Object.defineProperty(named, 'name', { value: typeof type === 'string' && type !== '' ? type : 'Error' })
  return named
}

/** A recorded stream (its chunks) as an async iterable yielding them one by one. */
async function* chunks(output: JsonValue | undefined): AsyncGenerator<JsonValue> {
  if (!Array.isArray(output)) return
  for (const chunk of output as ReadonlyArray<JsonValue>) yield chunk
}

function abbreviate(value: unknown): string {
  let text: string
  try {
    text = JSON.stringify(value) ?? String(value)
  } catch {
    text = String(value)
  }
  return text.length > 80 ? `${text.slice(0, 79)}…` : text
}
