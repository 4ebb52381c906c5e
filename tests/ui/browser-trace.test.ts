// The trace page in a real Chromium (docs/ui.md#trace-page-in-detail): ruler and minimap zoom, the
// critical path and self time on a designed trace, collapse and summary rows, in-trace find, the Table
// and Stats views, deep links, the keyboard, and a 5 000-step trace kept virtualized and fast.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import type { Page } from 'playwright-core'
import type { StepRecord, TraceDocument, TraceId } from '../../src/document/document.js'
import { makeDocument, stepIdOf } from '../helpers/documents.js'
import { at, SCREENSHOTS, startViewer, step, type Viewer } from './browser-harness.js'

// the browser's globals, used inside page.evaluate callbacks only (the tests' tsconfig has no DOM lib)
declare const window: any, document: any, location: any, performance: any, requestAnimationFrame: any, PerformanceObserver: any, KeyboardEvent: any

const OLDER = '10000000000000000000000000000001' as TraceId
const DESIGNED = '20000000000000000000000000000002' as TraceId
const NEWER = '30000000000000000000000000000003' as TraceId
const HUGE = '40000000000000000000000000000004' as TraceId
const SPARSE = '50000000000000000000000000000005' as TraceId

const ROOT = stepIdOf(0x1001), FETCH = stepIdOf(0x1002), GENERATE = stepIdOf(0x1003), LOOKUP1 = stepIdOf(0x1004)
const LOOKUP2 = stepIdOf(0x1005), FORMAT = stepIdOf(0x1006), SEARCH = stepIdOf(0x1007)

function seed(): TraceDocument[] {
  const t = Date.parse('2026-11-24T10:00:00.000Z')
  // root 0–100: fetch 0–30, generate 20–60 (lookup 25–35, lookup 30–50), format 40–55, search 65–90 (failed, retried twice)
  const designed = makeDocument({
    traceId: DESIGNED, prompt: 'designed', startedAt: at(t, 0), endedAt: at(t, 100), durationMs: 100, usage: { inputTokens: 100, outputTokens: 20 },
    modelName: 'gpt-test', tags: ['nightly', 'eval'], metadata: { cached_input_tokens: 64 }, costUsd: 0.0125, truncated: 2, droppedSteps: 3,
    steps: [
      step(0x1001, t, 0, 100, { name: 'root', kind: 'chain' }),
      step(0x1002, t, 0, 30, { name: 'fetch-user', parentStepId: ROOT, input: ['needle-in-the-input'] }),
      step(0x1003, t, 20, 40, { name: 'generate', kind: 'llm', parentStepId: ROOT, model: 'gpt-test', usage: { inputTokens: 100, outputTokens: 20 } }),
      step(0x1004, t, 25, 10, { name: 'lookup', parentStepId: GENERATE }),
      step(0x1005, t, 30, 20, { name: 'lookup', parentStepId: GENERATE }),
      step(0x1006, t, 40, 15, { name: 'format', parentStepId: ROOT }),
      step(0x1007, t, 65, 25, {
        name: 'search-docs', kind: 'retriever', parentStepId: ROOT, status: 'error', attempts: 3, retries: 2,
        error: { type: 'TimeoutError', message: 'the search timed out' },
      }),
    ] as StepRecord[],
  })
  const older = makeDocument({ traceId: OLDER, prompt: 'older', startedAt: at(t, -3_600_000), endedAt: at(t, -3_599_990), durationMs: 10, steps: [step(0x2001, t, -3_600_000, 5)] })
  const newer = makeDocument({ traceId: NEWER, prompt: 'newer', replayOf: DESIGNED, startedAt: at(t, 3_600_000), endedAt: at(t, 3_600_010), durationMs: 10, steps: [step(0x3001, t, 3_600_000, 5)] })
  const h = Date.parse('2026-11-20T10:00:00.000Z')
  const steps: StepRecord[] = []
  for (let i = 0; i < 5000; i++) {
    const parent = i % 50 === 0 ? null : stepIdOf(0x100000 + i - (i % 50))
    steps.push(step(0x100000 + i, h, i, 1 + (i % 7), { name: `step-${i}`, parentStepId: parent, status: i % 500 === 7 ? 'error' : 'success' }))
  }
  const huge = makeDocument({ traceId: HUGE, prompt: 'huge', startedAt: at(h, 0), endedAt: at(h, 5010), durationMs: 5010, steps })
  // two bursts of work a second apart: idle time is 97% of the trace
  const s = Date.parse('2026-11-19T10:00:00.000Z')
  const sparse = makeDocument({
    traceId: SPARSE, prompt: 'sparse', startedAt: at(s, 0), endedAt: at(s, 1000), durationMs: 1000,
    steps: [step(0x5001, s, 0, 10, { name: 'before-wait' }), step(0x5002, s, 5, 10, { name: 'overlapping' }), step(0x5003, s, 990, 10, { name: 'after-wait' })],
  })
  return [older, designed, newer, huge, sparse]
}

let viewer: Viewer
beforeAll(async () => { viewer = await startViewer(seed()) }, 60_000)
afterAll(async () => { await viewer?.close() })

async function open(path: string): Promise<Page> {
  const page = await viewer.context.newPage()
  await page.goto(`${viewer.origin}${path}`)
  await page.locator('.step-row, .table-row, [data-testid="step-stats"]').first().waitFor()
  return page
}
const rowIds = (page: Page, selector = '.step-row'): Promise<string[]> =>
  page.locator(selector).evaluateAll((rows) => rows.map((row) => row.getAttribute('data-step-id')!).sort((a, b) => 0))
/** The rows in their visual order (they are absolutely placed). */
const orderedIds = (page: Page, selector = '.step-row'): Promise<string[]> =>
  page.locator(selector).evaluateAll((rows) => rows
    .map((row) => ({ id: row.getAttribute('data-step-id')!, y: row.getBoundingClientRect().top }))
    .sort((a, b) => a.y - b.y).map((row) => row.id))
const param = (page: Page, name: string): string | null => new URL(page.url()).searchParams.get(name)
const barLeft = (page: Page, id: string): Promise<number> =>
  page.locator(`.step-row[data-step-id="${id}"] .bar`).evaluate((bar) => bar.getBoundingClientRect().left)

describe('the trace page in Chromium', () => {
  it('shows the header: tokens, cost, model, tags, badges, a copyable id, the replayed trace and the download', async () => {
    const page = await open(`/trace/${DESIGNED}`)
    const header = page.locator('[data-testid="trace-header"]')
    const text = (await header.textContent()) ?? ''
    for (const part of ['designed', '100 ms', DESIGNED, '100 in / 20 out · 64 cached', '$0.0125', 'gpt-test', 'nightly', 'eval']) expect(text).toContain(part)
    expect(await header.locator('[data-badge="truncated"]').getAttribute('title')).toContain('2 value(s)')
    expect(await header.locator('[data-badge="dropped"]').getAttribute('title')).toContain('maxStepsPerTrace')
    expect(await header.getByRole('link', { name: 'Download' }).getAttribute('href')).toBe(`/api/traces/${DESIGNED}/export`)
    await header.getByRole('button', { name: 'copy' }).click()
    await header.getByRole('button', { name: 'copied' }).waitFor()
    expect(await page.evaluate(() => window.navigator.clipboard.readText())).toBe(DESIGNED)
    // a replay links to the trace it replayed; Enter on a focused button or link still acts
    await page.goto(`${viewer.origin}/trace/${NEWER}`)
    const link = page.locator('[data-testid="trace-header"] a', { hasText: '⟶' })
    await link.focus()
    await page.keyboard.press('Enter')
    await page.waitForURL(`${viewer.origin}/trace/${DESIGNED}`)
    await viewer.expectClean(page)
    await page.close()
  }, 30_000)

  it('zooms with + / - / 0 and the minimap, moving the bars, and keeps the zoom in the URL', async () => {
    const page = await open(`/trace/${DESIGNED}`)
    const before = await barLeft(page, SEARCH)
    await page.keyboard.press('+')
    await page.waitForURL(/zoom=25-75/)
    expect(await page.locator('[data-testid="ruler"]').getAttribute('data-zoom')).toBe('25-75')
    expect(await barLeft(page, SEARCH)).not.toBe(before)
    await page.keyboard.press('-')
    await page.waitForFunction(() => !location.search.includes('zoom='))
    expect(await barLeft(page, SEARCH)).toBeCloseTo(before, 0)
    // drag across the minimap: a new window from 10% to 30% of the trace
    const box = (await page.locator('[data-testid="minimap"]').boundingBox())!
    const y = box.y + box.height / 2
    await page.mouse.move(box.x + box.width * 0.1, y)
    await page.mouse.down()
    await page.mouse.move(box.x + box.width * 0.2, y, { steps: 3 })
    await page.mouse.move(box.x + box.width * 0.3, y, { steps: 3 })
    await page.mouse.up()
    await page.waitForURL(/zoom=/)
    const [a, b] = param(page, 'zoom')!.split('-').map(Number)
    expect(a).toBeGreaterThan(8); expect(a).toBeLessThan(12); expect(b).toBeGreaterThan(28); expect(b).toBeLessThan(32)
    // a step after the window is pushed out to the right of the track
    const track = (await page.locator(`.step-row[data-step-id="${SEARCH}"] .bar-track`).boundingBox())!
    expect(await barLeft(page, SEARCH)).toBeGreaterThan(track.x + track.width)
    // drag the window itself: it pans, keeping its width
    const window = (await page.locator('.minimap-window').boundingBox())!
    await page.mouse.move(window.x + window.width / 2, y)
    await page.mouse.down()
    await page.mouse.move(window.x + window.width / 2 + box.width * 0.2, y, { steps: 4 })
    const drawn = param(page, 'zoom')
    await page.mouse.up()
    await page.waitForFunction((old) => new URL(location.href).searchParams.get('zoom') !== old, drawn)
    const [c, d] = param(page, 'zoom')!.split('-').map(Number)
    expect(c! - a!).toBeGreaterThan(15)
    expect(d! - c!).toBeCloseTo(b! - a!, 0)
    await page.keyboard.press('0')
    await page.waitForFunction(() => !location.search.includes('zoom='))
    await viewer.expectClean(page)
    await page.close()
  }, 30_000)

  it('highlights the critical path and shows self times', async () => {
    const page = await open(`/trace/${DESIGNED}`)
    expect(await page.locator('.step-row.critical').count()).toBe(0)
    await page.check('input[name="critical"]')
    expect((await rowIds(page, '.step-row.critical')).sort()).toEqual([ROOT, GENERATE, LOOKUP2, SEARCH].sort())
    expect(await page.locator(`.step-row[data-step-id="${ROOT}"] .crit`).count()).toBe(3)
    await page.check('input[name="self"]')
    const self = await page.locator('.step-row').evaluateAll((rows) => Object.fromEntries(rows.map((row) => [row.getAttribute('data-step-id'), row.querySelector('.self-time')?.textContent])))
    expect(self).toEqual({ [ROOT]: '15 ms', [FETCH]: '30 ms', [GENERATE]: '15 ms', [LOOKUP1]: '10 ms', [LOOKUP2]: '20 ms', [FORMAT]: '15 ms', [SEARCH]: '25 ms' })
    if (SCREENSHOTS) await page.screenshot({ path: 'docs/ui/trace-timeline.png' })
    // the toggles are remembered
    await page.reload()
    await page.locator('.step-row.critical').first().waitFor()
    await page.uncheck('input[name="critical"]'); await page.uncheck('input[name="self"]')
    expect(await page.locator('.step-row.critical, .self-time').count()).toBe(0)
    await page.close()
  }, 30_000)

  it('collapses all, one level, one node, with "N steps, M ✗" summary rows', async () => {
    const page = await open(`/trace/${DESIGNED}`)
    expect(await page.locator('.step-row').count()).toBe(7)
    await page.keyboard.press('[')
    expect(await rowIds(page)).toEqual([ROOT])
    expect(await page.locator(`.summary-row[data-summary-of="${ROOT}"]`).textContent()).toBe('6 steps, 1 ✗')
    await page.keyboard.press(']')
    expect(await page.locator('.step-row').count()).toBe(7)
    await page.click('button[data-collapse="less"]')
    expect(await page.locator('.step-row').count()).toBe(5)
    expect(await page.locator(`.summary-row[data-summary-of="${GENERATE}"]`).textContent()).toBe('2 steps')
    await page.click('button[data-collapse="less"]')
    expect(await page.locator('.step-row').count()).toBe(1)
    await page.click('button[data-collapse="more"]')
    expect(await page.locator('.step-row').count()).toBe(5)
    await page.click(`.summary-row[data-summary-of="${GENERATE}"]`)
    expect(await page.locator('.step-row').count()).toBe(7)
    await page.close()
  }, 30_000)

  it('finds steps with words and filters, expands collapsed ancestors, and cycles with n / N', async () => {
    const page = await open(`/trace/${DESIGNED}`)
    await page.locator(`.step-row[data-step-id="${GENERATE}"] .toggle`).click()
    expect(await page.locator(`.step-row[data-step-id="${LOOKUP1}"]`).count()).toBe(0)
    await page.keyboard.press('/')
    await page.keyboard.type('lookup')
    const count = page.locator('[data-testid="find-count"]')
    await page.waitForFunction(() => document.querySelector('[data-testid="find-count"]').textContent === '0 of 2')
    expect((await rowIds(page, '.step-row.match')).sort()).toEqual([LOOKUP1, LOOKUP2].sort())
    // keys act again once the find box is left
    await page.locator('[data-testid="step-tree"]').click({ position: { x: 5, y: 5 } })
    await page.keyboard.press('n')
    await page.waitForURL(new RegExp(`step=${LOOKUP1}`))
    expect(await count.textContent()).toBe('1 of 2')
    await page.keyboard.press('n')
    await page.waitForURL(new RegExp(`step=${LOOKUP2}`))
    await page.keyboard.press('N')
    await page.waitForURL(new RegExp(`step=${LOOKUP1}`))
    expect(await page.locator('.step-row.current-match').getAttribute('data-step-id')).toBe(LOOKUP1)
    const find = async (text: string): Promise<string[]> => {
      await page.fill('input[name="find"]', text)
      return (await rowIds(page, '.step-row.match')).sort()
    }
    expect(await find('kind:llm')).toEqual([GENERATE])
    expect(await find('status:error')).toEqual([SEARCH])
    expect(await find('retries:>0')).toEqual([SEARCH])
    expect(await find('duration:>20ms')).toEqual([ROOT, FETCH, GENERATE, SEARCH].sort())
    expect(await find('needle-in-the-input')).toEqual([FETCH])
    expect(await find('timed out')).toEqual([SEARCH])
    await find('duration:>soon')
    expect(await page.locator('.find-error').textContent()).toContain('duration:>500ms')
    // Esc clears the find box
    await page.keyboard.press('Escape')
    expect(await page.locator('input[name="find"]').inputValue()).toBe('')
    expect(await page.locator('.step-row.match').count()).toBe(0)
    await viewer.expectClean(page)
    await page.close()
  }, 30_000)

  it('sorts the Table view, sums the Stats view, and keeps view and zoom through a reload', async () => {
    const page = await open(`/trace/${DESIGNED}?view=table&zoom=20-40`)
    expect(await orderedIds(page, '.table-row')).toEqual([ROOT, FETCH, GENERATE, LOOKUP1, LOOKUP2, FORMAT, SEARCH])
    await page.click('button.sort[data-sort="duration"]')
    expect((await orderedIds(page, '.table-row')).slice(0, 3)).toEqual([ROOT, GENERATE, FETCH])
    await page.click('button.sort[data-sort="duration"]')
    expect((await orderedIds(page, '.table-row'))[0]).toBe(LOOKUP1)
    await page.click('button.sort[data-sort="retries"]')
    expect((await orderedIds(page, '.table-row'))[0]).toBe(SEARCH)
    await page.click('button.sort[data-sort="tokens"]')
    expect((await orderedIds(page, '.table-row'))[0]).toBe(GENERATE)
    await page.keyboard.press('s')
    await page.waitForURL(/view=stats/)
    const lookup = page.locator('.stats-row[data-name="lookup"][data-kind="tool"]')
    expect(await lookup.locator('[data-col="count"]').textContent()).toBe('2')
    expect(await lookup.locator('[data-col="total"]').textContent()).toBe('30 ms')
    expect(await lookup.locator('[data-col="self"]').textContent()).toBe('30 ms')
    const search = page.locator('.stats-row[data-name="search-docs"]')
    expect(await search.locator('[data-col="errors"]').textContent()).toBe('1')
    expect(await search.locator('[data-col="retries"]').textContent()).toBe('2')
    expect(await page.locator('.stats-row[data-name="generate"] [data-col="tokens"]').textContent()).toBe('120')
    await page.reload()
    await page.locator('[data-testid="step-stats"]').waitFor()
    await page.keyboard.press('w')
    await page.waitForFunction(() => !location.search.includes('view='))
    expect(param(page, 'zoom')).toBe('20-40')
    expect(await page.locator('[data-testid="ruler"]').getAttribute('data-zoom')).toBe('20-40')
    await page.keyboard.press('m')
    await page.waitForURL(/view=messages/)
    await viewer.expectClean(page)
    await page.close()
  }, 30_000)

  it('moves with j / k / h / l / g g / G, jumps with e / r, closes with Esc, and goes to the next trace with J / K', async () => {
    const page = await open(`/trace/${DESIGNED}`)
    const at = async (key: string, id: string): Promise<void> => {
      await page.keyboard.press(key)
      await page.waitForURL(new RegExp(`step=${id}`))
    }
    await at('j', ROOT)
    await at('j', FETCH)
    await at('ArrowDown', GENERATE)
    await at('k', FETCH)
    await at('h', ROOT)
    await page.keyboard.press('h')
    await page.locator(`.summary-row[data-summary-of="${ROOT}"]`).waitFor()
    await page.keyboard.press('l')
    await page.waitForFunction(() => document.querySelectorAll('.step-row').length === 7)
    await at('l', FETCH)
    await at('G', SEARCH)
    await page.keyboard.press('g'); await at('g', ROOT)
    await at('e', SEARCH)
    await at('j', SEARCH)
    await at('r', SEARCH)
    await page.locator(`[data-testid="step-pane"][data-step-id="${SEARCH}"]`).waitFor()
    await page.keyboard.press('Escape')
    await page.waitForFunction(() => !location.search.includes('step='))
    expect(await page.locator('[data-testid="step-pane"]').count()).toBe(0)
    await page.keyboard.press('J')
    await page.waitForURL(`${viewer.origin}/trace/${OLDER}`)
    await page.locator('.step-row').first().waitFor()
    // no model call reported usage: '-', as the list and `tracellm show` say it
    expect(await page.locator('[data-testid="header-tokens"]').textContent()).toBe('-')
    await page.keyboard.press('K')
    await page.waitForURL(`${viewer.origin}/trace/${DESIGNED}`)
    await page.locator('.step-row').first().waitFor()
    await page.keyboard.press('K')
    await page.waitForURL(`${viewer.origin}/trace/${NEWER}`)
    await page.locator('.step-row').first().waitFor()
    await page.keyboard.press('K')
    await page.locator('[data-testid="notice"]', { hasText: 'newest' }).waitFor()
    await viewer.expectClean(page)
    await page.close()
  }, 30_000)

  it('keeps a 5 000-step trace virtualized, collapses and expands all fast, and scrolls without long tasks', async () => {
    const page = await open(`/trace/${HUGE}`)
    const measure = () => page.evaluate(() => {
      const tree = document.querySelector('[data-testid="step-tree"]')
      const row = document.querySelector('.step-row')
      return { rendered: document.querySelectorAll('.step-row, .summary-row').length, visible: Math.ceil(tree.clientHeight / row.offsetHeight) }
    })
    const top = await measure()
    expect(top.visible).toBeGreaterThan(5)
    expect(top.rendered).toBeLessThanOrEqual(2 * top.visible)
    /** Dispatches a key and waits for the rows to change and a frame to be drawn; returns the ms it took. */
    const timed = (key: string) => page.evaluate((key: string) => new Promise<number>((resolve) => {
      const start = performance.now()
      const before = document.querySelector('.tree-inner').style.height
      document.dispatchEvent(new KeyboardEvent('keydown', { key, bubbles: true }))
      const wait = (): void => {
        if (document.querySelector('.tree-inner').style.height === before) { requestAnimationFrame(wait); return }
        requestAnimationFrame(() => resolve(performance.now() - start))
      }
      wait()
    }), key)
    const collapse = await timed('[')
    expect(await page.locator('.step-row').count()).toBeLessThanOrEqual(2 * top.visible)
    expect(await page.locator(`.summary-row[data-summary-of="${stepIdOf(0x100000)}"]`).textContent()).toBe('49 steps, 1 ✗')
    const expand = await timed(']')
    expect(collapse).toBeLessThan(300)
    expect(expand).toBeLessThan(300)
    // scroll through the tree frame by frame, watching for long tasks
    const longest = await page.evaluate(() => new Promise<number>((resolve) => {
      let worst = 0
      const observer = new PerformanceObserver((list: any) => { for (const entry of list.getEntries()) worst = Math.max(worst, entry.duration) })
      observer.observe({ entryTypes: ['longtask'] })
      const tree = document.querySelector('[data-testid="step-tree"]')
      let frames = 0
      const tick = (): void => {
        tree.scrollTop += 400
        if (++frames < 60) requestAnimationFrame(tick)
        else setTimeout(() => { observer.disconnect(); resolve(worst) }, 100)
      }
      requestAnimationFrame(tick)
    }))
    expect(longest).toBeLessThan(200)
    const bottom = await measure()
    expect(bottom.rendered).toBeLessThanOrEqual(2 * bottom.visible)
    // find in 5 000 steps, and the Table view stays virtualized too
    await page.fill('input[name="find"]', 'status:error')
    await page.waitForFunction(() => document.querySelector('[data-testid="find-count"]').textContent === '0 of 10')
    await page.locator('input[name="find"]').blur()
    await page.keyboard.press('t')
    await page.locator('.table-row').first().waitFor()
    expect(await page.locator('.table-row').count()).toBeLessThanOrEqual(2 * top.visible)
    await viewer.expectClean(page)
    await page.close()
  }, 60_000)

  it('offers to compress idle gaps when they exceed half the trace, and squeezes them', async () => {
    const designed = await open(`/trace/${DESIGNED}`)
    expect(await designed.locator('input[name="idle"]').count()).toBe(0)
    await designed.close()
    const page = await open(`/trace/${SPARSE}`)
    const track = (await page.locator(`.step-row[data-step-id="${stepIdOf(0x5003)}"] .bar-track`).boundingBox())!
    const share = async (): Promise<number> => ((await barLeft(page, stepIdOf(0x5003))) - track.x) / track.width
    expect(await share()).toBeCloseTo(0.99, 2)
    await page.check('input[name="idle"]')
    // 0–15 ms of work, the 975 ms wait drawn as 10 ms, then 990–1000: the last step starts at 25 of 35
    expect(await share()).toBeCloseTo(25 / 35, 2)
    expect(await page.locator('.ruler .idle-gap').getAttribute('title')).toBe('975 ms idle')
    await page.uncheck('input[name="idle"]')
    expect(await share()).toBeCloseTo(0.99, 2)
    await viewer.expectClean(page)
    await page.close()
  }, 30_000)

  it('sent no request but to its own origin, and logged no console error', () => {
    viewer.expectNoLeak()
  })
})
