// The compare page (docs/ui.md#compare) and the store overview (docs/ui.md#store-overview) in a real
// Chromium against the real server over a real SQLite store: aligned steps with = ~ + - markers and
// ratios, changes at JSON paths, the lazily loaded word diff, toggles kept in the URL, links to each
// side and step, "Compare with…" and "compare with original", one-line errors, the store's totals and
// top-10 tables with exact numbers, and the rendering rule (an XSS corpus stays text, no request leaves
// the origin). TRACELLM_UI_SCREENSHOTS=1 also writes docs/ui/compare.png and docs/ui/store.png.
import { mkdirSync } from 'node:fs'
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import type { Page } from 'playwright-core'
import type { TraceDocument, TraceId } from '../../src/document/document.js'
import { makeDocument, stepIdOf } from '../helpers/documents.js'
import { at, SCREENSHOTS, startViewer, step, XSS, type Viewer } from './browser-harness.js'

// the browser's globals, used inside page.evaluate callbacks only (the tests' tsconfig has no DOM lib)
declare const document: any

const A = '1111aaaa000000000000000000000001' as TraceId
const B = '2222bbbb000000000000000000000002' as TraceId
const REPLAY = '3333cccc000000000000000000000003' as TraceId
const X1 = '4444dddd000000000000000000000004' as TraceId
const X2 = '5555eeee000000000000000000000005' as TraceId
const UNKNOWN = '9999ffff000000000000000000000009' as TraceId

const SENTENCE = 'The quick brown fox jumps over the lazy dog near the quiet river bank'

function seedDocuments(): TraceDocument[] {
  const t1 = Date.parse('2025-01-10T10:00:00.000Z')
  const a = makeDocument({
    traceId: A, prompt: 'rag-answer', startedAt: at(t1, 0), endedAt: at(t1, 200), durationMs: 200, usage: { inputTokens: 100, outputTokens: 40 }, costUsd: 0.02,
    steps: [
      step(0x11, t1, 0, 10, { name: 'plan', kind: 'chain', input: ['plan A'], output: { plan: 'search' } }),
      step(0x12, t1, 10, 20, { name: 'search', output: [{ id: 1 }] }),
      step(0x13, t1, 30, 5, { name: 'rerank', kind: 'reranker' }),
      step(0x14, t1, 40, 50, { name: 'generate', kind: 'llm', model: 'gpt-4o', usage: { inputTokens: 100, outputTokens: 40 }, costUsd: 0.02, output: SENTENCE }),
      step(0x15, t1, 90, 10, { name: 'wait', output: 'done' }),
    ],
  })
  const t2 = Date.parse('2025-01-10T11:00:00.000Z')
  const b = makeDocument({
    traceId: B, prompt: 'rag-answer', startedAt: at(t2, 0), endedAt: at(t2, 200), durationMs: 200, retryCount: 1, usage: { inputTokens: 120, outputTokens: 60 }, costUsd: 0.03,
    steps: [
      step(0x21, t2, 0, 10, { name: 'plan', kind: 'chain', input: ['plan B'], output: { plan: 'search' } }),
      step(0x22, t2, 10, 20, { name: 'search', output: [{ id: 2 }], status: 'error', error: { type: 'TimeoutError', message: 'slow', code: 'ETIMEDOUT' } }),
      step(0x24, t2, 40, 50, {
        name: 'generate', kind: 'llm', model: 'gpt-4o', usage: { inputTokens: 120, outputTokens: 60 }, costUsd: 0.03, attempts: 2, retries: 1,
        output: SENTENCE.replace('dog', 'cat'),
      }),
      step(0x25, t2, 90, 30, { name: 'wait', output: 'done' }),
      step(0x26, t2, 120, 5, { name: 'cite' }),
    ],
  })
  const t3 = Date.parse('2025-01-10T12:00:00.000Z')
  const replay = makeDocument({
    traceId: REPLAY, prompt: 'rag-answer', replayOf: A, startedAt: at(t3, 0), endedAt: at(t3, 20), durationMs: 20,
    steps: [step(0x31, t3, 0, 10, { name: 'plan', kind: 'chain', input: ['plan A'], output: { plan: 'search' } })],
  })
  const t4 = Date.parse('2025-01-10T13:00:00.000Z')
  const hostile = (traceId: TraceId, offset: number, failed: boolean): TraceDocument => makeDocument({
    traceId, prompt: XSS[0]!, startedAt: at(t4, offset), endedAt: at(t4, offset + 10), durationMs: 10,
    ...(failed ? { status: 'error', error: { type: XSS[4]!, message: XSS[1]! } } : {}),
    steps: [step(0x41 + offset, t4, offset, 8, {
      name: XSS[3]!, kind: XSS[1]!, input: [XSS[failed ? 0 : 2]!], output: { html: XSS[failed ? 3 : 1]!, text: failed ? `${XSS[1]} and more words to diff here` : `${XSS[0]} and more words to diff here` },
      ...(failed ? { status: 'error', error: { type: XSS[4]!, message: XSS[0]! } } : {}),
    })],
  })
  return [a, b, replay, hostile(X1, 0, false), hostile(X2, 1000, true)]
}

let viewer: Viewer
let origin: string

beforeAll(async () => {
  viewer = await startViewer(seedDocuments())
  origin = viewer.origin
}, 60_000)

afterAll(async () => { await viewer?.close() })

const rows = (page: Page) => page.locator('tr.diff-row').evaluateAll((trs) => trs.map((tr) => [tr.querySelector('.diff-mark').textContent, tr.getAttribute('data-path'), tr.querySelector('.ratio').textContent]))
const statuses = (page: Page) => page.locator('tr.diff-row').evaluateAll((trs) => trs.map((tr) => `${tr.querySelector('.diff-mark').textContent} ${tr.getAttribute('data-path')}`))
const summary = async (page: Page): Promise<string> => ((await page.locator('[data-testid="compare-summary"]').textContent()) ?? '').replace(/\s+/g, ' ').trim()

describe('the compare page in Chromium', () => {
  it('aligns the steps of two traces with = ~ + - markers and duration ratios, and lists the changes at JSON paths', async () => {
    const page = await viewer.context.newPage()
    await page.goto(`${origin}/compare?a=${A}&b=${B}`)
    await page.locator('tr.diff-row').first().waitFor()

    expect(await rows(page)).toEqual([
      ['~', 'plan[0]', ''],
      ['~', 'search[0]', ''],
      ['-', 'rerank[0]', ''],
      ['~', 'generate[0]', ''],
      ['=', 'wait[0]', '×3.0'],
      ['+', 'cite[0]', ''],
    ])
    expect(await summary(page)).toBe('~ different 3 changed, 1 added, 1 removed, 1 same')
    // the removed step has only an A side, the added one only a B side
    expect(await page.locator('tr.diff-row[data-path="rerank[0]"] td.diff-absent').count()).toBe(1)
    expect(await page.locator('tr.diff-row[data-path="cite[0]"] td.diff-absent').count()).toBe(1)
    const changes = (path: string) => page.locator(`tr.diff-changes[data-path="${path}"] li.change`).allTextContents()
    expect(await changes('plan[0]')).toEqual(['input $[0]: "plan A" → "plan B"'])
    expect(await changes('search[0]')).toEqual(['status: success → error', 'error: (none) → TimeoutError [ETIMEDOUT]: slow', 'output $[0].id: 1 → 2'])
    expect(await page.locator('[data-testid="trace-changes"] li.change').allTextContents()).toEqual(['retryCount: 0 → 1'])
    // n / N walk the steps that differ, skipping the same ones
    const current = () => page.locator('tr.diff-row.current').getAttribute('data-path')
    await page.keyboard.press('n')
    expect(await current()).toBe('plan[0]')
    await page.keyboard.press('N')
    expect(await current()).toBe('cite[0]')
    await page.keyboard.press('N')
    expect(await current()).toBe('generate[0]')

    // the long output differs by one word: exactly that word is marked, from a lazily loaded chunk
    const words = page.locator('tr.diff-changes[data-path="generate[0]"] [data-testid="word-diff"]')
    await words.waitFor()
    expect((await words.locator('del').allTextContents()).map((text) => text.trim())).toEqual(['dog'])
    expect((await words.locator('ins').allTextContents()).map((text) => text.trim())).toEqual(['cat'])
    expect(await words.textContent()).toBe(`${SENTENCE.replace('dog', 'dogcat')}`)
    expect(viewer.requests.some((url) => /\/chunks\/word-diff-[\w-]+\.js$/.test(url))).toBe(true)
    if (SCREENSHOTS) { mkdirSync('docs/ui', { recursive: true }); await page.screenshot({ path: 'docs/ui/compare.png', fullPage: true }) }
    await viewer.expectClean(page)
    await page.close()
  }, 30_000)

  it('passes the duration-ratio and ignore toggles to the diff, keeps them in the URL, and across a reload', async () => {
    const page = await viewer.context.newPage()
    await page.goto(`${origin}/compare?a=${A}&b=${B}`)
    await page.locator('tr.diff-row').first().waitFor()

    await page.selectOption('select[name="durationRatio"]', '2')
    await page.waitForURL(/durationRatio=2/)
    await page.waitForFunction(() => document.querySelector('tr.diff-row[data-path="wait[0]"]').getAttribute('data-status') === 'changed')
    expect(await page.locator('tr.diff-changes[data-path="wait[0]"] li.change').allTextContents()).toEqual(['duration: 10 ms → 30 ms ×3.0'])
    await page.check('input[name="ignore-input"]')
    await page.waitForURL(/ignore=input/)
    await page.waitForFunction(() => document.querySelector('tr.diff-row[data-path="plan[0]"]').getAttribute('data-status') === 'same')
    expect(await summary(page)).toBe('~ different 3 changed, 1 added, 1 removed, 1 same')
    expect(await statuses(page)).toEqual(['= plan[0]', '~ search[0]', '- rerank[0]', '~ generate[0]', '~ wait[0]', '+ cite[0]'])

    await page.reload()
    await page.waitForFunction(() => document.querySelector('tr.diff-row[data-path="plan[0]"]')?.getAttribute('data-status') === 'same')
    expect(await statuses(page)).toEqual(['= plan[0]', '~ search[0]', '- rerank[0]', '~ generate[0]', '~ wait[0]', '+ cite[0]'])
    expect(await page.locator('select[name="durationRatio"]').inputValue()).toBe('2')
    expect(await page.locator('input[name="ignore-input"]').isChecked()).toBe(true)
    expect(await page.locator('input[name="ignore-metadata"]').isChecked()).toBe(false)

    // off again: back to the defaults
    await page.uncheck('input[name="ignore-input"]')
    await page.selectOption('select[name="durationRatio"]', '')
    await page.waitForFunction(() => document.querySelector('tr.diff-row[data-path="wait[0]"]').getAttribute('data-status') === 'same')
    expect(page.url()).toBe(`${origin}/compare?a=${A}&b=${B}`)
    await viewer.expectClean(page)
    await page.close()
  }, 30_000)

  it('opens each side, and each aligned step, in one click', async () => {
    const page = await viewer.context.newPage()
    await page.goto(`${origin}/compare?a=${A}&b=${B}`)
    await page.locator('tr.diff-row').first().waitFor()
    expect(await page.locator('.compare-side[data-side="a"] a.side-link').getAttribute('href')).toBe(`/trace/${A}`)

    await page.locator('.compare-side[data-side="b"] a.side-link').click()
    await page.waitForURL(`${origin}/trace/${B}`)
    await page.locator('.step-row').first().waitFor()
    await page.goBack()
    await page.locator('tr.diff-row').first().waitFor()

    expect(await page.locator('tr.diff-row[data-path="rerank[0]"] a').getAttribute('href')).toBe(`/trace/${A}?step=${stepIdOf(0x13)}`)
    await page.locator('tr.diff-row[data-path="search[0]"] td:nth-child(5) a').click()
    await page.waitForURL(`${origin}/trace/${B}?step=${stepIdOf(0x22)}`)
    await page.locator(`[data-testid="step-pane"][data-step-id="${stepIdOf(0x22)}"]`).waitFor()
    await viewer.expectClean(page)
    await page.close()
  }, 30_000)

  it('offers "compare with original" for a replay, and a picker over the traces of the same prompt, newest first', async () => {
    const page = await viewer.context.newPage()
    await page.goto(`${origin}/compare?a=${B}&b=${REPLAY}`)
    await page.locator('tr.diff-row').first().waitFor()
    // side A is no replay: no such link there
    expect(await page.locator('.compare-side[data-side="a"] a.compare-original').count()).toBe(0)

    const picker = page.locator('.compare-side[data-side="b"] [data-testid="compare-with"]')
    await picker.getByRole('button', { name: 'Compare with…' }).click()
    await picker.locator('a.compare-choice').first().waitFor()
    expect(await picker.locator('a.compare-choice').evaluateAll((links) => links.map((link) => link.getAttribute('href')))).toEqual([
      `/compare?a=${B}&b=${REPLAY}`, `/compare?a=${A}&b=${REPLAY}`,
    ])

    await page.locator('.compare-side[data-side="b"] a.compare-original').click()
    await page.waitForURL(`${origin}/compare?a=${A}&b=${REPLAY}`)
    await page.waitForFunction(() => document.querySelectorAll('tr.diff-row').length === 5)
    expect(await statuses(page)).toEqual(['= plan[0]', '- search[0]', '- rerank[0]', '- generate[0]', '- wait[0]'])
    await viewer.expectClean(page)
    await page.close()
  }, 30_000)

  it('shows a bad or unknown id as one line', async () => {
    const page = await viewer.context.newPage()
    await page.goto(`${origin}/compare?a=nothex&b=${B}`)
    const alert = page.locator('[role="alert"]')
    await alert.waitFor()
    expect(await alert.allTextContents()).toEqual(['Expected a trace id of 32 lowercase hex characters.'])
    await page.goto(`${origin}/compare?a=${UNKNOWN}&b=${B}`)
    await alert.waitFor()
    expect(await alert.allTextContents()).toEqual([`no trace with id ${UNKNOWN}`])
    expect(await page.locator('tr.diff-row').count()).toBe(0)

    // without both ids the page asks for them, and checks them before asking the server
    await page.goto(`${origin}/compare`)
    await page.fill('input[name="a"]', 'zz')
    await page.fill('input[name="b"]', B)
    await page.getByRole('button', { name: 'Compare' }).click()
    expect(await alert.allTextContents()).toEqual(['Expected two trace ids of 32 lowercase hex characters.'])
    await page.fill('input[name="a"]', A)
    await page.getByRole('button', { name: 'Compare' }).click()
    await page.waitForURL(`${origin}/compare?a=${A}&b=${B}`)
    await page.locator('tr.diff-row').first().waitFor()
    await viewer.expectClean(page)
    await page.close()
  }, 30_000)

  it('renders the XSS corpus in step names, outputs and word diffs as text', async () => {
    const page = await viewer.context.newPage()
    await page.goto(`${origin}/compare?a=${X1}&b=${X2}`)
    await page.locator('tr.diff-row').first().waitFor()
    await page.locator('[data-testid="word-diff"]').first().waitFor()
    expect(await page.locator('tr.diff-row a').first().textContent()).toBe(XSS[3])
    expect(await page.locator('.compare-side[data-side="a"] a.side-link').textContent()).toBe(XSS[0])
    const text = (await page.locator('main').textContent()) ?? ''
    expect(text).toContain('<script>window.__xss=1</script>')
    expect(await page.locator('main img, main script, main svg, main iframe').count()).toBe(0)
    const hrefs = await page.locator('a').evaluateAll((links) => links.map((link) => link.getAttribute('href')))
    expect(hrefs.filter((href) => href === null || !href.startsWith('/'))).toEqual([])
    await page.waitForTimeout(200)
    await viewer.expectClean(page)
    await page.close()
  }, 30_000)
})

describe('the store overview in Chromium', () => {
  it('shows the totals and the top-10 tables with the numbers of the seed, and a time preset kept in the URL', async () => {
    const before = viewer.requests.length
    const page = await viewer.context.newPage()
    await page.goto(`${origin}/store`)
    await page.locator('table[data-table="failing"]').waitFor()
    const table = (id: string) => page.locator(`table[data-table="${id}"] tbody tr`).evaluateAll((trs) => trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent)))
    const total = (label: string) => page.locator(`[data-total="${label}"] .total-value`).textContent()

    expect(await total('traces')).toBe('5')
    expect(await total('steps')).toBe('13')
    expect(await total('failed traces')).toBe('1')
    expect(await total('retries')).toBe('1')
    expect(await total('tokens in / out')).toBe('220 / 100')
    expect(await total('cost')).toBe('$0.0500')
    expect(await table('failing')).toEqual([[XSS[3], '2', '1', '50.0%'], ['search', '2', '1', '50.0%']])
    expect(await table('slowest')).toEqual([
      ['generate', '2', '50 ms', '50 ms'],
      ['wait', '2', '20 ms', '29 ms'],
      ['search', '2', '20 ms', '20 ms'],
      ['plan', '3', '10 ms', '10 ms'],
      [XSS[3], '2', '8 ms', '8 ms'],
      ['cite', '1', '5 ms', '5 ms'],
      ['rerank', '1', '5 ms', '5 ms'],
    ])
    expect(await table('retried')).toEqual([['generate', '2', '1', '1']])
    expect(await table('models')).toEqual([['gpt-4o', '2', '220', '100', '$0.0500']])
    expect(await table('prompts')).toEqual([['rag-answer', '3', '220', '100', '$0.0500'], [XSS[0], '2', '0', '0', '']])
    expect(await page.locator('main img, main script, main svg').count()).toBe(0)
    if (SCREENSHOTS) await page.screenshot({ path: 'docs/ui/store.png', fullPage: true })
    // the word diff's chunk is not part of this page
    expect(viewer.requests.slice(before).some((url) => url.includes('/chunks/word-diff-'))).toBe(false)

    // the seed is older than 15 minutes: the tables empty, the totals stay
    await page.locator('.presets button[data-since="15m"]').click()
    await page.waitForURL(`${origin}/store?since=15m`)
    await page.getByText('No step failed.').waitFor()
    await page.reload()
    await page.getByText('No step failed.').waitFor()
    expect(await page.locator('.presets button[data-since="15m"]').getAttribute('aria-pressed')).toBe('true')
    expect(await total('traces')).toBe('5')
    await page.locator('.presets button[data-since=""]').click()
    await page.locator('table[data-table="failing"]').waitFor()
    expect(page.url()).toBe(`${origin}/store`)
    // a prompt's name opens the list of its traces (the XSS prompt's name encoded, rendered as text)
    expect(await page.locator('table[data-table="prompts"] a').evaluateAll((links) => links.map((a) => a.getAttribute('href')))).toEqual([
      '/?prompt=rag-answer', `/?${new URLSearchParams({ prompt: XSS[0]! }).toString()}`,
    ])
    expect(await page.locator('table[data-table="models"] a').getAttribute('href')).toBe('/?model=gpt-4o')
    await page.locator('table[data-table="prompts"] a', { hasText: 'rag-answer' }).click()
    await page.waitForURL(`${origin}/?prompt=rag-answer`)
    await page.locator('[data-testid="list-count"]').getByText(/\b3\b/).waitFor()
    await viewer.expectClean(page)
    await page.close()
  }, 30_000)

  it('sent no request but to its own origin, and logged no console error but the refusals the error test asked for', () => {
    expect(viewer.consoleErrors).toEqual([
      'Failed to load resource: the server responded with a status of 400 (Bad Request)',
      'Failed to load resource: the server responded with a status of 404 (Not Found)',
    ])
    viewer.consoleErrors.length = 0
    viewer.expectNoLeak()
  })
})
