/**
 * The viewer's view of a store: `TraceStore` plus the read methods the viewer needs
 * (docs/ui.md#the-store-the-viewer-reads). Typed structurally, so the server runs against any store
 * that has them; a method a store lacks makes its endpoint answer 503 instead of failing to start.
 */
import type { StepRecord } from '../document/document.js'
import type { TraceStore, TraceSummary } from '../stores/types.js'

/** @internal A list row: `TraceSummary` carries the previews the viewer shows since the store's migration 3. */
export type ViewerTraceSummary = TraceSummary

export type { FacetField, StepField, StepSkeleton } from '../stores/types.js'

/** @internal What the viewer reads: a `TraceStore` (with its viewer reads), whose `delete` only `--write` uses. */
export interface ViewerStore extends Omit<TraceStore, 'delete' | 'headers'> {
  /** Deletes the documents of one trace (`--write` only); a store without it answers 503. */
  delete?(traceId: string): Promise<{ readonly deleted: number }>
  /** The documents of a trace without their steps; a store without it has them read whole (`getAll`). */
  headers?: TraceStore['headers']
  /**
   * A step without its input or output over `inlineBytes`, which come as their first `previewBytes`
   * and size, never parsed (SQLite, `stores/sqlite/step-bytes.ts`); `undefined` when the step is not such a
   * step. A store without it has every step read whole (`step`).
   */
  largeStep?(traceId: string, stepId: string, inlineBytes: number, previewBytes: number): Promise<{
    readonly record: StepRecord
    readonly large: Partial<Record<'input' | 'output', { readonly preview: string; readonly bytes: number }>>
  } | undefined>
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
  /** @internal Bytes of extracted steps and fields kept (docs/ui.md#figures). @default 67108864 (64 MiB) */
  readonly fieldCacheBytes?: number
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
