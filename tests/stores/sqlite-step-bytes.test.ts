// One step, or the header, of a large SQLite document read by the byte ranges a write records
// (migration 5), or found in its text for a document stored before (src/stores/sqlite/step-bytes.ts),
// instead of json_extract / json_set: the same step or header as written, and, whenever the text cannot
// tell (the last step, a small document, data that imitates a step), undefined, so that the store falls
// back to SQL. Each test runs on both: a file as written, and a copy whose ranges are erased.
import { mkdtempSync, rmSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import type BetterSqlite3 from 'better-sqlite3'
import type { StepRecord, TraceDocument } from '../../src/document/document.js'
import { openStore, sqliteSink, type TraceStore } from '../../src/index.js'
import { documentText } from '../../src/stores/sqlite/step-bytes.js'
import { toStoredDocument, toStoredJson } from '../../src/document/rows.js'
import { headerOf } from '../../src/stores/query.js'
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
const opened: Array<{ close(): unknown }> = []

beforeAll(async () => {
  directory = mkdtempSync(join(tmpdir(), 'tracellm-step-bytes-'))
  for (const name of ['ranged.db', 'unranged.db']) {
    const sink = sqliteSink({ path: join(directory, name) })
    await sink.write([large, small, imitated, tailed])
    sink.close()
  }
  // as a document stored before migration 5: no ranges
  const old = new Driver(join(directory, 'unranged.db'))
  old.exec('UPDATE steps SET doc_offset = NULL, doc_length = NULL')
  old.close()
})

afterAll(async () => {
  for (const each of opened) await each.close()
  rmSync(directory, { recursive: true, force: true })
})

describe('toStoredDocument', () => {
  it('writes the text toStoredJson writes, with each step\'s object at its byte range', () => {
    const odd = makeDocument({
      traceId: traceIdOf(0x56), input: { text: 'nul \u0000 lone \ud800 pair 😀 ü', steps: [{ step_id: 'x' }] } as never,
      steps: steps(3, (n) => ({ name: `s\u0000${n}`, output: n === 1 ? '\udc00 lone low' : '"quoted" 😀' })),
    })
    for (const doc of [large, small, tailed, odd, makeDocument({ traceId: traceIdOf(0x57), steps: [] })]) {
      const stored = toStoredDocument(doc)
      expect(stored.text).toBe(toStoredJson(doc))
      const bytes = Buffer.from(stored.text, 'utf8')
      const wire = JSON.parse(stored.text) as { steps: unknown[] }
      expect(stored.steps).toHaveLength(doc.steps.length)
      stored.steps.forEach(([offset, length], index) => {
        expect(JSON.parse(bytes.toString('utf8', offset, offset + length))).toEqual(wire.steps[index])
      })
    }
  })
})

describe.each([
  ['by the byte ranges a write records', 'ranged.db', true],
  ['in the text of a document stored before migration 5', 'unranged.db', false],
] as const)('a step or header found %s', (_how, file, ranged) => {
  let store: TraceStore
  let db: BetterSqlite3.Database
  let find: ReturnType<typeof documentText>['step']
  let header: ReturnType<typeof documentText>['header']

  beforeAll(async () => {
    store = await openStore(join(directory, file), { readOnly: true })
    db = new Driver(join(directory, file), { readonly: true })
    opened.push(store, db)
    const text = documentText(db, () => String(db.pragma('data_version', { simple: true })))
    find = text.step
    header = text.header
  })

  it('is the step as written, for every step of a large document (but the last, without ranges)', () => {
    const found = large.steps.map((step) => find(large.traceId, step.stepId))

    expect(found.slice(0, -1).every((step) => step !== undefined)).toBe(true)
    expect(found.at(-1)).toEqual(ranged ? expect.objectContaining({ step_id: stepIdOf(150) }) : undefined)
    expect(found[42]).toMatchObject({ step_id: stepIdOf(43), seq: 42, input: ['in', 42, 'ü😀"\\'], output: { n: 42 } })
  })

  it('is looked for in a small document by its range only, never for a step that is not there', () => {
    expect(find(small.traceId, stepIdOf(5))).toEqual(ranged ? expect.objectContaining({ step_id: stepIdOf(5), seq: 4 }) : undefined)
    expect(find(large.traceId, stepIdOf(999))).toBeUndefined()
  })

  it('is the right step when the data imitates one (by its range), or refused (in the text); the store returns the right one', async () => {
    expect(find(imitated.traceId, stepIdOf(51))).toEqual(ranged ? expect.objectContaining({ step_id: stepIdOf(51), seq: 50, input: ['in', 50, 'ü😀"\\'] }) : undefined)
    expect(await store.step(imitated.traceId, stepIdOf(51))).toEqual(imitated.steps[50])
    expect(await store.step(imitated.traceId, stepIdOf(11))).toEqual(imitated.steps[10])
  })

  it('gives the store the same steps and fields as json_extract would', async () => {
    for (const doc of [large, small] as TraceDocument[]) {
      for (const step of doc.steps) expect(await store.step(doc.traceId, step.stepId)).toEqual(step)
    }
    expect(await store.stepField(large.traceId, stepIdOf(43), 'input')).toEqual({ found: true, value: ['in', 42, 'ü😀"\\'] })
    expect(await store.stepField(large.traceId, stepIdOf(43), 'attemptErrors')).toEqual({ found: true, value: large.steps[42]!.attemptErrors })
  })

  const bySql = (traceId: string): unknown => JSON.parse((db.prepare("SELECT json_set(document, '$.steps', json('[]')) AS d FROM traces WHERE trace_id = ?").get(traceId) as { d: string }).d)

  it('is the header as json_set makes it, with the keys after the steps, even when the input and the last step imitate its parts', async () => {
    expect(header(large.traceId, large.rootSpanId ?? '')).toEqual(bySql(large.traceId))
    const found = header(tailed.traceId, tailed.rootSpanId ?? '')
    expect(found).toEqual(bySql(tailed.traceId))
    expect(found).toMatchObject({ replay_of: traceIdOf(0x51), parent_step_id: stepIdOf(0x99), steps: [] })
    const { steps: _steps, ...expected } = tailed
    expect(await store.headers(tailed.traceId)).toEqual([headerOf(tailed, 150)])
    expect((await store.headers(tailed.traceId))[0]).toMatchObject(expected)
  })

  it('does not look for the header of a small document', async () => {
    expect(header(small.traceId, small.rootSpanId ?? '')).toBeUndefined()
    expect(await store.headers(small.traceId)).toEqual([headerOf(small, 20)])
  })
})

describe('a step read again', () => {
  it('never comes from the bytes of a document replaced since', async () => {
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
})

describe('a large step read without parsing its large input or output', () => {
  // the input holds what imitates the output's key, and a character of 3 bytes across the preview's end
  const input = { text: 'x'.repeat(65_526) + '€€€' + 'y'.repeat(300_000), fake: ',"output":{"n":1},' }
  const output = ['ü'.repeat(200_000)]
  const big = makeDocument({
    traceId: traceIdOf(0x60),
    steps: [makeStep({ stepId: stepIdOf(0x61), seq: 0, name: 'big', input: input as never, output: output as never, metadata: { note: 'kept' } }), makeStep({ stepId: stepIdOf(0x62), seq: 1, name: 'small' })],
  })
  // NUL is stored as the escape \ufffd, as long as \u0000: the recorded size still says where the value ends
  const nul = makeDocument({ traceId: traceIdOf(0x63), steps: [makeStep({ stepId: stepIdOf(0x64), seq: 0, name: 'nul', input: ['\u0000'.repeat(100_000)] as never })] })
  let db: BetterSqlite3.Database
  let largeStep: ReturnType<typeof documentText>['largeStep']

  beforeAll(async () => {
    const path = join(directory, 'large.db')
    const sink = sqliteSink({ path })
    await sink.write([big, nul])
    sink.close()
    db = new Driver(path, { readonly: true })
    opened.push(db)
    largeStep = documentText(db, () => String(db.pragma('data_version', { simple: true }))).largeStep
  })

  it('gives each large field\'s first bytes and size, and the rest of the step as stored', () => {
    const found = largeStep(big.traceId, stepIdOf(0x61), 256 * 1024, 64 * 1024)
    const inputJson = JSON.stringify(input)
    const outputJson = JSON.stringify(output)

    expect(found?.large.input?.bytes).toBe(Buffer.byteLength(inputJson))
    expect(found?.large.output?.bytes).toBe(Buffer.byteLength(outputJson))
    // the first 64 KiB, ending before the € the limit cuts
    const preview = found?.large.input?.preview ?? ''
    expect(preview.length).toBe(inputJson.indexOf('€'))
    expect(inputJson.startsWith(preview)).toBe(true)
    const outputPreview = found?.large.output?.preview ?? '-'
    expect(Buffer.byteLength(outputPreview)).toBeGreaterThan(64 * 1024 - 2)
    expect(Buffer.byteLength(outputPreview)).toBeLessThanOrEqual(64 * 1024)
    expect(outputJson.startsWith(outputPreview)).toBe(true)
    expect(found?.step).toMatchObject({ step_id: stepIdOf(0x61), name: 'big', input: null, output: null, metadata: { note: 'kept' } })
  })

  it('reads a value whose stored text was made well-formed, and is not used for a small step', () => {
    const found = largeStep(nul.traceId, stepIdOf(0x64), 256 * 1024, 64 * 1024)
    expect(found?.large.input?.bytes).toBe(Buffer.byteLength(JSON.stringify(nul.steps[0]!.input)))
    expect(found?.large.input?.preview.startsWith('["\\ufffd\\ufffd')).toBe(true)
    expect(found?.step).toMatchObject({ step_id: stepIdOf(0x64), input: null })
    expect(largeStep(big.traceId, stepIdOf(0x62), 256 * 1024, 64 * 1024)).toBeUndefined()
  })
})
