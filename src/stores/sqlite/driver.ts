/**
 * better-sqlite3, the SQLite driver: loaded on first use (it is native, so `import 'tracellm'` works
 * where it cannot load), in this file only; the worker threads load the file `driverPath()` names.
 * Plus what every connection of the store shares: checked PRAGMAs, the lock's timings and errors,
 * and the store's one warning channel.
 */
import { createRequire } from 'node:module'
import { performance } from 'node:perf_hooks'
import { setTimeout as sleep } from 'node:timers/promises'
import type BetterSqlite3 from 'better-sqlite3'

/** @internal The wait for a held lock of a store's reads, and the default of a sink's writes. */
export const DEFAULT_BUSY_TIMEOUT_MS = 5000
/**
 * @internal `busy_timeout` of a sink's connection: the longest one try for a held write lock blocks the event
 * loop. SQLite's busy handler sleeps 1, 2, then 1 ms; then the write sleeps on a timer and tries
 * again (docs/reliability.md#sqlite-a-held-lock-never-freezes-the-event-loop).
 */
export const LOCK_PROBE_MS = 4
/** Timer waits between tries for the lock: 5 ms, doubling up to 100 ms. */
const LOCK_WAIT_FIRST_MS = 5
const LOCK_WAIT_MAX_MS = 100

let driver: typeof BetterSqlite3 | undefined

/** @internal better-sqlite3 is native: loaded on first use, so `import 'tracellm'` works where it cannot load. */
export function loadDriver(): typeof BetterSqlite3 {
  driver ??= createRequire(import.meta.url)('better-sqlite3') as typeof BetterSqlite3
  return driver
}

/** @internal The file a worker thread loads the driver from. */
export function driverPath(): string {
  return createRequire(import.meta.url).resolve('better-sqlite3')
}

/** @internal Waits between tries for a held lock, on unref'd timers, until a deadline. */
export interface LockWaiter {
  /** Sleeps before the next try; resolves false (at once) when the deadline has passed. */
  wait(): Promise<boolean>
}

/** @internal `onFirstWait` runs when the first wait starts: the write is then stalled behind another connection. */
export function lockWaiter(deadline: number, onFirstWait: () => void): LockWaiter {
  let waits = 0
  return {
    wait: async () => {
      const left = deadline - performance.now()
      if (left <= 0) return false
      if (waits === 0) onFirstWait()
      const ms = Math.min(left, LOCK_WAIT_FIRST_MS * 2 ** Math.min(waits, 10), LOCK_WAIT_MAX_MS)
      waits++
      // unref'd: a lock held by another process never keeps this one alive (the exit hook writes instead)
      await sleep(ms, undefined, { ref: false })
      return true
    },
  }
}

/** @internal SQLITE_BUSY and its extended codes (SQLITE_BUSY_SNAPSHOT, SQLITE_BUSY_RECOVERY, SQLITE_BUSY_TIMEOUT). */
export function isBusy(error: unknown): boolean {
  try {
    const code = (error as { code?: unknown } | null)?.code
    return typeof code === 'string' && code.startsWith('SQLITE_BUSY')
  } catch {
    return false
  }
}

/** @internal PRAGMA values cannot be bound parameters: only a checked integer is ever written into one. */
export function setPragma(db: BetterSqlite3.Database, name: 'busy_timeout' | 'max_page_count' | 'user_version' | 'wal_autocheckpoint', value: number): void {
  if (!Number.isSafeInteger(value) || value < 0) throw new TypeError('Expected PRAGMA ' + name + ' to be a non-negative integer.')
  db.pragma(name + ' = ' + String(value))
}

/** @internal A warning of the SQLite store: one `process.emitWarning`, never a throw. */
export function warn(message: string, code = 'TRACELLM_SQLITE_UNAVAILABLE'): void {
  try {
    process.emitWarning(message, { type: 'TracellmWarning', code })
  } catch {
    // a throwing warning listener must not reach the program
  }
}

/** @internal The message of anything thrown. */
export function describe(error: unknown): string {
  try {
    return error instanceof Error ? error.message : String(error)
  } catch {
    return 'unknown error'
  }
}
