// In-trace find (docs/ui.md#trace-page-in-detail): words match a step's name, kind, status, model and
// error from the skeleton, and its I/O previews once they are loaded; `field:value` terms filter. Pure, without DOM, so that
// tests/ui/trace-find.test.ts runs it directly.
import type { Previews, Skeleton } from '../api.js'
import { previewOf } from './previews.js'

type Op = '>' | '>=' | '<' | '<=' | '='
export type Term =
  | { readonly type: 'text'; readonly text: string }
  | { readonly type: 'field'; readonly field: 'kind' | 'status' | 'model' | 'name' | 'error'; readonly text: string }
  | { readonly type: 'number'; readonly field: 'retries' | 'attempts' | 'duration' | 'tokens' | 'cost'; readonly op: Op; readonly value: number }

export interface Query { readonly terms: ReadonlyArray<Term>; readonly error: string | null }

const TEXT_FIELDS = new Set(['kind', 'status', 'model', 'name', 'error'])
const NUMBER_FIELDS = new Set(['retries', 'attempts', 'duration', 'tokens', 'cost'])
const UNITS: Readonly<Record<string, number>> = { '': 1, ms: 1, s: 1000, m: 60_000, min: 60_000, h: 3_600_000 }

/**
 * Parses a find query. Words (or "quoted phrases") must all appear, case-insensitively; `kind:llm`,
 * `status:error`, `model:gpt`, `name:x`, `error:timeout` match that field by substring (`kind` and
 * `status` exactly); `retries:>0`, `attempts:>=2`, `tokens:>1000`, `cost:>0.01`, `duration:>500ms`
 * (units ms, s, m, h) compare numbers. An unknown or malformed filter is kept as a word and reported.
 */
export function parseQuery(input: string): Query {
  const terms: Term[] = []
  let error: string | null = null
  for (const match of input.matchAll(/"([^"]*)"?|(\S+)/g)) {
    const quoted = match[1]
    if (quoted !== undefined) { if (quoted !== '') terms.push({ type: 'text', text: quoted.toLowerCase() }); continue }
    const word = match[2]!
    const colon = word.indexOf(':')
    const field = colon > 0 ? word.slice(0, colon).toLowerCase() : ''
    const rest = word.slice(colon + 1)
    if (TEXT_FIELDS.has(field) && rest !== '') {
      terms.push({ type: 'field', field: field as 'kind', text: rest.toLowerCase() })
    } else if (NUMBER_FIELDS.has(field)) {
      const parsed = /^(>=|<=|>|<|=)?(\d+(?:\.\d+)?)([a-z]*)$/i.exec(rest)
      const unit = parsed === null ? undefined : field === 'duration' ? UNITS[parsed[3]!.toLowerCase()] : parsed[3] === '' ? 1 : undefined
      if (parsed === null || unit === undefined) {
        error ??= `Expected ${field}:>N${field === 'duration' ? ' (ms, s, m, h)' : ''}, as in ${field === 'duration' ? 'duration:>500ms' : `${field}:>0`}.`
        terms.push({ type: 'text', text: word.toLowerCase() })
      } else {
        terms.push({ type: 'number', field: field as 'retries', op: (parsed[1] ?? '=') as Op, value: Number(parsed[2]) * unit })
      }
    } else {
      terms.push({ type: 'text', text: word.toLowerCase() })
    }
  }
  return { terms, error }
}

const compare = (value: number, op: Op, target: number): boolean =>
  op === '>' ? value > target : op === '>=' ? value >= target : op === '<' ? value < target : op === '<=' ? value <= target : value === target

/** Whether step `i` of the skeleton matches every term of `query` (an empty query matches nothing). */
export function matchStep(skeleton: Skeleton, i: number, query: Query, previews?: Previews | null): boolean {
  if (query.terms.length === 0) return false
  const c = skeleton.columns
  let haystack: string | undefined
  for (const term of query.terms) {
    if (term.type === 'text') {
      const io = previewOf(previews, skeleton, i)
      haystack ??= [c.name[i], c.kind[i], c.status[i], c.model[i], c.errorType[i], c.errorPreview[i], io?.input, io?.output]
        .filter((part) => typeof part === 'string').join('\n').toLowerCase()
      if (!haystack.includes(term.text)) return false
    } else if (term.type === 'field') {
      const value = (term.field === 'error' ? `${c.errorType[i] ?? ''} ${c.errorPreview[i] ?? ''}` : c[term.field][i] ?? '').toLowerCase()
      if (term.field === 'kind' || term.field === 'status' ? value !== term.text : !value.includes(term.text)) return false
    } else {
      const value = term.field === 'duration' ? c.durationMs[i] ?? 0
        : term.field === 'tokens' ? (c.inputTokens[i] ?? 0) + (c.outputTokens[i] ?? 0)
        : term.field === 'cost' ? c.costUsd[i] ?? 0
        : c[term.field][i] ?? 0
      if (!compare(value, term.op, term.value)) return false
    }
  }
  return true
}

/** The steps matching `query`, in the order given (the tree's display order). */
export function findSteps(skeleton: Skeleton, order: ArrayLike<number>, query: Query, previews?: Previews | null): number[] {
  const out: number[] = []
  if (query.terms.length === 0) return out
  for (let p = 0; p < order.length; p++) if (matchStep(skeleton, order[p]!, query, previews)) out.push(order[p]!)
  return out
}
