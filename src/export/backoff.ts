/**
 * How the export queue reads a failed write and waits before the next attempt (docs/export.md):
 * the sink's hints (`retryable`, `retryAfterMs`), exponential backoff with jitter, and safe
 * descriptions of whatever a sink threw.
 */
import type { QueueOptions } from './options.js'

/**
 * What a failed `write` says about retrying: an error with `retryable: false` is not retried, and one
 * with a finite `retryAfterMs` is not retried sooner. Read defensively: the error is the sink's.
 * @internal
 */
export function retryHint(error: unknown): { readonly retryable: boolean; readonly afterMs: number } {
  try {
    const { retryable, retryAfterMs } = error as { retryable?: unknown; retryAfterMs?: unknown }
    const afterMs = typeof retryAfterMs === 'number' && Number.isFinite(retryAfterMs) && retryAfterMs > 0 ? retryAfterMs : 0
    return { retryable: retryable !== false, afterMs }
  } catch {
    return { retryable: true, afterMs: 0 }
  }
}

/** @internal */
export function backoff(retry: QueueOptions['retry'], retries: number): number {
  const base = Math.min(retry.initialDelayMs * retry.multiplier ** retries, retry.maxDelayMs)
  return Math.max(0, base * (1 + retry.jitter * (2 * Math.random() - 1)))
}

/** @internal */
export function toTimeout(value: number | undefined, fallback: number): number {
  return typeof value === 'number' && value >= 0 ? value : fallback
}

/** @internal */
export function toError(reason: unknown): Error {
  if (reason instanceof Error) return reason
  return new Error(`Sink failed with a non-Error value: ${describe(reason)}`, { cause: reason })
}

/** @internal */
export function messageOf(error: unknown): string {
  try {
    return error instanceof Error ? `${error.name}: ${error.message}` : describe(error)
  } catch {
    return 'unprintable error'
  }
}

/** @internal */
export function describe(value: unknown): string {
  try {
    const text = typeof value === 'string' ? JSON.stringify(value) : String(value)
    return text.length > 200 ? `${text.slice(0, 200)}…` : text
  } catch {
    return 'unprintable value'
  }
}

