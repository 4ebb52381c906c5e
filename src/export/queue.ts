// CONTRACT STUB — to be implemented (see helper brief). Signatures are fixed; core depends on them.
import type { TraceDocument } from '../document/document.js'

/** Where finished documents go. `write` gets a frozen batch and must not mutate it. @category sinks */
export interface Sink {
  readonly name: string
  write(batch: ReadonlyArray<TraceDocument>): Promise<void> | void
  flush?(): Promise<void> | void
  close?(): Promise<void> | void
}

export interface QueueOptions {
  readonly maxQueueTraces: number
  readonly maxQueueBytes: number
  readonly maxBatchSize: number
  readonly scheduleDelayMs: number
  readonly attemptTimeoutMs: number
  readonly flushTimeoutMs: number
  readonly retry: {
    readonly initialDelayMs: number
    readonly multiplier: number
    readonly maxDelayMs: number
    readonly jitter: number
    readonly maxRetries: number
    readonly deadlineMs: number
  }
}

export interface FlushReport {
  readonly flushed: number
  readonly dropped: number
  readonly timedOut: boolean
}

export interface QueueStats {
  readonly queued: number
  readonly written: number
  readonly dropped: number
  readonly failedAttempts: number
}

export interface QueueHooks {
  readonly report: (key: string, message: string) => void
  readonly runSuppressed: <T>(thunk: () => T) => T
}

export interface ExportQueue {
  enqueue(doc: TraceDocument, bytes: number): void
  flush(timeoutMs?: number): Promise<FlushReport>
  shutdown(timeoutMs?: number): Promise<FlushReport>
  stats(): QueueStats
}

export const defaultQueueOptions: QueueOptions = Object.freeze({
  maxQueueTraces: 1000,
  maxQueueBytes: 64 * 1024 * 1024,
  maxBatchSize: 100,
  scheduleDelayMs: 200,
  attemptTimeoutMs: 10_000,
  flushTimeoutMs: 5_000,
  retry: Object.freeze({ initialDelayMs: 1000, multiplier: 1.5, maxDelayMs: 5000, jitter: 0.2, maxRetries: 5, deadlineMs: 30_000 }),
})

export function createExportQueue(sinks: ReadonlyArray<Sink>, options: QueueOptions, hooks: QueueHooks): ExportQueue {
  const written: TraceDocument[] = []
  void options
  return {
    enqueue: (doc) => { written.push(doc); hooks.runSuppressed(() => { for (const s of sinks) void s.write([doc]) }) },
    flush: async () => ({ flushed: 0, dropped: 0, timedOut: false }),
    shutdown: async () => ({ flushed: 0, dropped: 0, timedOut: false }),
    stats: () => ({ queued: 0, written: written.length, dropped: 0, failedAttempts: 0 }),
  }
}
