// The viewer's browser client in a real Chromium (playwright-core, /usr/bin/chromium) against the real
// server over a real SQLite store: the traces list, the trace page with its virtualized step tree and
// step pane, deep links, and the rendering rule (a trace's text never runs: an XSS corpus stays text,
// no request leaves the origin, no CSP violation, no console error).
// TRACELLM_UI_SCREENSHOTS=1 also writes docs/ui/traces.png and docs/ui/trace.png.
import { mkdirSync } from 'node:fs'
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import type { Page } from 'playwright-core'
import type { JsonValue, StepRecord, TraceDocument, TraceId } from '../../src/document/document.js'
import { makeDocument, stepIdOf } from '../helpers/documents.js'
import { at, SCREENSHOTS, startViewer, step, XSS, type Viewer } from './browser-harness.js'

// the browser's globals, used inside page.evaluate callbacks only (the tests' tsconfig has no DOM lib)
declare const window: any, document: any, getComputedStyle: (element: any) => { paddingLeft: string }

const NESTED = 'aaaaaaaa000000000000000000000001' as TraceId
const FAILED = 'bbbbbbbb000000000000000000000002' as TraceId
const HOSTILE = 'cccccccc000000000000000000000003' as TraceId
const BIG = 'dddddddd000000000000000000000004' as TraceId
const REPLAY = 'eeeeeeee000000000000000000000005' as TraceId
const LARGE = 'ffffffff000000000000000000000006' as TraceId
const NOOUTPUT = '99999999000000000000000000000007' as TraceId

function seedDocuments() {
  const t1 = Date.parse('2026-11-24T10:00:00.000Z')
  const nested = makeDocument({
    traceId: NESTED, prompt: 'answer-question', startedAt: at(t1, 0), endedAt: at(t1, 100), durationMs: 100,
    input: ['What is RAG?'], output: { answer: 'Retrieval-augmented generation' },
    steps: [
      step(0x101, t1, 0, 90, { name: 'plan', kind: 'chain', input: ['plan the answer'], output: { plan: 'search then write' } }),
      step(0x102, t1, 5, 30, { name: 'search', parentStepId: stepIdOf(0x101), input: ['RAG definition'], output: [{ id: 1, title: 'RAG paper' }] }),
      step(0x103, t1, 10, 10, { name: 'embed', parentStepId: stepIdOf(0x102), kind: 'llm' }),
      step(0x104, t1, 40, 40, {
        name: 'flaky-call', parentStepId: stepIdOf(0x101), attempts: 2, retries: 1,
        attemptErrors: [{ attempt: 1, error: { type: 'TimeoutError', message: 'first attempt timed out' } }],
      }),
    ],
  })
  const t2 = Date.parse('2026-11-24T11:00:00.000Z')
  const failed = makeDocument({
    traceId: FAILED, prompt: 'failing-prompt', status: 'error', startedAt: at(t2, 0), endedAt: at(t2, 20), durationMs: 20,
    error: { type: 'RangeError', message: 'the tool gave up' },
    steps: [step(0x201, t2, 0, 15, { name: 'broken-tool', status: 'error', error: { type: 'RangeError', message: 'the tool gave up' } })],
  })
  const t3 = Date.parse('2026-11-24T12:00:00.000Z')
  const corpus = XSS as unknown as JsonValue
  const hostile = makeDocument({
    traceId: HOSTILE, prompt: XSS[0]!, status: 'error', startedAt: at(t3, 0), endedAt: at(t3, 20), durationMs: 20,
    input: [XSS[1]!], output: { url: XSS[2]!, html: XSS[3]! }, error: { type: XSS[4]!, message: XSS[0]! },
    tags: [XSS[1]!], metadata: { [XSS[0]!]: corpus },
    steps: [step(0x301, t3, 0, 15, {
      name: XSS[3]!, kind: XSS[1]!, status: 'error', input: corpus, output: { link: XSS[2]! }, metadata: { html: corpus },
      error: { type: XSS[4]!, message: XSS[1]! },
    })],
  })
  const t4 = Date.parse('2026-11-24T13:00:00.000Z')
  const bigSteps: StepRecord[] = []
  for (let i = 0; i < 2000; i++) {
    const parent = i % 50 === 0 ? null : stepIdOf(0x10000 + i - (i % 50))
    bigSteps.push(step(0x10000 + i, t4, i, 1 + (i % 7), { name: `step-${i}`, parentStepId: parent, input: [i], output: { i } }))
  }
  const big = makeDocument({ traceId: BIG, prompt: 'big-trace', startedAt: at(t4, 0), endedAt: at(t4, 2010), durationMs: 2010, steps: bigSteps })
  const t5 = Date.parse('2026-11-24T14:00:00.000Z')
  const replay = makeDocument({ traceId: REPLAY, prompt: 'replayed', replayOf: NESTED, startedAt: at(t5, 0), endedAt: at(t5, 5), durationMs: 5, steps: [step(0x501, t5, 0, 3)] })
  // the same trace continued in another service, under the flaky call
  const continued = makeDocument({
    traceId: NESTED, rootSpanId: stepIdOf(0x601), parentTraceId: NESTED, parentStepId: stepIdOf(0x104), prompt: 'downstream-service',
    startedAt: at(t1, 50), endedAt: at(t1, 70), durationMs: 20, steps: [step(0x602, t1, 52, 12, { name: 'remote-lookup' })],
  } as Partial<TraceDocument>)
  // a large step input, sent as a preview with a raw link
  const large = makeDocument({
    traceId: LARGE, prompt: 'large-input', startedAt: at(t5, 10), endedAt: at(t5, 20), durationMs: 10,
    steps: [step(0x701, t5, 10, 5, { name: 'big-input', input: ['x'.repeat(300 * 1024)] })],
  })
  // a day earlier, enough to need a second page
  const t0 = Date.parse('2026-11-23T10:00:00.000Z')
  const fillers = Array.from({ length: 60 }, (_, n) => makeDocument({
    traceId: (0xf000 + n).toString(16).padStart(32, '0') as TraceId, project: 'filler', prompt: `filler-${n}`,
    startedAt: at(t0, n * 1000), endedAt: at(t0, n * 1000 + 5), durationMs: 5, steps: [step(0x800 + n, t0, n * 1000, 2)],
  }))
  // a trace whose function returned nothing: the trace page must not need an output
  const noOutput = makeDocument({
    traceId: NOOUTPUT, prompt: 'no-output', startedAt: at(t0, -1000), endedAt: at(t0, -995), durationMs: 5,
    output: undefined, steps: [step(0x901, t0, -1000, 2)],
  } as Partial<TraceDocument>)
  return [nested, continued, failed, hostile, big, replay, large, ...fillers, noOutput]
}

let viewer: Viewer
let origin: string
let context: Viewer['context']

beforeAll(async () => {
  viewer = await startViewer(seedDocuments())
  origin = viewer.origin
  context = viewer.context
}, 60_000)

afterAll(async () => { await viewer?.close() })

const expectClean = (page: Page): Promise<void> => viewer.expectClean(page)

describe('the viewer in Chromium', () => {
  it('lists the seeded traces, with markers, previews as text, and filters kept in the URL', async () => {
    const page = await context.newPage()
    await page.goto(`${origin}/`)
    await page.locator(`tr[data-trace-id="${NESTED}"]:not([data-continued])`).waitFor()
    const ids = await page.locator('tr.trace-row').evaluateAll((rows) => rows.map((row) => row.getAttribute('data-trace-id')))
    expect(ids).toHaveLength(50)
    expect(ids.slice(0, 7)).toEqual([LARGE, REPLAY, BIG, HOSTILE, FAILED, NESTED, NESTED])
    expect(await page.locator(`tr[data-trace-id="${NESTED}"][data-continued]`).textContent()).toContain('↳')
    const replayRow = page.locator(`tr[data-trace-id="${REPLAY}"]`)
    expect(await replayRow.textContent()).toContain('↺')
    expect(await replayRow.textContent()).toContain('replayed')
    // the hostile trace's prompt, input and error are shown as the very text they are
    const hostileRow = page.locator(`tr[data-trace-id="${HOSTILE}"]`)
    const text = (await hostileRow.textContent()) ?? ''
    expect(text).toContain(XSS[0])
    expect(text).toContain('<script>window.__xss=1</script>')
    expect(await hostileRow.locator('img, script, svg').count()).toBe(0)
    if (SCREENSHOTS) { mkdirSync('docs/ui', { recursive: true }); await page.screenshot({ path: 'docs/ui/traces.png' }) }

    // a filter goes into the URL and survives a reload
    await page.selectOption('select[name="status"]', 'error')
    await page.click('form.filters button[type="submit"]')
    await page.waitForURL(/status=error/)
    await page.waitForFunction(() => document.querySelectorAll('tr.trace-row').length === 2)
    await page.reload()
    await page.waitForFunction(() => document.querySelectorAll('tr.trace-row').length === 2)
    expect(await page.locator('select[name="status"]').inputValue()).toBe('error')
    expect(await page.locator('tr.trace-row').evaluateAll((rows) => rows.map((row) => row.getAttribute('data-trace-id')))).toEqual([HOSTILE, FAILED])
    await expectClean(page)
    await page.close()
  }, 30_000)

  it('searches by text from the search box, and loads the next page by cursor', async () => {
    const page = await context.newPage()
    await page.goto(`${origin}/`)
    await page.locator('tr.trace-row').first().waitFor()
    await page.fill('input[name="text"]', 'gave up')
    await page.press('input[name="text"]', 'Enter')
    await page.waitForURL(/text=gave\+up/)
    await page.waitForFunction(() => document.querySelectorAll('tr.trace-row').length === 1)
    expect(await page.locator('tr.trace-row').getAttribute('data-trace-id')).toBe(FAILED)

    await page.goto(`${origin}/?project=filler`)
    await page.waitForFunction(() => document.querySelectorAll('tr.trace-row').length === 50)
    await page.getByRole('button', { name: 'Load more' }).click()
    await page.waitForFunction(() => document.querySelectorAll('tr.trace-row').length === 60)
    const prompts = await page.locator('tr.trace-row td:nth-child(3)').allTextContents()
    expect(new Set(prompts).size).toBe(60)
    expect(await page.getByRole('button', { name: 'Load more' }).count()).toBe(0)
    await expectClean(page)
    await page.close()
  }, 30_000)

  it('opens a trace from the list, shows its step tree, and a step\'s input and output in the pane', async () => {
    const page = await context.newPage()
    await page.goto(`${origin}/`)
    await page.locator(`tr[data-trace-id="${NESTED}"]:not([data-continued]) a`).click()
    await page.waitForURL(`${origin}/trace/${NESTED}`)
    await page.locator('.step-row').first().waitFor()
    const names = await page.locator('.step-row .step-name').allTextContents()
    expect(names.map((name) => name.replace(/^[▾▸]/, ''))).toEqual(['plan', 'search', 'embed', 'flaky-call', 'remote-lookup'])
    // collapse and expand
    await page.locator(`.step-row[data-step-id="${stepIdOf(0x102)}"] .toggle`).click()
    expect(await page.locator('.step-row').count()).toBe(4)
    await page.locator(`.step-row[data-step-id="${stepIdOf(0x102)}"] .toggle`).click()
    expect(await page.locator('.step-row').count()).toBe(5)
    // the continued document's step hangs under the flaky call, one level deeper
    const indent = (id: string) => page.locator(`.step-row[data-step-id="${id}"] .step-name`).evaluate((el) => parseFloat(getComputedStyle(el).paddingLeft))
    expect(await indent(stepIdOf(0x602))).toBeGreaterThan(await indent(stepIdOf(0x104)))

    await page.locator(`.step-row[data-step-id="${stepIdOf(0x102)}"]`).click()
    await page.waitForURL(new RegExp(`step=${stepIdOf(0x102)}`))
    const pane = page.locator(`[data-testid="step-pane"][data-step-id="${stepIdOf(0x102)}"]`)
    await pane.waitFor()
    expect(await pane.locator('[role="tabpanel"]').textContent()).toContain('RAG definition')
    await pane.getByRole('tab', { name: 'Output' }).click()
    expect(await pane.locator('[role="tabpanel"]').textContent()).toContain('"title": "RAG paper"')

    await page.locator(`.step-row[data-step-id="${stepIdOf(0x104)}"]`).click()
    const retried = page.locator(`[data-testid="step-pane"][data-step-id="${stepIdOf(0x104)}"]`)
    await retried.waitFor()
    await retried.getByRole('tab', { name: 'Error & attempts' }).click()
    const attempts = (await retried.locator('[role="tabpanel"]').textContent()) ?? ''
    expect(attempts).toContain('2 attempt(s), 1 retry')
    expect(attempts).toContain('first attempt timed out')
    // the header lists the replays of this trace, loaded with the page
    await page.locator(`[data-testid="replays"] a[href="/trace/${REPLAY}"]`).waitFor()
    if (SCREENSHOTS) await page.screenshot({ path: 'docs/ui/trace.png' })
    await expectClean(page)
    await page.close()
  }, 30_000)

  it('offers "compare with original" on a replay\'s page, and "Compare with…" over the same prompt', async () => {
    const page = await context.newPage()
    await page.goto(`${origin}/trace/${REPLAY}`)
    const original = page.locator('header, main').locator(`a.compare-original[href="/compare?a=${NESTED}&b=${REPLAY}"]`)
    await original.waitFor()
    await original.click()
    await page.waitForURL(`${origin}/compare?a=${NESTED}&b=${REPLAY}`)
    await page.goto(`${origin}/trace/${NESTED}`)
    await page.locator('[data-testid="compare-with"] button').click()
    await page.locator('.compare-picker').waitFor()
    await expectClean(page)
    await page.close()
  }, 30_000)

  it('opens a trace without an output, and shows the Messages view on the trace page', async () => {
    const page = await context.newPage()
    await page.goto(`${origin}/trace/${NOOUTPUT}`)
    await page.locator('.step-row').first().waitFor()
    await page.goto(`${origin}/trace/${NESTED}?view=messages`)
    const messages = page.locator('[data-testid="messages"]')
    await messages.waitFor()
    expect(await messages.locator(`[data-step-id="${stepIdOf(0x103)}"]`).count()).toBeGreaterThan(0)
    await page.waitForTimeout(300)
    await expectClean(page)
    expect(viewer.consoleErrors).toEqual([])
    await page.close()
  }, 30_000)

  it('restores a deep-linked step on reload', async () => {
    const page = await context.newPage()
    await page.goto(`${origin}/trace/${NESTED}?step=${stepIdOf(0x101)}`)
    await page.locator(`[data-testid="step-pane"][data-step-id="${stepIdOf(0x101)}"]`).waitFor()
    await page.reload()
    const pane = page.locator(`[data-testid="step-pane"][data-step-id="${stepIdOf(0x101)}"]`)
    await pane.waitFor()
    expect(await pane.locator('[role="tabpanel"]').textContent()).toContain('plan the answer')
    expect(await page.locator(`.step-row.selected`).getAttribute('data-step-id')).toBe(stepIdOf(0x101))
    await expectClean(page)
    await page.close()
  }, 30_000)

  it('renders the XSS corpus as text everywhere: list, trace, step tree, every tab', async () => {
    const page = await context.newPage()
    await page.goto(`${origin}/trace/${HOSTILE}?step=${stepIdOf(0x301)}`)
    const pane = page.locator('[data-testid="step-pane"]')
    await pane.waitFor()
    expect(await page.locator('.step-row .step-name').first().textContent()).toContain(XSS[3])
    expect(await page.locator('h2').textContent()).toContain(XSS[0])
    for (const tab of ['Input', 'Output', 'Error & attempts', 'Metadata', 'Raw']) {
      await pane.getByRole('tab', { name: tab }).click()
      await page.locator(`[role="tabpanel"][data-tab="${tab}"]`).waitFor()
    }
    expect(await pane.locator('[role="tabpanel"]').textContent()).toContain('javascript:window.__xss=1')
    // nothing in the document came from the trace as markup
    expect(await page.locator('main img, main script, main svg, main iframe').count()).toBe(0)
    const hrefs = await page.locator('a').evaluateAll((links) => links.map((link) => link.getAttribute('href')))
    expect(hrefs.filter((href) => href === null || !href.startsWith('/'))).toEqual([])
    await page.waitForTimeout(200)
    await expectClean(page)
    await page.close()
  }, 30_000)

  it('virtualizes a 2 000-step tree: at most twice the visible rows are in the DOM', async () => {
    const page = await context.newPage()
    await page.goto(`${origin}/trace/${BIG}`)
    await page.locator('.step-row').first().waitFor()
    const measure = () => page.evaluate(() => {
      const tree = document.querySelector('[data-testid="step-tree"]')
      const row = document.querySelector('.step-row')
      return { rendered: document.querySelectorAll('.step-row').length, visible: Math.ceil(tree.clientHeight / row.offsetHeight) }
    })
    const top = await measure()
    expect(top.visible).toBeGreaterThan(5)
    expect(top.rendered).toBeLessThanOrEqual(2 * top.visible)
    // scrolled to the end, the last steps are there, and still only a window of rows
    await page.locator('[data-testid="step-tree"]').evaluate((tree) => { tree.scrollTop = tree.scrollHeight })
    await page.locator(`.step-row[data-step-id="${stepIdOf(0x10000 + 1999)}"]`).waitFor()
    const bottom = await measure()
    expect(bottom.rendered).toBeLessThanOrEqual(2 * bottom.visible)
    await expectClean(page)
    await page.close()
  }, 30_000)

  it('shows a large field as a preview with a link to its raw value', async () => {
    const page = await context.newPage()
    await page.goto(`${origin}/trace/${LARGE}?step=${stepIdOf(0x701)}`)
    const panel = page.locator('[data-testid="step-pane"] [role="tabpanel"]')
    await panel.waitFor()
    expect(await panel.textContent()).toMatch(/Preview of [\d,]+ bytes/)
    const href = await panel.locator('a').getAttribute('href')
    expect(href).toBe(`/api/traces/${LARGE}/steps/${stepIdOf(0x701)}/raw/input`)
    const raw = await page.request.get(`${origin}${href}`)
    expect(JSON.parse(await raw.text())).toEqual(['x'.repeat(300 * 1024)])
    await expectClean(page)
    await page.close()
  }, 30_000)

  it('sent no request but to its own origin, and logged no console error', () => {
    expect(viewer.requests.length).toBeGreaterThan(10)
    viewer.expectNoLeak()
  })
})
