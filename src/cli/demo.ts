/**
 * `npm run demo`: a retrieval-augmented generation pipeline that needs no network and no API key,
 * traced end to end. Everything is deterministic except timings and ids: a keyword-scored in-memory
 * corpus stands in for the vector store, a template for the model. It uses only the public barrel,
 * as a user would.
 */
import { setTimeout as sleep } from 'node:timers/promises'
import { pathToFileURL } from 'node:url'
import { configure, flush, memorySink, renderTree, sqliteSink, trace, traceTool, type TraceDocument } from '../index.js'

/** Options of `runDemo`. */
export interface DemoOptions {
  /** The SQLite store the trace is written to. @default TRACELLM_DB, else '.tracellm/traces.db' */
  readonly path?: string
  /** Where the tree and the summary are printed. @default process.stdout */
  readonly out?: NodeJS.WritableStream
}

/**
 * Runs the demo pipeline once and returns its trace document. It answers one question with
 * `retrieve` (a concurrent fan-out of three `search_shard` calls), `rerank`, a flaky
 * `fetch_citations` tool that fails once and succeeds on its retry, and `generate` (kind "llm",
 * model "fake-llm-1"). It `configure`s the process with a SQLite sink at `path` plus a memory sink
 * (replacing any earlier setup), awaits `flush()`, prints the trace as a tree (coloured when `out`
 * is a TTY and `NO_COLOR` is unset), the trace id and the store, and the commands that show it again
 * (`list`, `show`, and `ui` with the trace page's URL).
 * Rejects if the trace did not reach the memory sink or the store.
 *
 * @example
 * import { runDemo } from './demo.js'
 * const doc = await runDemo({ path: '/tmp/tracellm-demo.db', out: process.stderr })
 * doc.steps.map((step) => step.name)
 * // => ['retrieve', 'search_shard', 'search_shard', 'search_shard', 'rerank', 'fetch_citations', 'generate']
 *
 * @category cli
 * @since 0.1.0
 */
export async function runDemo(options: DemoOptions = {}): Promise<TraceDocument> {
  const path = options.path ?? (process.env.TRACELLM_DB || DEFAULT_PATH)
  const out = options.out ?? process.stdout
  const memory = memorySink({ limit: 10 })
  const store = sqliteSink({ path })
  configure({ sinks: [store, memory] })

  const answerQuestion = buildPipeline()
  const answer = await answerQuestion(QUESTION)
  const report = await flush()
  store.close()
  const doc = memory.traces.at(-1)
  if (doc === undefined || report.dropped > 0) {
    throw new Error(`The demo trace was not written (flushed ${report.flushed}, dropped ${report.dropped}, timed out: ${String(report.timedOut)}).`)
  }

  const colors = (out as { readonly isTTY?: boolean }).isTTY === true && !process.env.NO_COLOR
  out.write(`question: ${QUESTION}\nanswer:   ${answer.text}\n\n`)
  out.write(`${renderTree(doc, { colors })}\n\n`)
  out.write(`trace ${doc.traceId} written to ${path}\n`)
  const db = path === DEFAULT_PATH ? '' : ` --db ${JSON.stringify(path)}`
  out.write(`see it again:  npx tracellm list${db}\n               npx tracellm show ${doc.traceId.slice(0, 8)}${db}\n`)
  // the viewer's trace page is a deep link on its fixed default port (docs/ui.md#starting-it)
  out.write(`in a browser:  npx tracellm ui${db}   then http://127.0.0.1:7317/trace/${doc.traceId}\n`)
  return doc
}

// --- the pipeline ---

interface Doc {
  readonly id: string
  readonly title: string
  readonly text: string
}

interface Hit {
  readonly id: string
  readonly title: string
  readonly text: string
  readonly score: number
}

/** @internal */
export interface Answer {
  readonly text: string
  readonly sources: ReadonlyArray<string>
}

const DEFAULT_PATH = '.tracellm/traces.db'
const QUESTION = 'What is retrieval-augmented generation and why does it reduce hallucinations?'

/** Three shards of a tiny knowledge base; `search_shard` scores them by keyword overlap. */
const SHARDS: ReadonlyArray<ReadonlyArray<Doc>> = [
  [
    { id: 'doc-1', title: 'Retrieval-augmented generation', text: 'Retrieval-augmented generation (RAG) retrieves documents relevant to a question and gives them to the model as context for generation.' },
    { id: 'doc-2', title: 'Vector search', text: 'Vector search finds documents whose embeddings are close to the embedding of the question.' },
    { id: 'doc-3', title: 'Tokenizers', text: 'A tokenizer splits text into tokens before the model reads it.' },
  ],
  [
    { id: 'doc-4', title: 'Hallucinations', text: 'Hallucinations are fluent answers that are not supported by any source; grounding generation in retrieved documents reduces them.' },
    { id: 'doc-5', title: 'Reranking', text: 'A reranker orders retrieved documents by relevance to the question, so the best context comes first.' },
    { id: 'doc-6', title: 'Prompt templates', text: 'A prompt template turns a question and its context into the text the model sees.' },
  ],
  [
    { id: 'doc-7', title: 'Citations', text: 'Citing the retrieved documents lets a reader check every claim of a generated answer.' },
    { id: 'doc-8', title: 'Fine-tuning', text: 'Fine-tuning changes the weights of a model; retrieval changes only its context.' },
    { id: 'doc-9', title: 'Caching', text: 'Caching answers to repeated questions saves latency and cost.' },
  ],
]

const STOP_WORDS = new Set(['a', 'an', 'and', 'are', 'as', 'by', 'does', 'each', 'for', 'how', 'in', 'is', 'it', 'its', 'of', 'on', 'or', 'the', 'to', 'what', 'why', 'with'])

/**
 * @internal The demo's traced pipeline, built fresh (the flaky tool fails on the first attempt of
 * every pipeline). `onToolBody` is told each time a tool body really runs (replay tests count them).
 */
export function buildPipeline(onToolBody: (name: string) => void = () => undefined): (question: string) => Promise<Answer> {
  const searchShard = traceTool({ name: 'search_shard', kind: 'retriever' })(async (question: string, shard: number): Promise<Hit[]> => {
    onToolBody('search_shard')
    // simulated network latency, different per shard, so the three calls visibly overlap
    await sleep(3 + 2 * shard)
    const terms = keywords(question)
    return (SHARDS[shard] ?? [])
      .map((doc) => ({ ...doc, score: overlap(terms, keywords(`${doc.title} ${doc.text}`)) }))
      .filter((hit) => hit.score > 0)
      .sort(byScore)
      .slice(0, 2)
  })

  const retrieve = traceTool({ name: 'retrieve', kind: 'retriever' })(async (question: string): Promise<Hit[]> => {
    onToolBody('retrieve')
    const perShard = await Promise.all(SHARDS.map((_, shard) => searchShard(question, shard)))
    return perShard.flat().sort(byScore).slice(0, 4)
  })

  const rerank = traceTool({ name: 'rerank', kind: 'reranker' })((question: string, hits: ReadonlyArray<Hit>): Hit[] => {
    onToolBody('rerank')
    // a title that shares a keyword with the question counts double
    const terms = keywords(question)
    return hits
      .map((hit) => ({ ...hit, score: hit.score + 2 * overlap(terms, keywords(hit.title)) }))
      .sort(byScore)
      .slice(0, 3)
  })

  let citationCalls = 0
  // minTimeout 50 ms instead of the 500 ms default keeps the demo quick: one retry waits 50 ms
  const fetchCitations = traceTool({ name: 'fetch_citations', maxRetries: 2, minTimeout: 50 })(async (ids: ReadonlyArray<string>): Promise<string[]> => {
    onToolBody('fetch_citations')
    citationCalls++
    if (citationCalls === 1) throw new Error('citation service unavailable (simulated, first attempt only)')
    return ids.map((id, index) => `[${index + 1}] kb://${id}`)
  })

  const generate = traceTool({ name: 'generate', kind: 'llm', model: 'fake-llm-1' })(async (question: string, hits: ReadonlyArray<Hit>, citations: ReadonlyArray<string>): Promise<Answer> => {
    onToolBody('generate')
    await sleep(2)
    const sentences = hits.slice(0, 2).map((hit, index) => `${firstSentence(hit.text)} [${index + 1}]`)
    const text = sentences.length === 0 ? `I found nothing about "${question}".` : sentences.join(' ')
    return { text, sources: citations.slice(0, sentences.length) }
  })

  return trace({ prompt: 'answer_question', modelName: 'fake-llm-1', tags: ['demo'] })(async (question: string) => {
    const hits = await retrieve(question)
    const ranked = rerank(question, hits)
    const citations = await fetchCitations(ranked.map((hit) => hit.id))
    const answer = await generate(question, ranked, citations)
    return answer
  })
}

function keywords(text: string): Set<string> {
  const words = text.toLowerCase().match(/[a-z]+/g) ?? []
  return new Set(words.filter((word) => !STOP_WORDS.has(word)).map(stem))
}

/** Strips a plural or participle ending, so "documents" meets "document" and "retrieved" meets "retrieval". */
function stem(word: string): string {
  return word.replace(/(ations?|als?|ed|es|s)$/, '')
}

function overlap(terms: ReadonlySet<string>, other: ReadonlySet<string>): number {
  let count = 0
  for (const term of terms) if (other.has(term)) count++
  return count
}

function byScore(a: Hit, b: Hit): number {
  return b.score - a.score || a.id.localeCompare(b.id)
}

function firstSentence(text: string): string {
  const end = text.indexOf('. ')
  return end === -1 ? text : text.slice(0, end + 1)
}

// --- entry point ---

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  runDemo().catch((error: unknown) => {
    process.stderr.write(`tracellm demo failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`)
    process.exitCode = 1
  })
}
