/**
 * The viewer's view of a store: `TraceStore` plus the read methods the viewer needs
 * (docs/ui.md#the-store-the-viewer-reads). Typed structurally, so the server runs against any store
 * that has them; a method a store lacks makes its endpoint answer 503 instead of failing to start.
 */
import type { JsonValue, StepRecord } from '../document/document.js'
import type { ListQuery, TraceStore, TraceSummary } from '../store/types.js'

/** @internal A list row with the previews the viewer shows (absent on a store before the viewer's migration). */
export interface ViewerTraceSummary extends TraceSummary {
  readonly inputPreview?: string | null
  readonly outputPreview?: string | null
  readonly errorType?: string | null
  readonly errorMessage?: string | null
}

/** @internal One row of a trace's step skeleton: the indexed columns, never the step's input or output. */
export interface StepSkeleton {
  readonly stepId: string
  readonly parentStepId: string | null
  readonly rootSpanId: string | null
  readonly seq: number
  readonly name: string
  readonly kind: string
  readonly status: string
  readonly startedAt: string
  readonly durationMs: number
  readonly attempts: number
  readonly retries: number
  readonly model: string | null
  readonly inputTokens: number | null
  readonly outputTokens: number | null
  readonly costUsd: number | null
  readonly errorType: string | null
  readonly errorMessage: string | null
  readonly inputBytes: number | null
  readonly outputBytes: number | null
  readonly inputPreview: string | null
  readonly outputPreview: string | null
  readonly truncated: boolean
  readonly incomplete: boolean
}

/** @internal The fields of a step the viewer fetches one at a time. */
export type StepField = 'input' | 'output' | 'error' | 'attemptErrors' | 'metadata'

/** @internal The fields `facets()` counts. */
export type FacetField = 'project' | 'environment' | 'prompt' | 'modelName' | 'status' | 'tags'

/** @internal What the viewer reads: every method beyond `TraceStore` optional until both backends have it. */
export interface ViewerStore extends TraceStore {
  list(query?: ListQuery): Promise<{ readonly items: ReadonlyArray<ViewerTraceSummary>; readonly nextCursor: string | null }>
  steps?(traceId: string): Promise<ReadonlyArray<StepSkeleton>>
  step?(traceId: string, stepId: string): Promise<StepRecord | undefined>
  stepField?(traceId: string, stepId: string, field: StepField): Promise<{ readonly found: boolean; readonly value?: JsonValue }>
  facets?(field: FacetField, query?: ListQuery): Promise<ReadonlyArray<{ readonly value: string; readonly count: number }>>
  dataVersion?(): Promise<string>
  /** Deletes the documents of one trace (`--write` only). */
  delete?(traceId: string): Promise<{ readonly deleted: number }>
}

/** @internal Options of `startUiServer`. */
export interface UiServerOptions {
  readonly store: ViewerStore
  /** How the store is named in `/api/meta` and the CLI's line: a path, or a URL with its password masked. */
  readonly storeLabel: string
  /** @default 7317; 0 picks a free port */
  readonly port?: number
  /** @default '127.0.0.1' */
  readonly host?: string
  /** Serve the mutating routes (behind the CSRF checks). @default false */
  readonly write?: boolean
  /** Require the launch token (exchanged for a cookie) on every API call. @default false */
  readonly token?: boolean
  /** Allow a non-loopback `host`; forces `token`. @default false */
  readonly allowRemote?: boolean
  /** The prebuilt client's folder; when it is missing, `/` answers 503 "not built". */
  readonly clientDir?: string
  /** The version `/api/meta` reports. */
  readonly version?: string
  /** @internal How often `/api/events` polls `dataVersion()`. @default 500 */
  readonly pollMs?: number
  /** @internal How often `/api/events` sends a heartbeat. @default 15000 */
  readonly heartbeatMs?: number
  /** @internal How long `/api/stats` is cached. @default 5000 */
  readonly statsCacheMs?: number
}

/** @internal A running viewer. */
export interface UiServer {
  /** `http://127.0.0.1:<port>` (the host as bound; `[::1]` for IPv6). */
  readonly url: string
  /** `url` plus `/#t=<token>` in token mode: the URL to open. The fragment never reaches the server. */
  readonly launchUrl: string
  readonly port: number
  /** Warnings to print (a non-loopback bind). */
  readonly warnings: ReadonlyArray<string>
  /** Ends the live streams and closes the listener. Idempotent. */
  close(): Promise<void>
}
