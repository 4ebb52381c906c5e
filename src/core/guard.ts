/**
 * Never-throw and warn-once: everything tracing does on a user's call path runs through here, so a
 * bug or a hostile value in tracing becomes one warning and a safe default, never an exception.
 */

const MAX_KEYS = 1000
const warned = new Set<string>()
let filterText: (text: string) => string = (text) => text

/** @internal Warnings pass through the redactor, like every other text tracing writes. */
export function setWarningFilter(filter: (text: string) => string): void {
  filterText = filter
}

/**
 * @internal Emits `message` through `process.emitWarning` the first time `key` is seen.
 * Bounded: after 1000 distinct keys further warnings are dropped rather than remembered.
 */
export function warnOnce(key: string, message: string): void {
  if (warned.has(key) || warned.size >= MAX_KEYS) return
  warned.add(key)
  try {
    process.emitWarning(filterText(message), { type: 'TracellmWarning', code: codeOf(key) })
  } catch {
    // a throwing warning listener must not reach the caller either
  }
}

/**
 * @internal Emits `message` every time: for warnings the caller rate-limits itself (a full export
 * queue's running count of drops).
 */
export function warnAlways(key: string, message: string): void {
  try {
    process.emitWarning(filterText(message), { type: 'TracellmWarning', code: codeOf(key) })
  } catch {
    // a throwing warning listener must not reach the caller either
  }
}

/** @internal For tests: forget which warnings were emitted. */
export function resetWarnings(): void {
  warned.clear()
}

/** @internal Runs `thunk`; on a throw, warns once under `key` and returns `fallback()`. */
export function guard<T>(key: string, thunk: () => T, fallback: (error: unknown) => T): T {
  try {
    return thunk()
  } catch (error) {
    warnOnce(key, `tracellm: ${describeKey(key)} failed and was skipped: ${messageOf(error)}`)
    return fallback(error)
  }
}

/** @internal A short, never-throwing description of a thrown value. */
export function messageOf(error: unknown): string {
  try {
    if (error instanceof Error) return `${error.name}: ${error.message}`
    return String(error)
  } catch {
    return 'unprintable error'
  }
}

function describeKey(key: string): string {
  return key.replace(/:.*/, '')
}

function codeOf(key: string): string {
  return `TRACELLM_${key.replace(/:.*/, '').replace(/[^A-Za-z0-9]+/g, '_').toUpperCase()}`
}
