// An in-memory ViewerStore: the store interface the viewer codes against, over a list of documents,
// with the store's own query validation (normalizeQuery), so bad filters fail as they do for real.
import type { JsonValue, StepRecord, TraceDocument } from '../../src/document/document.js'
import { decodeCursor, encodeCursor, normalizeQuery, overviewSince } from '../../src/stores/query.js'
import type { ListQuery, StoreStats, TraceSummary } from '../../src/stores/types.js'
import type { FacetField, StepField, StepSkeleton, ViewerStore, ViewerTraceSummary } from '../../src/ui/types.js'

export interface FakeStore extends ViewerStore {
  readonly docs: TraceDocument[]
  /** Bumps `dataVersion()`, as a commit by another process does. */
  commit(doc: TraceDocument): void
  calls: { stats: number; overview: number }
}

export function fakeStore(initial: ReadonlyArray<TraceDocument> = []): FakeStore {
  const docs = [...initial]
  let version = 1
  const calls = { stats: 0, overview: 0 }
  const sorted = (): TraceDocument[] => [...docs].sort((a, b) => b.startedAt.localeCompare(a.startedAt) || b.traceId.localeCompare(a.traceId))
  const matching = (query: ListQuery | undefined): TraceDocument[] => {
    const q = normalizeQuery(query)
    return sorted().filter((doc) =>
      (q.project === undefined || doc.project === q.project) &&
      (q.environment === undefined || doc.environment === q.environment) &&
      (q.prompt === undefined || doc.prompt === q.prompt) &&
      (q.status === undefined || doc.status === q.status) &&
      (q.modelName === undefined || doc.modelName === q.modelName) &&
      (q.since === undefined || doc.startedAt >= q.since) &&
      (q.until === undefined || doc.startedAt < q.until) &&
      (query?.idPrefix === undefined || doc.traceId.startsWith(query.idPrefix)) &&
      (q.replayOf === undefined || doc.replayOf === q.replayOf) &&
      (query?.text === undefined || JSON.stringify(doc).toLowerCase().includes(query.text.toLowerCase())))
  }
  const find = (traceId: string, stepId: string): StepRecord | undefined =>
    docs.filter((doc) => doc.traceId === traceId).flatMap((doc) => doc.steps).find((step) => step.stepId === stepId)
  const store: FakeStore = {
    kind: 'sqlite',
    readOnly: true,
    docs,
    calls,
    commit(doc) { docs.push(doc); version++ },
    async get(traceId) { return docs.filter((doc) => doc.traceId === traceId).sort((a, b) => a.startedAt.localeCompare(b.startedAt))[0] },
    async getAll(traceId) { return docs.filter((doc) => doc.traceId === traceId).sort((a, b) => a.startedAt.localeCompare(b.startedAt)) },
    async list(query) {
      const q = normalizeQuery(query)
      let rows = matching({ ...query, limit: undefined, cursor: undefined } as ListQuery)
      if (query?.cursor !== undefined) {
        const after = decodeCursor(query.cursor)
        const index = rows.findIndex((doc) => doc.traceId === after.traceId)
        rows = rows.slice(index + 1)
      }
      if (q.sort === 'slowest') rows = [...rows].sort((a, b) => b.durationMs - a.durationMs)
      const page = rows.slice(0, q.limit)
      const last = page[page.length - 1]
      const nextCursor = q.sort === 'newest' && rows.length > q.limit && last !== undefined ? encodeCursor({ startedAt: last.startedAt, traceId: last.traceId, rootSpanId: '' }) : null
      return { items: page.map(summaryOf), nextCursor }
    },
    async count(query) { return matching({ ...query, limit: undefined, cursor: undefined } as ListQuery).length },
    async stats(): Promise<StoreStats> {
      calls.stats++
      return { traces: docs.length, steps: docs.reduce((n, doc) => n + doc.steps.length, 0), errors: 0, oldest: null, newest: null, retries: 0, inputTokens: 0, outputTokens: 0, costUsd: 0, projects: [] }
    },
    async prune(options) {
      const before = new Date(Date.now() - 1000).toISOString()
      void options
      const old = docs.filter((doc) => doc.startedAt < before)
      for (const doc of old) docs.splice(docs.indexOf(doc), 1)
      version++
      return { deleted: old.length }
    },
    async overview(query) {
      overviewSince(query)
      calls.overview++
      return { failingSteps: [], slowestSteps: [], mostRetried: [], byModel: [], byPrompt: [{ name: 'answer', count: docs.length, inputTokens: 0, outputTokens: 0, costUsd: null }] }
    },
    async vacuum() { return { bytesBefore: 0, bytesAfter: 0 } },
    async close() {},
    async steps(traceId): Promise<ReadonlyArray<StepSkeleton>> {
      return docs.filter((doc) => doc.traceId === traceId).flatMap((doc) => doc.steps.map((step) => skeletonOf(doc, step)))
    },
    async step(traceId, stepId) { return find(traceId, stepId) },
    async stepField(traceId, stepId, field: StepField) {
      const step = find(traceId, stepId)
      const value = step?.[field] as JsonValue | undefined
      return step === undefined || value === undefined ? { found: false } : { found: true, value }
    },
    async facets(field: FacetField, query) {
      const counts = new Map<string, number>()
      for (const doc of matching({ ...query, limit: undefined, cursor: undefined } as ListQuery)) {
        const values = field === 'tags' ? doc.tags : [String((doc as unknown as Record<string, unknown>)[field] ?? '')]
        for (const value of values) counts.set(value, (counts.get(value) ?? 0) + 1)
      }
      return [...counts].map(([value, count]) => ({ value, count })).sort((a, b) => b.count - a.count)
    },
    async dataVersion() { return String(version) },
  }
  return store
}

function summaryOf(doc: TraceDocument): ViewerTraceSummary {
  const summary: TraceSummary = {
    traceId: doc.traceId, rootSpanId: null, parentStepId: null, replayOf: doc.replayOf ?? null, project: doc.project, environment: doc.environment,
    prompt: doc.prompt, modelName: doc.modelName ?? null, status: doc.status, startedAt: doc.startedAt, endedAt: doc.endedAt, durationMs: doc.durationMs,
    retryCount: doc.retryCount, stepCount: doc.steps.length, errorCount: 0, inputTokens: 0, outputTokens: 0, costUsd: null, tags: doc.tags,
    inputPreview: JSON.stringify(doc.input ?? null), outputPreview: JSON.stringify(doc.output ?? null), errorType: doc.error?.type ?? null, errorMessage: doc.error?.message ?? null,
  }
  return summary
}

function skeletonOf(doc: TraceDocument, step: StepRecord): StepSkeleton {
  return {
    stepId: step.stepId, parentStepId: step.parentStepId, rootSpanId: null, seq: step.seq, name: step.name, kind: step.kind, status: step.status,
    startedAt: step.startedAt, durationMs: step.durationMs, attempts: step.attempts, retries: step.retries, model: step.model ?? null,
    inputTokens: step.usage?.inputTokens ?? 0, outputTokens: step.usage?.outputTokens ?? 0, costUsd: step.costUsd ?? null,
    errorType: step.error?.type ?? null, errorMessage: step.error?.message ?? null,
    inputBytes: step.input === undefined ? 0 : JSON.stringify(step.input).length, outputBytes: step.output === undefined ? 0 : JSON.stringify(step.output).length,
    inputPreview: step.input === undefined ? null : JSON.stringify(step.input).slice(0, 200), outputPreview: step.output === undefined ? null : JSON.stringify(step.output).slice(0, 200),
    truncated: (step.truncated ?? 0) > 0, incomplete: step.incomplete === true,
  }
}
