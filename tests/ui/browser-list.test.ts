// The traces list (docs/ui.md#traces-list-in-detail) in a real Chromium against a real SQLite store:
// facet chips with counts, time presets, text scope, sorts, the id-prefix jump, filter state in the
// URL, keyset infinite scroll with the lazy total, selection → compare, JSONL export, the list's keys,
// the XSS corpus in previews and facets, the empty store, and the live bar after another writer.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import type { Page } from 'playwright-core'
import type { TraceDocument, TraceId } from '../../src/document/document.js'
import { openStore, sqliteSink } from '../../src/index.js'
import { makeDocument, makeStep, stepIdOf } from '../helpers/documents.js'
import { startViewer, XSS, type Viewer } from './browser-harness.js'

// the browser's globals, used inside page.evaluate callbacks only (the tests' tsconfig has no DOM lib)
declare const window: any, document: any

const hex = (prefix: string): TraceId => prefix.padEnd(32, '0') as TraceId
const A = hex('a1a1a1a1')
const B = hex('b2b2b2b2')
const C = hex('c3c3c3c3')
const D = hex('f0f00001')
const E = hex('f0f00002')
const X = hex('dddddddd')
const NOW = Date.now()
const ago = (ms: number): string => new Date(NOW - ms).toISOString()
const MIN = 60_000
const HOUR = 60 * MIN
const DAY = 24 * HOUR

function seed(): TraceDocument[] {
  const doc = (traceId: TraceId, startedAt: string, overrides: Parameters<typeof makeDocument>[0]) =>
    makeDocument({ traceId, startedAt, endedAt: startedAt, steps: [makeStep({ startedAt, endedAt: startedAt })], ...overrides })
  return [
    doc(A, ago(30 * MIN), {
      project: 'shop', environment: 'prod', prompt: 'checkout', modelName: 'gpt-4o', durationMs: 120, costUsd: 0.5,
      input: 'find the red shoes', output: 'found 3 shoes', metadata: { note: 'vip customer' }, tags: ['beta'],
    }),
    // A continued in another service
    makeDocument({
      traceId: A, rootSpanId: stepIdOf(0xa0), parentTraceId: A, parentStepId: stepIdOf(1), project: 'shop', environment: 'prod', prompt: 'downstream',
      startedAt: ago(30 * MIN - 50), endedAt: ago(30 * MIN - 60), steps: [makeStep({ stepId: stepIdOf(0xa1) })],
    } as Parameters<typeof makeDocument>[0]),
    doc(B, ago(3 * HOUR), {
      project: 'shop', environment: 'dev', prompt: 'search', modelName: 'claude', durationMs: 2500, costUsd: 0.01, retryCount: 2,
      status: 'error', error: { type: 'TimeoutError', message: 'upstream timed out' }, input: 'timeout test input',
    }),
    doc(C, ago(3 * DAY), { project: 'blog', environment: 'prod', prompt: 'summarize', modelName: 'gpt-4o', durationMs: 800, costUsd: 2, input: 'summarize the article', output: 'a summary mentioning shoes' }),
    doc(D, ago(10 * DAY), { project: 'blog', prompt: 'draft', durationMs: 10 }),
    doc(E, ago(10 * DAY - 1000), { project: 'blog', prompt: 'summarize', replayOf: C, durationMs: 11 }),
    doc(X, ago(40 * DAY), {
      prompt: XSS[0]!, status: 'error', input: XSS[1]!, output: XSS[2]!, error: { type: XSS[4]!, message: XSS[3]! }, tags: [XSS[1]!], durationMs: 1,
    }),
    ...Array.from({ length: 70 }, (_, n) => doc(hex(`e${n.toString(16).padStart(3, '0')}`), ago(50 * DAY - n * 1000), { project: 'bulk', prompt: `bulk-${n}`, durationMs: 5 })),
  ]
}

let viewer: Viewer
let origin: string

beforeAll(async () => {
  viewer = await startViewer(seed(), { server: { pollMs: 100 } })
  origin = viewer.origin
}, 60_000)

afterAll(async () => { await viewer?.close() })

const rowIds = (page: Page): Promise<string[]> => page.locator('tr.trace-row').evaluateAll((rows) => rows.map((row) => row.getAttribute('data-trace-id') as string))

/** Waits until the rows are exactly `ids`, in order. */
async function expectRows(page: Page, ids: ReadonlyArray<string>): Promise<void> {
  await page.waitForFunction((want) => JSON.stringify([...document.querySelectorAll('tr.trace-row')].map((row: any) => row.getAttribute('data-trace-id'))) === want, JSON.stringify(ids), { timeout: 10_000 })
    .catch(async () => { expect(await rowIds(page)).toEqual(ids) })
}

async function open(path: string): Promise<Page> {
  const page = await viewer.context.newPage()
  await page.goto(`${origin}${path}`)
  await page.locator('tr.trace-row, [data-testid="empty-store"], main p.muted').first().waitFor()
  return page
}

const countText = (page: Page): Promise<string> => page.locator('[data-testid="list-count"]').textContent().then((text) => text ?? '')

describe('the traces list in Chromium', () => {
  it('offers facet dropdowns with counts among the other filters, and shows active filters as removable chips', async () => {
    const page = await open('/')
    await page.locator('[data-facet="project"] button.chip').click()
    const menu = page.locator('[data-facet="project"] [role="listbox"]')
    await menu.locator('[data-value="shop"]').waitFor()
    const counts = await menu.locator('button[role="option"]').evaluateAll((options) => options.map((option) => [option.getAttribute('data-value'), option.querySelector('.count').textContent]))
    expect(counts).toEqual([['bulk', '70'], ['blog', '3'], ['shop', '3'], ['default', '1']])

    await menu.locator('[data-value="shop"]').click()
    await page.waitForURL(`${origin}/?project=shop`)
    await expectRows(page, [A, A, B])
    // the environment facet counts within project=shop
    await page.locator('[data-facet="environment"] button.chip').click()
    const environments = page.locator('[data-facet="environment"] [role="listbox"]')
    await environments.locator('[data-value="dev"]').waitFor()
    expect(await environments.locator('[data-value="prod"] .count').textContent()).toBe('2')
    expect(await environments.locator('[data-value="dev"] .count').textContent()).toBe('1')
    await environments.locator('[data-value="dev"]').click()
    await expectRows(page, [B])
    expect(await page.locator('[data-facet="project"] button.chip').textContent()).toBe('project: shop ▾')

    // × on the active project chip removes only that filter
    await page.locator('.active-chips [data-filter="project"] button.remove').click()
    await page.waitForURL(`${origin}/?environment=dev`)
    await page.goBack()
    await page.waitForURL(/project=shop&environment=dev/)
    await expectRows(page, [B])
    await viewer.expectClean(page)
    await page.close()
  }, 30_000)

  it('narrows to the time presets, and to a custom since/until', async () => {
    const page = await open('/')
    await page.locator('[data-preset="1h"]').click()
    await page.waitForURL(`${origin}/?since=1h`)
    await expectRows(page, [A, A])
    await page.locator('[data-preset="24h"]').click()
    await expectRows(page, [A, A, B])
    expect(await page.locator('[data-preset="24h"]').getAttribute('class')).toContain('active')
    await page.locator('[data-preset="7d"]').click()
    await expectRows(page, [A, A, B, C])
    expect(await countText(page)).toBe('showing 4 of 4')

    await page.fill('input[name="since"]', '12d')
    await page.fill('input[name="until"]', '2d')
    await page.press('input[name="until"]', 'Enter')
    await page.waitForURL(/since=12d&until=2d/)
    await expectRows(page, [C, E, D])
    await page.close()
  }, 30_000)

  it('searches text within a scope: all, input, output, error, metadata', async () => {
    const page = await open('/')
    await page.fill('input[name="text"]', 'shoes')
    await page.selectOption('select[name="scope"]', 'input')
    await page.press('input[name="text"]', 'Enter')
    await page.waitForURL(/text=shoes&scope=input/)
    await expectRows(page, [A])
    await page.selectOption('select[name="scope"]', 'output')
    await page.waitForURL(/scope=output/)
    await expectRows(page, [A, C])
    await page.goto(`${origin}/?text=timed+out&scope=error`)
    await expectRows(page, [B])
    await page.goto(`${origin}/?text=vip&scope=metadata`)
    await expectRows(page, [A])
    await page.goto(`${origin}/?text=vip&scope=input`)
    await page.locator('main p.muted', { hasText: 'No traces match.' }).waitFor()
    await page.close()
  }, 30_000)

  it('sorts by duration, cost and retries as one top page, without the live controls', async () => {
    const page = await open('/')
    await page.selectOption('select[name="sort"]', 'slowest')
    await page.waitForURL(`${origin}/?sort=slowest`)
    await page.waitForFunction(() => document.querySelector('tr.trace-row')?.getAttribute('data-trace-id')?.startsWith('b2b2'))
    expect((await rowIds(page)).slice(0, 3)).toEqual([B, C, A])
    expect(await rowIds(page)).toHaveLength(50)
    await page.waitForFunction(() => /of 77$/.test(document.querySelector('[data-testid="list-count"]').textContent))
    expect(await countText(page)).toBe('top 50 by slowest of 77')
    expect(await page.getByRole('button', { name: 'Load more' }).count()).toBe(0)
    expect(await page.locator('.live-toggle').count()).toBe(0)

    await page.goto(`${origin}/?sort=costliest&project=shop`)
    await expectRows(page, [A, B, A])
    await page.goto(`${origin}/?sort=retries&since=7d`)
    await page.waitForFunction(() => document.querySelectorAll('tr.trace-row').length === 4)
    expect((await rowIds(page))[0]).toBe(B)
    await page.close()
  }, 30_000)

  it('jumps to the one trace a hex prefix names, filters by a prefix several share, and searches text for one none has', async () => {
    const page = await open('/')
    await page.fill('input[name="text"]', 'C3C3C3')
    await page.press('input[name="text"]', 'Enter')
    await page.waitForURL(`${origin}/trace/${C}`)

    await page.goto(`${origin}/`)
    await page.locator('tr.trace-row').first().waitFor()
    await page.fill('input[name="text"]', 'f0f0')
    await page.press('input[name="text"]', 'Enter')
    await page.waitForURL(`${origin}/?idPrefix=f0f0`)
    await expectRows(page, [E, D])
    expect(await page.locator('input[name="text"]').inputValue()).toBe('')

    await page.fill('input[name="text"]', 'beef')
    await page.press('input[name="text"]', 'Enter')
    await page.waitForURL(/text=beef/)
    await page.close()
  }, 30_000)

  it('keeps every filter, the scope and the sort in the URL across a reload', async () => {
    const page = await open('/?project=blog&sort=costliest&text=summar&scope=output&since=30d')
    await expectRows(page, [C])
    await page.reload()
    await expectRows(page, [C])
    expect(await page.locator('select[name="sort"]').inputValue()).toBe('costliest')
    expect(await page.locator('select[name="scope"]').inputValue()).toBe('output')
    expect(await page.locator('input[name="text"]').inputValue()).toBe('summar')
    expect(await page.locator('input[name="since"]').inputValue()).toBe('30d')
    const chips = await page.locator('.active-chips .chip').evaluateAll((elements) => elements.map((element) => element.getAttribute('data-filter')))
    expect(chips).toEqual(['text', 'scope', 'project', 'since'])
    await page.close()
  }, 30_000)

  it('loads the next page when the end of the table scrolls into view, and counts the total lazily', async () => {
    const page = await open('/?project=bulk')
    await page.waitForFunction(() => document.querySelectorAll('tr.trace-row').length === 50)
    await page.waitForFunction(() => document.querySelector('[data-testid="list-count"]').textContent === 'showing 50 of 70')
    await page.evaluate(() => window.scrollTo(0, document.body.scrollHeight))
    await page.waitForFunction(() => document.querySelectorAll('tr.trace-row').length === 70)
    expect(new Set(await rowIds(page)).size).toBe(70)
    expect(await countText(page)).toBe('showing 70 of 70')
    expect(await page.getByRole('button', { name: 'Load more' }).count()).toBe(0)
    // the count was asked once, after the first page
    expect(viewer.requests.filter((url) => url.startsWith(`${origin}/api/traces/count?project=bulk`))).toHaveLength(1)
    await page.close()
  }, 30_000)

  it('cancels a pending count when the filters change', async () => {
    const page = await viewer.context.newPage()
    const failed: string[] = []
    page.on('requestfailed', (request) => { if (request.url().includes('/api/traces/count')) failed.push(request.url()) })
    // the count of project=bulk is held until the filters changed
    let release: () => void = () => undefined
    const held = new Promise<void>((resolve) => { release = resolve })
    await page.route('**/api/traces/count?project=bulk', async (route) => {
      await held
      await route.continue().catch(() => undefined)
    })
    await page.goto(`${origin}/?project=bulk`)
    await page.waitForFunction(() => document.querySelectorAll('tr.trace-row').length === 50)
    expect(await countText(page)).toBe('showing 50')
    await page.locator('[data-preset="24h"]').click()
    await expectRows(page, [])
    await page.waitForFunction(() => document.querySelector('[data-testid="list-count"]').textContent === 'showing 0 of 0')
    release()
    for (let waited = 0; failed.length === 0 && waited < 3000; waited += 50) await page.waitForTimeout(50)
    expect(failed).toEqual([`${origin}/api/traces/count?project=bulk`])
    expect(await countText(page)).toBe('showing 0 of 0')
    await page.close()
  }, 30_000)

  it('moves, selects, opens and compares with the keyboard', async () => {
    const page = await open('/?since=7d')
    await expectRows(page, [A, A, B, C])
    const focused = () => page.locator('tr.trace-row.focused').getAttribute('data-trace-id')
    await page.keyboard.press('j')
    expect(await focused()).toBe(A)
    await page.keyboard.press('j')
    await page.keyboard.press('j')
    expect(await focused()).toBe(B)
    await page.keyboard.press('k')
    await page.keyboard.press('G')
    expect(await focused()).toBe(C)
    await page.keyboard.press('x')
    await page.keyboard.press('g')
    await page.keyboard.press('g')
    expect(await page.locator('tr.trace-row').first().getAttribute('class')).toContain('focused')
    await page.keyboard.press('x')
    expect(await page.locator('tr.trace-row input.select:checked').count()).toBe(3)
    await page.keyboard.press('/')
    expect(await page.evaluate(() => document.activeElement.getAttribute('name'))).toBe('text')
    await page.locator('input[name="text"]').press('Escape')
    await page.evaluate(() => document.activeElement.blur())
    await page.keyboard.press('c')
    await page.waitForURL(`${origin}/compare?a=${C}&b=${A}`)

    await page.goto(`${origin}/?since=7d`)
    await expectRows(page, [A, A, B, C])
    await page.keyboard.press('ArrowDown')
    await page.keyboard.press('ArrowDown')
    // Enter on a button keeps its meaning, even with a row focused
    await page.locator('[data-preset="24h"]').focus()
    await page.keyboard.press('Enter')
    await page.waitForURL(`${origin}/?since=24h`)
    await expectRows(page, [A, A, B])
    await page.evaluate(() => document.activeElement.blur())
    await page.keyboard.press('ArrowDown')
    await page.keyboard.press('ArrowDown')
    await page.keyboard.press('ArrowDown')
    await page.keyboard.press('Enter')
    await page.waitForURL(`${origin}/trace/${B}`)
    await page.close()
  }, 30_000)

  it('compares two rows selected by their checkboxes, older first', async () => {
    const page = await open('/?since=7d')
    await expectRows(page, [A, A, B, C])
    await page.locator(`tr[data-trace-id="${B}"] input.select`).check()
    expect(await page.getByRole('button', { name: 'Compare' }).isDisabled()).toBe(true)
    await page.locator(`tr[data-trace-id="${C}"] input.select`).check()
    await page.getByRole('button', { name: 'Compare' }).click()
    await page.waitForURL(`${origin}/compare?a=${C}&b=${B}`)
    await page.close()
  }, 30_000)

  it('downloads the selected traces as one JSON Lines file', async () => {
    const page = await open('/?since=7d')
    await expectRows(page, [A, A, B, C])
    await page.locator(`tr[data-trace-id="${A}"]:not([data-continued]) input.select`).check()
    await page.locator(`tr[data-trace-id="${B}"] input.select`).check()
    expect(await page.locator(`tr[data-trace-id="${A}"][data-continued] input.select`).isChecked()).toBe(true)
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Download JSONL' }).click()])
    expect(download.suggestedFilename()).toBe('traces-2.jsonl')
    const lines = readFileSync((await download.path()) as string, 'utf8').trim().split('\n').map((line) => JSON.parse(line) as { trace_id: string; prompt: string })
    expect(lines.map((line) => [line.trace_id, line.prompt])).toEqual([[A, 'checkout'], [A, 'downstream'], [B, 'search']])
    await viewer.expectClean(page)
    await page.close()
  }, 30_000)

  it('shows the columns and markers, and hides a column for good', async () => {
    const page = await open('/?project=shop')
    await expectRows(page, [A, A, B])
    const cells = async (id: string, column: string) => page.locator(`tr[data-trace-id="${id}"]:not([data-continued]) td.col-${column}`).textContent()
    expect(await cells(B, 'status')).toBe('✗')
    expect(await cells(B, 'retries')).toBe('↻2')
    expect(await cells(B, 'output')).toBe('TimeoutError: upstream timed out')
    expect(await cells(A, 'project')).toBe('shop / prod')
    expect(await cells(A, 'model')).toBe('gpt-4o')
    expect(await cells(A, 'cost')).toBe('$0.5000')
    expect(await cells(A, 'tags')).toBe('beta')
    expect(await page.locator(`tr[data-trace-id="${A}"][data-continued]`).textContent()).toContain('↳')
    await page.locator('.columns-menu summary').click()
    await page.locator('input[name="column-model"]').uncheck()
    expect(await page.locator('td.col-model').count()).toBe(0)
    await page.reload()
    await expectRows(page, [A, A, B])
    expect(await page.locator('td.col-model').count()).toBe(0)
    await page.locator('.columns-menu summary').click()
    await page.locator('input[name="column-model"]').check()
    expect(await page.locator('td.col-model').count()).toBe(3)

    await page.goto(`${origin}/?replayOf=${C}`)
    await expectRows(page, [E])
    expect(await page.locator('tr.trace-row').textContent()).toContain('↺')
    await page.close()
  }, 30_000)

  it('renders the XSS corpus in previews, tags and facet values as text', async () => {
    const page = await open(`/?idPrefix=dddd`)
    await expectRows(page, [X])
    const text = (await page.locator('tr.trace-row').textContent()) ?? ''
    // the output is not shown: a failed trace shows its error there
    for (const payload of [XSS[0]!, XSS[1]!, XSS[3]!, XSS[4]!]) expect(text).toContain(payload)
    await page.locator('[data-facet="prompt"] button.chip').click()
    await page.locator('[data-facet="prompt"] [role="option"]').first().waitFor()
    expect(await page.locator('[data-facet="prompt"] [role="listbox"]').textContent()).toContain(XSS[0])
    expect(await page.locator('main img, main script, main svg, main iframe').count()).toBe(0)
    await page.waitForTimeout(200)
    await viewer.expectClean(page)
    await page.close()
  }, 30_000)

  it('raises "N new traces" when another process writes, never moving the rows, with a pause', async () => {
    const page = await open('/')
    await page.waitForFunction(() => document.querySelectorAll('tr.trace-row').length === 50)
    const before = await rowIds(page)
    expect(before[0]).toBe(A)
    const sink = sqliteSink({ path: viewer.path as string })
    const fresh = (n: number) => makeDocument({ traceId: hex(`9${n}9${n}`), prompt: `fresh-${n}`, startedAt: new Date().toISOString() })
    const top = async (): Promise<number> => (await page.locator('tr.trace-row').first().boundingBox())?.y ?? -1
    const y = await top()
    try {
      await sink.write([fresh(1)])
      await page.locator('[data-testid="live-bar"]', { hasText: '▲ 1 new trace' }).waitFor()
      // the same rows, at the same place
      expect(await rowIds(page)).toEqual(before)
      expect(await top()).toBe(y)

      await page.getByRole('button', { name: '❚❚ pause live' }).click()
      await sink.write([fresh(2)])
      await page.waitForTimeout(400)
      expect(await page.locator('[data-testid="live-bar"]').count()).toBe(0)
      await page.getByRole('button', { name: '▶ resume live' }).click()
      await page.locator('[data-testid="live-bar"]', { hasText: '▲ 2 new traces' }).waitFor()
      expect(await rowIds(page)).toEqual(before)

      await page.locator('[data-testid="live-bar"]').click()
      await page.waitForFunction((id) => document.querySelector('tr.trace-row')?.getAttribute('data-trace-id') === id, hex('9292'))
      expect((await rowIds(page)).slice(0, 3)).toEqual([hex('9292'), hex('9191'), A])
      expect(await page.locator('[data-testid="live-bar"]').count()).toBe(0)
      // a write outside the filter raises nothing
      await page.goto(`${origin}/?project=shop`)
      await expectRows(page, [A, A, B])
      await sink.write([fresh(3)])
      await page.waitForTimeout(400)
      expect(await page.locator('[data-testid="live-bar"]').count()).toBe(0)
    } finally {
      sink.close()
    }
    await viewer.expectClean(page)
    await page.close()
  }, 30_000)

  it('sent no request but to its own origin, and logged no console error', () => {
    viewer.expectNoLeak()
  })
})

describe('an empty store', () => {
  it('shows the `npx tracellm demo` hint', async () => {
    const directory = mkdtempSync(join(tmpdir(), 'tracellm-ui-empty-'))
    const store = await openStore(join(directory, 'traces.db'), { create: true })
    const empty = await startViewer([], { store })
    try {
      const page = await empty.context.newPage()
      await page.goto(`${empty.origin}/`)
      const hint = page.locator('[data-testid="empty-store"]')
      await hint.waitFor()
      expect(await hint.textContent()).toContain('npx tracellm demo')
      expect(await countText(page)).toBe('showing 0 of 0')
      await empty.expectClean(page)
      empty.expectNoLeak()
    } finally {
      await empty.close()
      await store.close()
      rmSync(directory, { recursive: true, force: true })
    }
  }, 30_000)
})
