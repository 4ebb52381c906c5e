/**
 * The viewer's cache of what it extracted from the store: a trace's skeleton (`/api/traces/:id/steps`) and previews (`/previews`),
 * a step's answer (`/api/traces/:id/steps/:stepId`) and a field's raw JSON text (`…/raw/:field`), in one least-recently-used map bounded in bytes
 * (64 MiB by default, the server's memory budget in docs/ui.md#figures). Every key holds the store's
 * `dataVersion()`, so once another process (or a delete) commits, nothing extracted before is served
 * again; a store without `dataVersion()` is never cached.
 */
import { rawField, stepDetail, stepPreviews, stepSkeleton } from './api.js'
import type { ViewerStore } from './types.js'

/** @internal The default budget of the cache: 64 MiB. */
export const FIELD_CACHE_BYTES = 64 * 1024 * 1024

/**
 * @internal A least-recently-used map of strings whose total size stays within `maxBytes`. A string
 * is counted at two bytes per UTF-16 code unit (the most V8 stores it in), so the bound holds for any
 * text. An entry larger than `maxEntryBytes` is not kept: one huge field must not evict everything.
 */
export class FieldCache {
  private readonly entries = new Map<string, string>()
  private used = 0
  /** The store's `dataVersion()` the entries were extracted at (set by the cached reads below). */
  version: string | undefined

  /**
   * @param maxBytes the budget of the whole cache, in bytes
   * @param maxEntryBytes the largest entry kept, in bytes; a quarter of the budget by default
   */
  constructor(readonly maxBytes: number = FIELD_CACHE_BYTES, readonly maxEntryBytes: number = Math.floor(maxBytes / 4)) {
    if (!Number.isInteger(maxBytes) || maxBytes < 0) throw new TypeError('Expected the cache size to be a non-negative integer of bytes.')
  }

  /** Bytes held, as counted (two per UTF-16 code unit). */
  get bytes(): number {
    return this.used
  }

  /** Entries held. */
  get size(): number {
    return this.entries.size
  }

  /** The text under `key`, which becomes the most recently used; `undefined` when it is not held. */
  get(key: string): string | undefined {
    const text = this.entries.get(key)
    if (text === undefined) return undefined
    this.entries.delete(key)
    this.entries.set(key, text)
    return text
  }

  /** Keeps `text` under `key` (unless it is larger than `maxEntryBytes`), evicting the least recently used entries past the budget. */
  set(key: string, text: string): void {
    const size = sizeOf(text)
    this.delete(key)
    if (size > this.maxEntryBytes || size > this.maxBytes) return
    this.entries.set(key, text)
    this.used += size
    for (const [oldest, old] of this.entries) {
      if (this.used <= this.maxBytes) break
      this.entries.delete(oldest)
      this.used -= sizeOf(old)
    }
  }

  /** Forgets `key`. */
  delete(key: string): void {
    const old = this.entries.get(key)
    if (old === undefined) return
    this.entries.delete(key)
    this.used -= sizeOf(old)
  }

  /** Forgets everything. */
  clear(): void {
    this.entries.clear()
    this.used = 0
  }
}

/** @internal `GET /api/traces/:id/steps` (the skeleton) as JSON text, from the cache when the store has not changed since. */
export async function cachedSkeleton(store: ViewerStore, cache: FieldCache, traceId: string): Promise<string> {
  return cached(store, cache, ['skeleton', traceId], async () => JSON.stringify(await stepSkeleton(store, traceId)))
}

/** @internal `GET /api/traces/:id/previews` as JSON text, from the cache when the store has not changed since. */
export async function cachedPreviews(store: ViewerStore, cache: FieldCache, traceId: string): Promise<string> {
  return cached(store, cache, ['previews', traceId], async () => JSON.stringify(await stepPreviews(store, traceId)))
}

/** @internal `GET /api/traces/:id/steps/:stepId` as JSON text, from the cache when the store has not changed since. */
export async function cachedStepDetail(store: ViewerStore, cache: FieldCache, traceId: string, stepId: string): Promise<string> {
  return cached(store, cache, ['step', traceId, stepId], async () => JSON.stringify(await stepDetail(store, traceId, stepId)))
}

/** @internal The raw JSON text of a step field, from the cache when the store has not changed since. */
export async function cachedRawField(store: ViewerStore, cache: FieldCache, traceId: string, stepId: string, field: string): Promise<string> {
  return cached(store, cache, ['raw', traceId, stepId, field], () => rawField(store, traceId, stepId, field))
}

async function cached(store: ViewerStore, cache: FieldCache, parts: ReadonlyArray<string>, extract: () => Promise<string>): Promise<string> {
  const version = await versionOf(store)
  // no version, no way to tell stale data: extract every time
  if (version === undefined) return extract()
  // the store changed: what was extracted before is stale, give its memory back now
  if (cache.version !== version) {
    cache.clear()
    cache.version = version
  }
  const key = [version, ...parts].join('\u0000')
  const hit = cache.get(key)
  if (hit !== undefined) return hit
  const text = await extract()
  cache.set(key, text)
  return text
}

async function versionOf(store: ViewerStore): Promise<string | undefined> {
  if (typeof store.dataVersion !== 'function') return undefined
  try {
    return await store.dataVersion()
  } catch {
    return undefined
  }
}

function sizeOf(text: string): number {
  return text.length * 2
}
