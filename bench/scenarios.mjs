// The workloads of the benchmark, each in seven variants built from the same tool bodies:
//   plain     the functions unwrapped
//   floor     a hand-written minimal tracer (the per-step overhead goal, docs/decisions.md): per step and per trace one
//             AsyncLocalStorage.run, two performance.now(), one 16-hex-char id, one array push
//   snapshot  the floor plus JSON.stringify of the arguments at the start and of the result at the
//             end: what any tracer that records inputs and outputs pays at least (a reference, no goal)
//   uncaptured  tracellm with captureInput/captureOutput off: the machinery alone (ids, clock,
//             records, sealing, redaction of names, the queue), without the payloads
//   tracellm  trace + traceTool with the defaults: input and output capture and redaction on
//   otel      OpenTelemetry's SDK (BasicTracerProvider, BatchSpanProcessor, a no-op exporter, the
//             AsyncLocalStorage context manager), one active span per step with the arguments and the
//             result as JSON string attributes
//   openllmetry  the same SDK used the way OpenLLMetry's workflow/task decorators use it (an entity
//             context, four traceloop.* attributes, input as JSON of { args, kwargs }, output as JSON)
// Scenarios a–c pass values under 1 KiB; (d) passes a unique ~4 KiB chat request per call (payloads.mjs).
import { AsyncLocalStorage } from 'node:async_hooks'
import { performance } from 'node:perf_hooks'
import { customAlphabet } from 'nanoid'
import { trace, traceTool } from '../dist/index.js'
import { randomIds } from '../dist/core/ids.js'
import { chatPayload, chatPayloads } from './payloads.mjs'

export const VARIANTS = ['plain', 'floor', 'snapshot', 'tracellm', 'uncaptured', 'otel', 'openllmetry']

export const QUESTION = 'What is retrieval-augmented generation, and how does reranking help it?'

const DOCS = Object.freeze([
  { id: 'doc-1', title: 'Retrieval-augmented generation', text: 'RAG retrieves documents relevant to a question and gives them to the model as context.', score: 0.92 },
  { id: 'doc-2', title: 'Reranking', text: 'A reranker orders retrieved documents by relevance, so the best context comes first.', score: 0.87 },
  { id: 'doc-3', title: 'Hallucinations', text: 'Grounding generation in retrieved documents reduces unsupported answers.', score: 0.55 },
])
const ANSWER = Object.freeze({ text: 'RAG grounds the model in retrieved documents; reranking puts the best ones first.', sources: ['doc-1', 'doc-2'] })

// --- the floor: the least a tracer must do per step, and nothing else ---

const floorStorage = new AsyncLocalStorage()
/**
 * The floor's id: tracellm's own id source (nanoid's pooled random bytes, hex-encoded in bulk), the
 * cheapest a tracer has. TRACELLM_BENCH_FLOOR_IDS=customAlphabet gives the floor of earlier runs
 * (nanoid's customAlphabet, ~200 ns more per step) to compare ratios with figures measured before.
 */
const hex16 = process.env.TRACELLM_BENCH_FLOOR_IDS === 'customAlphabet' ? customAlphabet('0123456789abcdef', 16) : randomIds.stepId
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
  if (variant === 'otel') return { root: (options) => (fn) => otelSpan(options.prompt, fn), tool: (options) => (fn) => otelSpan(options.name, fn) }
  if (variant === 'openllmetry') return { root: (options) => (fn) => llmetryEntity('workflow', options.prompt, fn), tool: (options) => (fn) => llmetryEntity('task', options.name, fn) }
  throw new TypeError(`Unknown variant ${variant}`)
}

// --- OpenTelemetry, set up on first use (its context manager is one more AsyncLocalStorage in the process) ---

let otel

/** The OpenTelemetry SDK as an application configures it, with an exporter that drops every batch. */
async function setUpOtel() {
  if (otel !== undefined) return otel
  const [{ BasicTracerProvider, BatchSpanProcessor }, { AsyncLocalStorageContextManager }, api] = await Promise.all([
    import('@opentelemetry/sdk-trace-base'),
    import('@opentelemetry/context-async-hooks'),
    import('@opentelemetry/api'),
  ])
  let exported = 0
  const exporter = { export: (spans, done) => { exported += spans.length; done({ code: 0 }) }, shutdown: async () => {}, forceFlush: async () => {} }
  const provider = new BasicTracerProvider({ spanProcessors: [new BatchSpanProcessor(exporter)] })
  api.context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable())
  otel = { api, provider, tracer: provider.getTracer('bench', '1.0.0'), exported: () => exported, entityKey: api.createContextKey('traceloop.entity.path'), workflowKey: api.createContextKey('traceloop.workflow.name') }
  return otel
}

/** Loads OpenTelemetry before the otel and openllmetry variants are built (bench scripts call it once). */
export function prepareVariants() {
  return setUpOtel()
}

/** Ends the OpenTelemetry variants' batches, outside the timing. */
export async function flushOtel() {
  if (otel !== undefined) await otel.provider.forceFlush()
}

function otelSpan(name, fn) {
  const { tracer, api } = otel
  return function (...args) {
    return tracer.startActiveSpan(name, (span) => {
      span.setAttribute('input', JSON.stringify(args))
      return spanEnded(span, api, () => fn.apply(this, args), (value) => span.setAttribute('output', JSON.stringify(value)))
    })
  }
}

/** As OpenLLMetry's `withWorkflow`/`withTask` wrap a function: an entity context, then an active span. */
function llmetryEntity(kind, name, fn) {
  const { tracer, api, entityKey, workflowKey } = otel
  return function (...args) {
    const active = api.context.active()
    const parentPath = active.getValue(entityKey)
    const path = kind === 'workflow' ? '' : parentPath === undefined || parentPath === '' ? name : `${parentPath}.${name}`
    let entered = active.setValue(entityKey, path)
    if (kind === 'workflow') entered = entered.setValue(workflowKey, name)
    return api.context.with(entered, () => tracer.startActiveSpan(`${name}.${kind}`, {}, entered, (span) => {
      const workflow = entered.getValue(workflowKey)
      if (workflow !== undefined) span.setAttribute('traceloop.workflow.name', workflow)
      if (path !== '') span.setAttribute('traceloop.entity.path', path)
      span.setAttribute('traceloop.span.kind', kind)
      span.setAttribute('traceloop.entity.name', name)
      try {
        const input = args.length === 1 && typeof args[0] === 'object' && args[0] !== null && !(args[0] instanceof Map) ? { args: [], kwargs: args[0] } : { args, kwargs: {} }
        span.setAttribute('traceloop.entity.input', JSON.stringify(input))
      } catch {}
      return spanEnded(span, api, () => fn.apply(this, args), (value) => {
        try {
          span.setAttribute('traceloop.entity.output', JSON.stringify(value))
        } catch {}
      })
    }))
  }
}

function spanEnded(span, api, call, onValue) {
  let result
  try {
    result = call()
  } catch (error) {
    span.recordException(error)
    span.setStatus({ code: api.SpanStatusCode.ERROR })
    span.end()
    throw error
  }
  if (isThenable(result)) {
    return result.then((value) => {
      onValue(value)
      span.end()
      return value
    }, (error) => {
      span.recordException(error)
      span.setStatus({ code: api.SpanStatusCode.ERROR })
      span.end()
      throw error
    })
  }
  onValue(result)
  span.end()
  return result
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
  {
    id: 'llm',
    label: '(d) LLM call, unique 4 KiB chat',
    steps: 1,
    async: true,
    /**
     * One `llm` step per trace: `chat(request)` answers a ~4 KiB OpenAI-style request, every call a
     * different one, with a ~1 KiB completion. The { request, response } pairs are taken in turn from
     * `source` ({ count, at(i) }): by default a shared pool of 4 096 made once (more than the
     * redactor remembers, so no call finds its strings already scanned); the heap bench passes one that
     * makes a new payload per call, so what a trace keeps of it is not also kept by a pool.
     */
    build: (variant, source = llmPayloadPool()) => {
      const { root, tool } = wrappers(variant)
      let next = 0
      let current   // the call in progress: the fake SDK answers it (calls never overlap)
      const chat = tool({ name: 'chat.completions.create', kind: 'llm', model: 'gpt-4o-mini' })(async (request) => current.response)
      return root({ prompt: 'bench_llm' })(async (question) => {
        current = source.at(next)
        next = next + 1 === source.count ? 0 : next + 1
        const completion = await chat(current.request)
        return completion.choices[0].message.content.length
      })
    },
  },
]

let pool
/** The shared payloads of scenario (d), made on first use, as a source for its `build`. */
export function llmPayloadPool() {
  if (pool === undefined) {
    const payloads = chatPayloads(4096)
    pool = { count: payloads.length, at: (index) => payloads[index], payloads }
  }
  return pool
}

/** A source for scenario (d)'s `build` that makes a new payload for every call (numbered from `first`). */
export function freshPayloads(first) {
  return { count: Infinity, at: (index) => chatPayload(first + index) }
}

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
