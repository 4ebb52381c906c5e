// The workloads of the benchmark, each in three variants built from the same tool bodies:
//   plain     the functions unwrapped
//   floor     a hand-written minimal tracer (the per-step overhead goal, docs/decisions.md): per step and per trace one
//             AsyncLocalStorage.run, two performance.now(), one 16-hex-char nanoid, one array push
//   snapshot  the floor plus JSON.stringify of the arguments at the start and of the result at the
//             end: what any tracer that records inputs and outputs pays at least (a reference, no goal)
//   uncaptured  tracellm with captureInput/captureOutput off: the machinery alone (ids, clock,
//             records, sealing, redaction of names, the queue), without the payloads
//   tracellm  trace + traceTool with the defaults: input and output capture and redaction on
// Payloads stay under 1 KiB per value: a question string and arrays of three small documents.
import { AsyncLocalStorage } from 'node:async_hooks'
import { performance } from 'node:perf_hooks'
import { customAlphabet } from 'nanoid'
import { trace, traceTool } from '../dist/index.js'

export const VARIANTS = ['plain', 'floor', 'snapshot', 'tracellm', 'uncaptured']

export const QUESTION = 'What is retrieval-augmented generation, and how does reranking help it?'

const DOCS = Object.freeze([
  { id: 'doc-1', title: 'Retrieval-augmented generation', text: 'RAG retrieves documents relevant to a question and gives them to the model as context.', score: 0.92 },
  { id: 'doc-2', title: 'Reranking', text: 'A reranker orders retrieved documents by relevance, so the best context comes first.', score: 0.87 },
  { id: 'doc-3', title: 'Hallucinations', text: 'Grounding generation in retrieved documents reduces unsupported answers.', score: 0.55 },
])
const ANSWER = Object.freeze({ text: 'RAG grounds the model in retrieved documents; reranking puts the best ones first.', sources: ['doc-1', 'doc-2'] })

// --- the floor: the least a tracer must do per step, and nothing else ---

const floorStorage = new AsyncLocalStorage()
const hex16 = customAlphabet('0123456789abcdef', 16)
/** Finished floor traces (the floor's "sink"); emptied by `resetFloor()` every 128 traces of a timed round. */
let floorDone = []

export function resetFloor() {
  floorDone = []
}

export function floorTraces() {
  return floorDone
}

function isThenable(value) {
  return value !== null && typeof value === 'object' && typeof value.then === 'function'
}

function floorTrace(fn, snapshot = false) {
  return function (...args) {
    const root = { id: hex16(), parentId: null, start: performance.now(), end: 0, steps: [], trace: undefined, input: snapshot ? JSON.stringify(args) : undefined, output: undefined }
    root.trace = root
    floorDone.push(root)
    return floorStorage.run(root, () => ended(root, fn.apply(this, args), snapshot))
  }
}

function floorTool(fn, snapshot = false) {
  return function (...args) {
    const parent = floorStorage.getStore()
    if (parent === undefined) return fn.apply(this, args)
    const step = { id: hex16(), parentId: parent.id, start: performance.now(), end: 0, trace: parent.trace, input: snapshot ? JSON.stringify(args) : undefined, output: undefined }
    parent.trace.steps.push(step)
    return floorStorage.run(step, () => ended(step, fn.apply(this, args), snapshot))
  }
}

function ended(record, result, snapshot) {
  if (isThenable(result)) {
    return result.then((value) => {
      record.end = performance.now()
      if (snapshot) record.output = JSON.stringify(value)
      return value
    })
  }
  record.end = performance.now()
  if (snapshot) record.output = JSON.stringify(result)
  return result
}

// --- the wrappers of each variant ---

const identity = (fn) => fn

function wrappers(variant) {
  if (variant === 'plain') return { root: () => identity, tool: () => identity }
  if (variant === 'floor') return { root: () => floorTrace, tool: () => floorTool }
  if (variant === 'snapshot') return { root: () => (fn) => floorTrace(fn, true), tool: () => (fn) => floorTool(fn, true) }
  if (variant === 'tracellm') return { root: (options) => trace(options), tool: (options) => traceTool(options) }
  if (variant === 'uncaptured') {
    const off = { captureInput: false, captureOutput: false }
    return { root: (options) => trace({ ...options, ...off }), tool: (options) => traceTool({ ...options, ...off }) }
  }
  throw new TypeError(`Unknown variant ${variant}`)
}

// --- the scenarios ---

/**
 * Each scenario: `steps` per trace, whether a call returns a promise, and `build(variant)` giving
 * the top-level function to call with QUESTION.
 */
export const SCENARIOS = [
  {
    id: 'async',
    label: '(a) async pipeline, 3 tools',
    steps: 3,
    async: true,
    build: (variant) => {
      const { root, tool } = wrappers(variant)
      const retrieve = tool({ name: 'retrieve', kind: 'retriever' })(async (question) => DOCS)
      const rerank = tool({ name: 'rerank', kind: 'reranker' })(async (question, docs) => docs.slice(0, 2))
      const generate = tool({ name: 'generate', kind: 'llm', model: 'fake-llm-1' })(async (question, docs) => ANSWER)
      return root({ prompt: 'bench_async' })(async (question) => {
        const docs = await retrieve(question)
        const top = await rerank(question, docs)
        return generate(question, top)
      })
    },
  },
  {
    id: 'sync',
    label: '(b) sync pipeline, 3 tools',
    steps: 3,
    async: false,
    build: (variant) => {
      const { root, tool } = wrappers(variant)
      const retrieve = tool({ name: 'retrieve', kind: 'retriever' })((question) => DOCS)
      const rerank = tool({ name: 'rerank', kind: 'reranker' })((question, docs) => docs.slice(0, 2))
      const generate = tool({ name: 'generate', kind: 'llm', model: 'fake-llm-1' })((question, docs) => ANSWER)
      return root({ prompt: 'bench_sync' })((question) => generate(question, rerank(question, retrieve(question))))
    },
  },
  {
    id: 'fanout',
    label: '(c) 10-way Promise.all fan-out',
    steps: 10,
    async: true,
    build: (variant) => {
      const { root, tool } = wrappers(variant)
      const shards = Array.from({ length: 10 }, (_, shard) => shard)
      const searchShard = tool({ name: 'search_shard', kind: 'retriever' })(async (question, shard) => [DOCS[shard % DOCS.length]])
      return root({ prompt: 'bench_fanout' })(async (question) => {
        const hits = await Promise.all(shards.map((shard) => searchShard(question, shard)))
        return hits.flat().length
      })
    },
  },
]

/**
 * Runs `fn(QUESTION)` `iterations` times, one call after the other, and returns the elapsed
 * milliseconds. Every 128 calls it yields one macrotask and calls `everyChunk` (for every variant
 * alike): tracellm's export queue drains there, as it would in a server, so its cost is inside the
 * measurement, and the floor drops its finished traces there, so neither keeps a whole round alive.
 */
export async function timeRound(fn, iterations, isAsync, everyChunk = () => {}) {
  const start = performance.now()
  if (isAsync) {
    for (let i = 1; i <= iterations; i++) {
      await fn(QUESTION)
      if ((i & 127) === 0) {
        everyChunk()
        await yieldToLoop()
      }
    }
  } else {
    for (let i = 1; i <= iterations; i++) {
      fn(QUESTION)
      if ((i & 127) === 0) {
        everyChunk()
        await yieldToLoop()
      }
    }
  }
  return performance.now() - start
}

export function yieldToLoop() {
  return new Promise((resolve) => setImmediate(resolve))
}
