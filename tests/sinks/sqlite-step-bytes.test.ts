// One step, or the header, of a large SQLite document found in its text (src/sinks/sqlite-step-bytes.ts)
// instead of json_extract / json_set: the same step or header as written, and, whenever the text cannot
// tell (the last step, a small document, data that imitates a step), undefined, so that the store falls
// back to SQL.
import { mkdtempSync, rmSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import type BetterSqlite3 from 'better-sqlite3'
import type { StepRecord, TraceDocument } from '../../src/document/document.js'
import { openStore, sqliteSink, type TraceStore } from '../../src/index.js'
import { documentText } from '../../src/sinks/sqlite-step-bytes.js'
import { headerOf } from '../../src/store/query.js'
import { makeDocument, makeStep, stepIdOf, traceIdOf } from '../helpers/documents.js'

const Driver = createRequire(import.meta.url)('better-sqlite3') as typeof BetterSqlite3

function steps(count: number, data: (n: number) => Partial<StepRecord> = () => ({})): StepRecord[] {
  return Array.from({ length: count }, (_, n) => makeStep({ stepId: stepIdOf(n + 1), seq: n, name: `step-${n % 7}`, input: ['in', n, 'ü😀"\\'], output: { n }, ...data(n) }))
}

const large = makeDocument({ traceId: traceIdOf(0x51), steps: steps(150) })
const small = makeDocument({ traceId: traceIdOf(0x52), steps: steps(20) })
// step 10's input holds an object that begins as step 50 does, with the same id, seq and name
const imitated = makeDocument({
  traceId: traceIdOf(0x53),
  steps: steps(150, (n) => (n === 10 ? { input: [{ step_id: stepIdOf(51), seq: 50, name: 'step-1' }] as never } : {})),
})
// a header whose input imitates the steps array, with keys after the steps (replay_of, parent ids) and a
// last step whose output is full of `],"`
const tailed = makeDocument({
  traceId: traceIdOf(0x55), input: { steps: [{ step_id: stepIdOf(1) }], note: ['],"sdk":{}}'] } as never,
  replayOf: traceIdOf(0x51), parentTraceId: traceIdOf(0x50), parentStepId: stepIdOf(0x99), truncated: 3,
  steps: steps(150, (n) => (n === 149 ? { output: [['a'], { b: ['c'] }, '],"sdk":{"name":"x"}}'] as never } : {})),
})

let directory: string
let store: TraceStore
let db: BetterSqlite3.Database
let find: ReturnType<typeof documentText>['step']
let header: ReturnType<typeof documentText>['header']

beforeAll(async () => {
  directory = mkdtempSync(join(tmpdir(), 'tracellm-step-bytes-'))
  const path = join(directory, 'traces.db')
  const sink = sqliteSink({ path })
  await sink.write([large, small, imitated, tailed])
  sink.close()
  store = await openStore(path, { readOnly: true })
  db = new Driver(path, { readonly: true })
  const text = documentText(db, () => String(db.pragma('data_version', { simple: true })))
  find = text.step
  header = text.header
})

afterAll(async () => {
  db.close()
  await store.close()
  rmSync(directory, { recursive: true, force: true })
})

describe('a step found by its bytes', () => {
  it('is the step as written, for every step but the last of a large document', () => {
    const found = large.steps.map((step) => find(large.traceId, step.stepId))

    expect(found.slice(0, -1).every((step) => step !== undefined)).toBe(true)
    expect(found.at(-1)).toBeUndefined()
    expect(found[42]).toMatchObject({ step_id: stepIdOf(43), seq: 42, input: ['in', 42, 'ü😀"\\'], output: { n: 42 } })
  })

  it('is not looked for in a small document, nor for a step that is not there', () => {
    expect(find(small.traceId, stepIdOf(5))).toBeUndefined()
    expect(find(large.traceId, stepIdOf(999))).toBeUndefined()
  })

  it('is refused when the data imitates a step, and the store still returns the right one', async () => {
    expect(find(imitated.traceId, stepIdOf(51))).toBeUndefined()
    expect(await store.step(imitated.traceId, stepIdOf(51))).toEqual(imitated.steps[50])
    expect(await store.step(imitated.traceId, stepIdOf(11))).toEqual(imitated.steps[10])
  })

  it('never answers from the bytes of a document replaced since', async () => {
    const path = join(directory, 'replaced.db')
    const first = makeDocument({ traceId: traceIdOf(0x54), steps: steps(150) })
    const sink = sqliteSink({ path })
    await sink.write([first])
    const writable = await openStore(path)
    try {
      expect(await writable.step(first.traceId, stepIdOf(6))).toEqual(first.steps[5])
      expect(await writable.delete(first.traceId)).toEqual({ deleted: 1 })
      const second = makeDocument({ traceId: first.traceId, steps: steps(150, (n) => ({ output: { n, again: true } })) })
      await sink.write([second])

      expect(await writable.step(first.traceId, stepIdOf(6))).toEqual(second.steps[5])
    } finally {
      sink.close()
      await writable.close()
    }
  })

  it('gives the store the same steps and fields as json_extract would', async () => {
    for (const doc of [large, small] as TraceDocument[]) {
      for (const step of doc.steps) expect(await store.step(doc.traceId, step.stepId)).toEqual(step)
    }
    expect(await store.stepField(large.traceId, stepIdOf(43), 'input')).toEqual({ found: true, value: ['in', 42, 'ü😀"\\'] })
    expect(await store.stepField(large.traceId, stepIdOf(43), 'attemptErrors')).toEqual({ found: true, value: large.steps[42]!.attemptErrors })
  })
})

describe('a header found in the text', () => {
  const bySql = (traceId: string): unknown => JSON.parse((db.prepare("SELECT json_set(document, '$.steps', json('[]')) AS d FROM traces WHERE trace_id = ?").get(traceId) as { d: string }).d)

  it('is the document as json_set makes it, with the keys after the steps, even when the input and the last step imitate its parts', async () => {
    expect(header(large.traceId, large.rootSpanId ?? '')).toEqual(bySql(large.traceId))
    const found = header(tailed.traceId, tailed.rootSpanId ?? '')
    expect(found).toEqual(bySql(tailed.traceId))
    expect(found).toMatchObject({ replay_of: traceIdOf(0x51), parent_step_id: stepIdOf(0x99), steps: [] })
    const { steps: _steps, ...expected } = tailed
    expect(await store.headers(tailed.traceId)).toEqual([headerOf(tailed, 150)])
    expect((await store.headers(tailed.traceId))[0]).toMatchObject(expected)
  })

  it('is not looked for in a small document', async () => {
    expect(header(small.traceId, small.rootSpanId ?? '')).toBeUndefined()
    expect(await store.headers(small.traceId)).toEqual([headerOf(small, 20)])
  })
})
