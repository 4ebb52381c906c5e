/**
 * The export queue at process exit (docs/reliability.md#delivery-what-is-never-lost and
 * #exit-bounds-a-dead-backend-never-holds-the-process). A natural exit (`beforeExit`: the program's
 * own work is done) flushes for at most `exitTimeoutMs`; then what can be written synchronously is,
 * the rest is dropped with one warning, and a dead backend's sockets or timers no longer hold the
 * process. `process.exit()` and an uncaught exception run only the synchronous `exit` hook: sinks
 * with `writeSync` write everything not yet written there, and one warning names what the others lost.
 */
import { writeSync } from 'node:fs'

/** @internal What the exit guard needs from the queue. */
export interface ExitHooks {
  readonly exitTimeoutMs: number
  /** When the last trace was handed over (`Date.now()`): the exit budget runs from then. */
  readonly lastEnqueueAt: () => number
  /** True while documents are pending. */
  readonly hasWork: () => boolean
  /** Flushes with no timeout of its own (the guard's deadline bounds it). */
  readonly flush: () => Promise<unknown>
  /** At the deadline: writes what can be written synchronously, drops the rest. `released`: traced calls waiting for room were let go (so the program goes on). */
  readonly expire: () => { readonly lost: ReadonlyArray<LostCount>; readonly released: boolean }
  /** The `exit` hook's work: the same, after `process.exit()`. */
  readonly drainSync: () => void
}

/** @internal How many documents one sink did not get. */
export interface LostCount {
  readonly name: string
  readonly count: number
  /** Documents this sink had dropped before (full queue, refused, retries exhausted), for the same warning. */
  readonly earlier: number
}

/** @internal */
export interface ExitGuard {
  /** Installs the process hooks (once; the first `enqueue` calls it). */
  install(): void
  /** Removes them (shutdown, dispose). */
  remove(): void
  /** Reports, synchronously on stderr, what the `exit` hook could not write. */
  exited(lost: ReadonlyArray<LostCount>): void
}

/** @internal How long after the exit deadline the process may still be held before the guard ends it. */
export const EXIT_GRACE_MS = 100

/** @internal */
export function createExitGuard(hooks: ExitHooks): ExitGuard {
  let state: 'none' | 'installed' | 'removed' = 'none'
  let exiting = false

  const onBeforeExit = (): void => {
    // flushing schedules work, after which beforeExit fires again: only flush when something is pending
    if (exiting || !hooks.hasWork()) return
    exiting = true
    let deadline: ReturnType<typeof setTimeout> | undefined
    if (hooks.exitTimeoutMs !== Infinity) {
      // The budget runs from the last trace, not from now: a sink's socket or timer may have held the
      // event loop (so beforeExit came late) while it failed to write, and that time counts.
      const budget = Math.max(0, hooks.exitTimeoutMs - Math.max(0, Date.now() - hooks.lastEnqueueAt()))
      // ref'd on purpose: this is the one timer that may keep a finished program alive, and it is bounded
      deadline = setTimeout(() => {
        deadline = undefined
        expire()
      }, Math.min(budget, MAX_TIMEOUT))
    }
    void hooks.flush().then(() => {
      if (deadline !== undefined) clearTimeout(deadline)
      exiting = false
    })
  }

  const expire = (): void => {
    let released = false
    try {
      const outcome = hooks.expire()
      released = outcome.released
      warn(outcome.lost, `the exit timeout of ${hooks.exitTimeoutMs} ms (queue.exitTimeoutMs) passed after the last trace ended and the program's own work was done`)
    } catch {
      // never throw from a timer of ours
    }
    exiting = false
    // traced calls were waiting for room and go on now: the program is not done
    if (released) return
    // The program's work had ended (beforeExit fired), so what still holds the event loop now is a
    // sink's socket or timer: end the process, as it would have ended without tracing. Not when
    // someone else listens for beforeExit: that listener may have started work of its own.
    const force = setTimeout(() => {
      if (process.listenerCount('beforeExit') > (state === 'installed' ? 1 : 0)) return
      process.exit()
    }, EXIT_GRACE_MS)
    force.unref()
  }

  const onExit = (): void => {
    hooks.drainSync()
  }

  return {
    install: () => {
      if (state !== 'none') return
      state = 'installed'
      process.on('beforeExit', onBeforeExit)
      process.on('exit', onExit)
    },
    remove: () => {
      if (state === 'installed') {
        process.removeListener('beforeExit', onBeforeExit)
        process.removeListener('exit', onExit)
      }
      state = 'removed'
    },
    exited: (lost) => warn(lost, 'the process exited before they were written (process.exit() and an uncaught exception skip asynchronous writes: await shutdown() first)'),
  }
}

const MAX_TIMEOUT = 2_147_483_647

/**
 * One warning, written synchronously: at exit, `process.emitWarning` would print on a later tick
 * that never comes.
 */
function warn(lost: ReadonlyArray<LostCount>, why: string): void {
  const total = lost.reduce((sum, item) => sum + item.count, 0)
  if (total === 0) return
  const perSink = lost.map((item) => `${item.count} to sink "${item.name}"` + (item.earlier > 0 ? `, which had dropped ${item.earlier} before` : '')).join('; ')
  const text = `(node:${process.pid}) TracellmWarning: tracellm: ${total} trace(s) were not written (${perSink}): ${why}.\n`
  try {
    writeSync(2, text)
  } catch {
    // stderr closed: nothing left to tell
  }
}
