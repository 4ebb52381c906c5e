// A step with a large input or output, as the viewer sends it (GET /api/traces/:id/steps/:stepId): on
// SQLite it is read without parsing the large values (store.largeStep, docs/ui.md#figures: the 10 MB
// field), and the answer is the one the whole step gives: the same preview, size and raw link.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { openStore, sqliteSink, type TraceStore } from '../../src/index.js'
import { stepDetail } from '../../src/ui/api.js'
import type { ViewerStore } from '../../src/ui/types.js'
import { makeDocument, makeStep, stepIdOf, traceIdOf } from '../helpers/documents.js'

const doc = makeDocument({
  traceId: traceIdOf(0x70),
  steps: [
    makeStep({ stepId: stepIdOf(1), seq: 0, name: 'huge', input: { prompt: 'é'.repeat(400_000) } as never, output: 'small', metadata: { model: 'm' } }),
    makeStep({ stepId: stepIdOf(2), seq: 1, name: 'both', input: ['a'.repeat(300_000)] as never, output: { text: 'b'.repeat(300_000) } as never, error: { type: 'Error', message: 'boom' } }),
  ],
})
let directory: string
let store: TraceStore

beforeAll(async () => {
  directory = mkdtempSync(join(tmpdir(), 'tracellm-large-step-'))
  const sink = sqliteSink({ path: join(directory, 'traces.db') })
  await sink.write([doc])
  sink.close()
  store = await openStore(join(directory, 'traces.db'), { readOnly: true })
})

afterAll(async () => {
  await store.close()
  rmSync(directory, { recursive: true, force: true })
})

describe('a large step in the viewer', () => {
  it('is answered from the store\'s large-step read exactly as from the whole step', async () => {
    const viewer = store as ViewerStore
    expect(typeof viewer.largeStep).toBe('function')
    const whole: ViewerStore = { ...viewer, largeStep: undefined }
    for (const stepId of [stepIdOf(1), stepIdOf(2)]) {
      const large = await viewer.largeStep!(doc.traceId, stepId, 256 * 1024, 64 * 1024)
      expect(large).toBeDefined()
      expect(await stepDetail(viewer, doc.traceId, stepId)).toEqual(await stepDetail(whole, doc.traceId, stepId))
    }
    const answer = (await stepDetail(viewer, doc.traceId, stepIdOf(2))) as { fields: Record<string, { inline: boolean }> }
    expect(answer.fields.input?.inline).toBe(false)
    expect(answer.fields.output?.inline).toBe(false)
    expect(answer.fields.error).toEqual({ inline: true, value: expect.objectContaining({ message: 'boom' }) })
  })
})
