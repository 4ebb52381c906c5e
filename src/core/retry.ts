/**
 * Tool retries, on p-retry. Attempt 1 has already run when this is called (a synchronous tool stays
 * synchronous until it must wait), so it is replayed from its recorded failure.
 * p-retry only sees our own carrier errors: it would otherwise replace a thrown non-Error with a
 * TypeError, and the caller must get back the very value the tool threw.
 */
import pRetry, { AbortError } from 'p-retry'

/** @internal */
export interface RetryPolicy {
  readonly maxRetries: number
  readonly minTimeout: number
  readonly factor: number
  readonly maxTimeout: number
  readonly maxRetryTime: number
}

/** @internal How a retried call ended: the value of the successful attempt, or the last failure. */
export type RetryOutcome = { readonly ok: true; readonly value: unknown } | { readonly ok: false; readonly failure: unknown }

class AttemptFailed extends Error {
  constructor(readonly failure: unknown) {
    super('attempt failed')
  }
}

/**
 * @internal Runs attempts 2 … maxRetries+1 after `firstFailure`, waiting minTimeout·factor^k between
 * them. The caller has already judged `firstFailure` retryable. `attempt(n)` throws (or rejects with)
 * the failure of attempt n; `shouldRetry(failure, n)` is asked after each later failure. Never rejects.
 */
export async function retryAfterFirst(
  firstFailure: unknown,
  attempt: (attemptNumber: number) => unknown,
  policy: RetryPolicy,
  shouldRetry: (failure: unknown, attemptNumber: number) => boolean,
): Promise<RetryOutcome> {
  let last: unknown = firstFailure
  try {
    const value = await pRetry(
      async (attemptNumber) => {
        if (attemptNumber === 1) throw new AttemptFailed(firstFailure)
        try {
          return await attempt(attemptNumber)
        } catch (failure) {
          last = failure
          throw new AttemptFailed(failure)
        }
      },
      {
        retries: policy.maxRetries,
        minTimeout: policy.minTimeout,
        factor: policy.factor,
        maxTimeout: policy.maxTimeout,
        maxRetryTime: policy.maxRetryTime,
        randomize: false,
        shouldRetry: ({ error, attemptNumber }) => {
          // attempt 1 was judged by the caller before going asynchronous
          if (attemptNumber === 1) return true
          const failure = error instanceof AttemptFailed ? error.failure : error
          return !isAbortError(failure) && shouldRetry(failure, attemptNumber)
        },
      },
    )
    return { ok: true, value }
  } catch (error) {
    return { ok: false, failure: error instanceof AttemptFailed ? error.failure : last }
  }
}

/**
 * @internal p-retry's `AbortError`, or any error named "AbortError" (a fetch or an AbortSignal that was
 * aborted: the caller gave up, so trying again would work against it), stops retrying at once.
 */
export function isAbortError(error: unknown): boolean {
  if (error instanceof AbortError) return true
  try {
    return typeof error === 'object' && error !== null && (error as { name?: unknown }).name === 'AbortError'
  } catch {
    return false
  }
}
