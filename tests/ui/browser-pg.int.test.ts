// The viewer in a real Chromium over a PostgreSQL store (docs/ui.md#pages): traces written by
// postgresSink into this file's own database, the store opened read-only as `tracellm ui --db
// postgres://…` opens it, then the list, a filter from the URL, a trace page with its step tree and a
// step's pane; nothing from a trace runs and no request leaves the origin. TRACELLM_TEST_PG=skip skips it.
import { afterAll, beforeAll, expect, it } from '@jest/globals'
import type { TraceDocument, TraceId } from '../../src/document/document.js'
import { openStore, postgresSink, type TraceStore } from '../../src/index.js'
import { makeDocument, stepIdOf } from '../helpers/documents.js'
import { describePostgres, skipPostgres, usePostgresDatabase } from '../helpers/postgres.js'
import { at, startViewer, step, XSS, type Viewer } from './browser-harness.js'

// the browser's globals, used inside page.evaluate callbacks only (the tests' tsconfig has no DOM lib)
declare const document: any

const database = usePostgresDatabase()

const NESTED = 'aaaaaaaa000000000000000000000011' as TraceId
const FAILED = 'bbbbbbbb000000000000000000000012' as TraceId
const HOSTILE = 'cccccccc000000000000000000000013' as TraceId

function documents(): TraceDocument[] {
  const t1 = Date.parse('2026-11-24T10:00:00.000Z')
  const t2 = Date.parse('2026-11-24T11:00:00.000Z')
  const t3 = Date.parse('2026-11-24T12:00:00.000Z')
  return [
    makeDocument({
      traceId: NESTED, prompt: 'pg-answer', project: 'shop', startedAt: at(t1, 0), endedAt: at(t1, 100), durationMs: 100,
      steps: [
        step(0x101, t1, 0, 90, { name: 'plan', kind: 'chain', input: ['plan the answer'], output: { plan: 'search then write' } }),
        step(0x102, t1, 5, 30, { name: 'search', parentStepId: stepIdOf(0x101), input: ['postgres question'], output: [{ id: 1, title: 'found in postgres' }] }),
        step(0x103, t1, 40, 40, { name: 'write', parentStepId: stepIdOf(0x101), kind: 'llm' }),
      ],
    }),
    makeDocument({
      traceId: FAILED, prompt: 'pg-failing', project: 'blog', status: 'error', startedAt: at(t2, 0), endedAt: at(t2, 20), durationMs: 20,
      error: { type: 'RangeError', message: 'the tool gave up' },
      steps: [step(0x201, t2, 0, 15, { name: 'broken-tool', status: 'error', error: { type: 'RangeError', message: 'the tool gave up' } })],
    }),
    makeDocument({
      traceId: HOSTILE, prompt: XSS[0]!, project: 'blog', startedAt: at(t3, 0), endedAt: at(t3, 20), durationMs: 20, input: [XSS[1]!],
      steps: [step(0x301, t3, 0, 15, { name: XSS[3]!, input: XSS as unknown as string[], output: { link: XSS[2]! } })],
    }),
  ]
}

let store: TraceStore
let viewer: Viewer

beforeAll(async () => {
  if (skipPostgres) return
  const sink = postgresSink({ connectionString: database.url() })
  await sink.write(documents())
  await sink.close()
  store = await openStore(database.url(), { readOnly: true })
  viewer = await startViewer([], { store })
}, 60_000)

afterAll(async () => {
  await viewer?.close()
  await store?.close()
})

describePostgres('the viewer in Chromium over PostgreSQL', () => {
  it('lists the traces newest first, and filters from the URL', async () => {
    const page = await viewer.context.newPage()
    await page.goto(`${viewer.origin}/`)
    await page.locator(`tr[data-trace-id="${NESTED}"]`).waitFor()
    expect(await page.locator('tr.trace-row').evaluateAll((rows) => rows.map((row) => row.getAttribute('data-trace-id')))).toEqual([HOSTILE, FAILED, NESTED])
    expect(await page.locator(`tr[data-trace-id="${HOSTILE}"]`).textContent()).toContain(XSS[0])

    await page.goto(`${viewer.origin}/?project=blog&status=error`)
    await page.waitForFunction(() => document.querySelectorAll('tr.trace-row').length === 1)
    expect(await page.locator('tr.trace-row').getAttribute('data-trace-id')).toBe(FAILED)
    expect(await page.locator('select[name="status"]').inputValue()).toBe('error')
    await viewer.expectClean(page)
    await page.close()
  }, 30_000)

  it('opens a trace: its step tree from the skeleton, and a step\'s input and output in the pane', async () => {
    const page = await viewer.context.newPage()
    await page.goto(`${viewer.origin}/`)
    await page.locator(`tr[data-trace-id="${NESTED}"] a`).click()
    await page.waitForURL(`${viewer.origin}/trace/${NESTED}`)
    await page.locator('.step-row').first().waitFor()
    const names = await page.locator('.step-row .step-name').allTextContents()
    expect(names.map((name) => name.replace(/^[▾▸]/, ''))).toEqual(['plan', 'search', 'write'])

    await page.locator(`.step-row[data-step-id="${stepIdOf(0x102)}"]`).click()
    await page.waitForURL(new RegExp(`step=${stepIdOf(0x102)}`))
    const pane = page.locator(`[data-testid="step-pane"][data-step-id="${stepIdOf(0x102)}"]`)
    await pane.waitFor()
    expect(await pane.locator('[role="tabpanel"]').textContent()).toContain('postgres question')
    await pane.getByRole('tab', { name: 'Output' }).click()
    expect(await pane.locator('[role="tabpanel"]').textContent()).toContain('found in postgres')
    await viewer.expectClean(page)
    await page.close()
  }, 30_000)

  it('shows a hostile trace as text, from a deep link', async () => {
    const page = await viewer.context.newPage()
    await page.goto(`${viewer.origin}/trace/${HOSTILE}?step=${stepIdOf(0x301)}`)
    const pane = page.locator('[data-testid="step-pane"]')
    await pane.waitFor()
    expect(await page.locator('.step-row .step-name').first().textContent()).toContain(XSS[3])
    expect(await pane.locator('[role="tabpanel"]').textContent()).toContain('<script>window.__xss=1</script>')
    expect(await page.locator('main img, main script, main svg, main iframe').count()).toBe(0)
    await viewer.expectClean(page)
    await page.close()
  }, 30_000)

  it('sent no request but to its own origin, and logged no console error', () => {
    viewer.expectNoLeak()
  })
})
