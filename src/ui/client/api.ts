// The client's calls to the viewer's API (docs/ui.md#api) and the shapes it answers.

/** GETs a JSON endpoint of the viewer; a non-2xx answer throws its `{error}` line. */
export async function api<T>(path: string): Promise<T> {
  const response = await fetch(path, { headers: { accept: 'application/json' }, credentials: 'same-origin' })
  const body = (await response.json().catch(() => ({}))) as { error?: string }
  if (!response.ok) throw new Error(body.error ?? `${response.status} ${response.statusText}`)
  return body as T
}

export interface Summary {
  traceId: string
  rootSpanId: string | null
  parentStepId: string | null
  replayOf: string | null
  project: string
  environment: string
  prompt: string
  modelName: string | null
  status: string
  startedAt: string
  durationMs: number
  retryCount: number
  stepCount: number
  inputTokens: number
  outputTokens: number
  costUsd: number | null
  tags: string[]
  inputPreview: string | null
  outputPreview: string | null
  errorType: string | null
  errorMessage: string | null
}

export type Gated = { inline: true; value: unknown } | { inline: false; preview: string; bytes: number; rawUrl: string }

export interface Skeleton {
  traceId: string
  count: number
  startedAt: string | null
  columns: {
    stepId: string[]; parentStepId: (string | null)[]; doc: (string | null)[]; name: string[]; kind: string[]; status: string[]
    offsetMs: number[]; durationMs: number[]; attempts: number[]; retries: number[]; model: (string | null)[]
    errorPreview: (string | null)[]; errorType: (string | null)[]; seq: number[]
    inputTokens: (number | null)[]; outputTokens: (number | null)[]; costUsd: (number | null)[]
    inputBytes: (number | null)[]; outputBytes: (number | null)[]
    truncated: boolean[]; incomplete: boolean[]
  }
}

/** Each step's input and output previews, in the skeleton's order, as `/api/traces/:id/previews` answers them. */
export interface Previews {
  traceId: string
  columns: { stepId: string[]; inputPreview: (string | null)[]; outputPreview: (string | null)[] }
}

/** One step's record as `/api/traces/:id/steps/:stepId` answers it. */
export interface StepDetail {
  stepId: string; name: string; kind: string; status: string; durationMs: number; attempts: number; retries: number
  fields: { input?: Gated; output?: Gated; error?: Gated; attemptErrors?: Gated; metadata?: Gated }
  [key: string]: unknown
}

/** A trace's header as `/api/traces/:id` answers it: one entry per document (service). */
export interface TraceHeader { traceId: string; documents: Array<Record<string, unknown>> }

/** The message of anything thrown. */
export const messageOf = (caught: unknown): string => (caught instanceof Error ? caught.message : String(caught))
