// Builds valid TraceDocuments for sink and queue tests, without running the combinators.
import type { JsonValue, StepId, StepRecord, TraceDocument, TraceId } from '../../src/document/document.js'

type Writable<T> = { -readonly [K in keyof T]: T[K] }

let counter = 0

/** A 32-char lowercase hex trace id, distinct per call (or derived from `n`). */
export function traceIdOf(n: number = ++counter): TraceId {
  return n.toString(16).padStart(32, '0') as TraceId
}

/** A 16-char lowercase hex step id derived from `n`. */
export function stepIdOf(n: number): StepId {
  return n.toString(16).padStart(16, '0') as StepId
}

/** One successful tool step; `overrides` replace any field. */
export function makeStep(overrides: Partial<Writable<StepRecord>> = {}): StepRecord {
  return {
    stepId: stepIdOf(1),
    parentStepId: null,
    seq: 0,
    name: 'search',
    kind: 'tool',
    status: 'success',
    startedAt: '2026-11-24T10:00:00.001Z',
    endedAt: '2026-11-24T10:00:00.004Z',
    durationMs: 3.2,
    input: ['What is RAG?'],
    output: [{ id: 1 }],
    error: null,
    attempts: 1,
    retries: 0,
    attemptErrors: [],
    metadata: {},
    ...overrides,
  }
}

/** A finished, successful trace with one step; `overrides` replace any field. */
export function makeDocument(overrides: Partial<Writable<TraceDocument>> = {}): TraceDocument {
  return {
    schemaVersion: 1,
    traceId: traceIdOf(),
    prompt: 'answer',
    project: 'default',
    environment: 'test',
    tags: [],
    metadata: {},
    status: 'success',
    startedAt: '2026-11-24T10:00:00.000Z',
    endedAt: '2026-11-24T10:00:00.012Z',
    durationMs: 12.34,
    input: ['What is RAG?'],
    output: { answer: 'Retrieval-augmented generation', sources: 3 },
    error: null,
    retryCount: 0,
    usage: { inputTokens: 0, outputTokens: 0 },
    steps: [makeStep()],
    sdk: { name: 'tracellm', version: '0.1.0' },
    ...overrides,
  }
}

/** `count` documents whose prompts are `doc-0`, `doc-1` …, so order is easy to assert. */
export function makeDocuments(count: number, overrides: Partial<Writable<TraceDocument>> = {}): TraceDocument[] {
  return Array.from({ length: count }, (_, index) => makeDocument({ prompt: `doc-${index}`, ...overrides }))
}

/**
 * A document full of awkward text: emoji and astral characters, combining marks, RTL, U+2028,
 * quotes and backslashes, and keys such as `__proto__`, `constructor`, `""` and `a.b[0]`.
 */
export function makeAwkwardDocument(): TraceDocument {
  // JSON.parse makes `__proto__` an own data key, as user input would
  const metadata = JSON.parse('{"__proto__":{"polluted":true},"constructor":{"prototype":1},"":"empty key","a.b[0]":"path-like","line\\nbreak":"\\u2028 sep","😀":"ключ","quote\\"d":"back\\\\slash"}') as { readonly [key: string]: JsonValue }
  return makeDocument({
    prompt: 'résumé ✓ 東京 😀 مرحبا',
    tags: ['naïve', 'e\u0301', '\u{1F468}\u200D\u{1F469}\u200D\u{1F467}'],
    metadata,
    input: ['tab\tnewline\ncontrol\u0001', { nested: { deeper: [1, 2.5, -0.001, null, true] } }],
    output: { text: 'emoji 🎉 and \u2029 paragraph', empty: '', zero: 0 },
    steps: [
      makeStep({ name: 'récupérer', metadata, output: { 'weird key 🔑': ['√', '∑'] } }),
      makeStep({ stepId: stepIdOf(2), parentStepId: stepIdOf(1), seq: 1, name: '子ステップ', kind: 'retriever' }),
    ],
  })
}

/** Freezes a value and everything inside it, so any mutation throws in strict mode. */
export function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value)
    for (const key of Reflect.ownKeys(value)) deepFreeze((value as Record<PropertyKey, unknown>)[key])
  }
  return value
}
