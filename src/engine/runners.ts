/**
 * The decisions every producer of steps (`trace`, `traceTool`, `tracellm/fp`, the SDK integrations)
 * takes the same way before its call runs: what a call made outside any trace does (the orphan
 * policy), and how a new root trace opens (a replay waiting for it, the caller it continues, the
 * runtime in force). The producers differ only in how they run the call itself.
 */
import { getRuntime } from '../core/runtime.js'
import { isSuppressed, pending, type ParentRef } from '../core/context.js'
import { warnOnce } from '../core/guard.js'
import { activeSpanParent, parentFromHeaders, type ParentHeaders } from '../core/propagation.js'
import { startRoot, type RunningRoot } from '../core/run.js'
import type { JsonValue } from '../document/document.js'

/**
 * @internal Where a call made outside any trace goes. `'untraced'`: tracing is suppressed here (a sink
 * writing), so the call runs as it is. `'trace'`: with `configure({ orphanSteps: 'trace' })`, the call is
 * the one step of a trace of its own. `'unrecorded'`: the call runs unrecorded.
 */
export type OrphanRoute = 'untraced' | 'trace' | 'unrecorded'

/**
 * @internal The orphan policy for one call with no enclosing trace. On the way to `'unrecorded'`, the
 * first call per `key` warns once, naming `what` was called (`traceTool "search"`,
 * `openai.chat.completions.create`) and how to have it recorded.
 */
export function orphanRoute(key: string, what: string): OrphanRoute {
  if (isSuppressed()) return 'untraced'
  const runtime = getRuntime()
  if (runtime.orphanSteps === 'trace' && !runtime.shutDown) return 'trace'
  warnOnce(`orphan:${key}`, `tracellm: ${what} was called outside any trace, so the call was not recorded. Wrap the function that calls it in trace(...), or configure({ orphanSteps: 'trace' }) to record such calls as traces of their own.`)
  return 'unrecorded'
}

/** @internal What a new root trace records about itself (`trace`'s resolved options). */
export interface RootOptions {
  readonly modelName: string | undefined
  readonly project: string | undefined
  readonly environment: string | undefined
  readonly tags: ReadonlyArray<string>
  readonly metadata: { readonly [key: string]: JsonValue }
  readonly captureInput: boolean
  readonly captureOutput: boolean
  readonly mapInput: ((args: ReadonlyArray<unknown>) => unknown) | undefined
  readonly mapOutput: ((value: unknown) => unknown) | undefined
  readonly parent: ParentHeaders | undefined
}

/** @internal A root trace that has started, and what its caller waits for once it ended. */
export interface OpenedRoot {
  readonly running: RunningRoot
  /** Serverless `flushOnReturn`, or a full queue that makes callers wait: awaited before the result is handed back. */
  readonly afterEnd: (() => Promise<void>) | undefined
}

/**
 * @internal Starts a new trace document named `prompt` with the runtime in force now. Under `replay()`,
 * the first root started there is the replay. Undefined when nothing is to be recorded (after
 * `shutdown()`, which warns once, or while capture reads a getter): the call then runs unrecorded.
 */
export function openRoot(options: RootOptions, prompt: string, args: ReadonlyArray<unknown>): OpenedRoot | undefined {
  const runtime = getRuntime()
  if (runtime.shutDown) {
    warnOnce('after-shutdown', 'tracellm: a trace started after shutdown(); the function ran but nothing was recorded.')
    return undefined
  }
  // one read of the storage for both: usually there is nothing waiting
  const waiting = pending()
  const replay = waiting?.replay
  const claimed = replay !== undefined && replay.claim() ? replay : undefined
  // a replay continues no caller: it is a run of its own
  const parent = claimed === undefined ? parentOf(options, waiting?.parent) : undefined
  const running = startRoot(runtime, {
    header: {
      prompt,
      modelName: options.modelName,
      project: options.project ?? runtime.project,
      environment: options.environment ?? runtime.environment,
      tags: options.tags,
      metadata: options.metadata,
    },
    captureInput: options.captureInput,
    captureOutput: options.captureOutput,
    mapInput: options.mapInput,
    mapOutput: options.mapOutput,
    parent,
  }, args, claimed)
  if (running === undefined) return undefined
  const afterEnd = runtime.flushOnReturn ? running.written : runtime.queue.waits === true ? running.admitted : undefined
  return { running, afterEnd }
}

/** The caller a new root trace continues: `trace({ parent })`, else `continueTrace`, else the active OpenTelemetry span. */
function parentOf(options: RootOptions, continued: ParentRef | undefined): ParentRef | undefined {
  const explicit = options.parent === undefined ? undefined : parentFromHeaders(options.parent)
  return explicit ?? continued ?? activeSpanParent()
}
