// Shared by the queue tests: options, recording hooks, scripted sinks, queue cleanup.
import { afterEach } from '@jest/globals'
import type { TraceDocument } from '../../src/document/document.js'
import { createExportQueue, defaultQueueOptions, type ExportQueue, type QueueHooks, type QueueOptions, type Sink } from '../../src/export/queue.js'

export const realSetImmediate = setImmediate   // captured before any test installs fake timers

/** Lets pending promise jobs and rejection tracking run, whatever the timers. */
export function settle(): Promise<void> {
  return new Promise((resolve) => realSetImmediate(resolve))
}

type Retry = QueueOptions['retry']

/** The defaults, without jitter (so waits are exact), with `overrides`. */
export function options(overrides: Partial<Omit<QueueOptions, 'retry'>> & { readonly retry?: Partial<Retry> } = {}): QueueOptions {
  return {
    ...defaultQueueOptions,
    ...overrides,
    retry: { ...defaultQueueOptions.retry, jitter: 0, ...overrides.retry },
  }
}

export interface RecordingHooks {
  readonly hooks: QueueHooks
  readonly reports: Array<{ readonly key: string; readonly message: string }>
  /** How many sink calls are running inside runSuppressed right now. */
  readonly depth: () => number
  readonly keys: () => string[]
}

export function recordingHooks(): RecordingHooks {
  const reports: Array<{ key: string; message: string }> = []
  let depth = 0
  return {
    reports,
    depth: () => depth,
    keys: () => reports.map((report) => report.key),
    hooks: {
      report: (key, message) => {
        reports.push({ key, message })
      },
      runSuppressed: <T>(thunk: () => T): T => {
        depth++
        try {
          return thunk()
        } finally {
          depth--
        }
      },
    },
  }
}

const created: Array<Required<ExportQueue>> = []

/** createExportQueue, disposed after the test. */
export function makeQueue(sinks: ReadonlyArray<Sink>, queueOptions: QueueOptions = options(), hooks: QueueHooks = recordingHooks().hooks): Required<ExportQueue> {
  const queue = createExportQueue(sinks, queueOptions, hooks)
  created.push(queue)
  return queue
}

afterEach(() => {
  for (const queue of created.splice(0)) queue.dispose()
})

export interface ScriptedSink extends Sink {
  /** Every batch handed to write, in call order. */
  readonly calls: Array<ReadonlyArray<TraceDocument>>
  /** Date.now() of each write call. */
  readonly times: number[]
  /** Documents of the writes that succeeded. */
  readonly written: TraceDocument[]
}

/**
 * A sink whose n-th write does what `behaviour(n)` says: 'ok', 'throw' (synchronously), 'reject',
 * 'reject-1' (a non-Error reason), 'hang' (never settles).
 */
export function scriptedSink(name: string, behaviour: (call: number) => 'ok' | 'throw' | 'reject' | 'reject-1' | 'hang'): ScriptedSink {
  const calls: Array<ReadonlyArray<TraceDocument>> = []
  const times: number[] = []
  const written: TraceDocument[] = []
  return {
    name,
    calls,
    times,
    written,
    write: (batch) => {
      calls.push(batch)
      times.push(Date.now())
      switch (behaviour(calls.length)) {
        case 'ok':
          written.push(...batch)
          return Promise.resolve()
        case 'throw':
          throw new Error(`${name} threw`)
        case 'reject':
          return Promise.reject(new Error(`${name} rejected`))
        case 'reject-1':
          // eslint-disable-next-line prefer-promise-reject-errors
          return Promise.reject(1)
        case 'hang':
          return new Promise<void>(() => undefined)
      }
    },
  }
}

/** A sink whose writes wait until `release()` is called. */
export function gatedSink(name = 'gated'): ScriptedSink & { readonly release: () => void } {
  const calls: Array<ReadonlyArray<TraceDocument>> = []
  const written: TraceDocument[] = []
  const waiting: Array<() => void> = []
  return {
    name,
    calls,
    times: [],
    written,
    write: (batch) => {
      calls.push(batch)
      return new Promise<void>((resolve) => {
        waiting.push(() => {
          written.push(...batch)
          resolve()
        })
      })
    },
    release: () => {
      for (const resolve of waiting.splice(0)) resolve()
    },
  }
}
