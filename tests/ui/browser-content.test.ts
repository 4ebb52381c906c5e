// Content rendering and the step pane in a real Chromium (docs/ui.md#content-rendering): chat shapes as
// bubbles and tool-call cards, documents, images as chips that never load, the Text / Markdown / JSON
// toggle (markdown sanitized, lazily loaded), invisible characters made visible, the tabs by keys and
// in the URL, copy value / JSON path, the attempt timeline, the usage box, a 1 MB field loaded as a
// collapsed tree, and the Messages view. No request may leave the origin, no script from a trace runs.
import { cpSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { build } from 'esbuild'
import type { Page } from 'playwright-core'
import type { JsonValue, TraceId } from '../../src/document/document.js'
import { makeDocument, stepIdOf } from '../helpers/documents.js'
import { at, CLIENT_DIR, SCREENSHOTS, startViewer, step, XSS, type Viewer } from './browser-harness.js'

// the browser's globals, used inside page.evaluate callbacks only (the tests' tsconfig has no DOM lib)
declare const window: any, document: any, navigator: any

const CHAT = '11111111000000000000000000000001' as TraceId
const REMOTE = 'https://images.example.invalid'
const t0 = Date.parse('2026-11-25T10:00:00.000Z')
const S = {
  chat: stepIdOf(0x1), tool: stepIdOf(0x2), answer: stepIdOf(0x3), responses: stepIdOf(0x4), anthropic: stepIdOf(0x5),
  search: stepIdOf(0x6), bidi: stepIdOf(0x7), retried: stepIdOf(0x8), big: stepIdOf(0x9), cut: stepIdOf(0xa),
}
const MARKDOWN = [
  '# Weather', '', 'It is **18°C** in Paris.', '', `![tracker](${REMOTE}/pixel.png)`, '', '[source](https://example.invalid/w)', '',
  '[bad](javascript:window.__xss=1) ![inline](data:image/png;base64,iVBORw0KGgo=) [rel](/api/traces)', '',
  ...XSS, '<span style="color:red">red</span>', '<iframe src="https://example.invalid/frame"></iframe>', '<form action="https://example.invalid/post"><input name=a></form>',
].join('\n')

function seed() {
  const system: JsonValue = { role: 'system', content: 'You answer about weather.' }
  const user: JsonValue = { role: 'user', content: [{ type: 'text', text: 'Weather in Paris?' }, { type: 'image_url', image_url: { url: `${REMOTE}/cat.png` } }] }
  const call: { readonly [key: string]: JsonValue } = { role: 'assistant', content: null, tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris","unit":"C"}' } }] }
  const steps = [
    step(0x1, t0, 0, 50, {
      name: 'openai.chat.completions', kind: 'llm', model: 'gpt-4o', usage: { inputTokens: 120, outputTokens: 30 }, costUsd: 0.0042,
      metadata: { response_model: 'gpt-4o-2024-08-06', cached_input_tokens: 64, reasoning_tokens: 12 },
      input: { model: 'gpt-4o', temperature: 0.2, messages: [system, user] }, output: { ...call, finish_reason: 'tool_calls' },
    }),
    step(0x2, t0, 55, 5, { name: 'get_weather', kind: 'tool', input: [{ city: 'Paris' }], output: '18°C' }),
    step(0x3, t0, 65, 40, {
      name: 'openai.chat.completions', kind: 'llm', model: 'gpt-4o',
      input: { model: 'gpt-4o', messages: [system, user, call, { role: 'tool', tool_call_id: 'call_1', content: '18°C' }] },
      output: { role: 'assistant', content: MARKDOWN, finish_reason: 'stop' },
    }),
    step(0x4, t0, 110, 30, {
      name: 'openai.responses', kind: 'llm', model: 'gpt-5',
      input: { model: 'gpt-5', instructions: 'Be terse.', input: [{ role: 'user', content: [{ type: 'input_text', text: 'Add 2 and 2' }] }] },
      output: { output_text: 'four', status: 'completed', output: [{ type: 'reasoning', summary: [{ type: 'summary_text', text: 'simple sum' }] }, { type: 'message', role: 'assistant', content: [{ type: 'output_text', text: 'four' }] }] },
    }),
    step(0x5, t0, 145, 30, {
      name: 'anthropic.messages', kind: 'llm', model: 'claude-sonnet',
      input: {
        model: 'claude-sonnet', max_tokens: 256, system: 'You are careful.',
        messages: [
          { role: 'user', content: 'Look it up' },
          { role: 'assistant', content: [{ type: 'thinking', thinking: 'I should call lookup' }, { type: 'tool_use', id: 'toolu_1', name: 'lookup', input: { q: 'tracellm' } }] },
          { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_1', content: 'a tracing library' }] },
        ],
      },
      output: { role: 'assistant', content: [{ type: 'text', text: 'It is a tracing library.' }], stop_reason: 'end_turn' },
    }),
    step(0x6, t0, 180, 10, { name: 'search', kind: 'retriever', input: ['tracing'], output: [{ id: 'doc-1', text: 'Tracing records calls.', score: 0.91 }, { id: 'doc-2', text: 'Spans have parents.', score: 0.42 }] }),
    step(0x7, t0, 195, 5, { name: 'bidi', kind: 'tool', input: ['invoice\u202Etxt.exe', 'bell\u0007esc\u001b[31m'], output: { 'odd key': { "it's": 1 } } }),
    step(0x8, t0, 205, 300, {
      name: 'flaky', kind: 'tool', status: 'error', attempts: 3, retries: 2,
      attemptErrors: [
        { attempt: 1, error: { type: 'RateLimitError', message: '429 slow down', code: 429 } },
        { attempt: 2, error: { type: 'RateLimitError', message: '429 slower', code: 429 } },
      ],
      error: {
        type: 'AggregateError', message: 'all attempts failed', stack: 'AggregateError: all attempts failed\n    at flaky (app.ts:1:1)',
        cause: { type: 'TypeError', message: 'socket hang up' },
        errors: [{ type: 'Error', message: 'first' }, { type: 'Error', message: 'second' }],
      },
    }),
    step(0xa, t0, 520, 5, { name: 'cut', kind: 'tool', truncated: 3, input: [`${'x'.repeat(20)}...[truncated 80 chars]`, '[Truncated: budget]', { a: '[Object]', '…': '7 more keys' }] }),
    step(0x9, t0, 510, 5, { name: 'big', kind: 'tool', input: { blob: Array.from({ length: 20_000 }, (_, i) => `row ${i} ${'x'.repeat(40)}`) } }),
  ]
  return [makeDocument({ traceId: CHAT, prompt: 'content', startedAt: at(t0, 0), endedAt: at(t0, 600), durationMs: 600, steps })]
}

let viewer: Viewer
let origin: string

beforeAll(async () => {
  viewer = await startViewer(seed())
  origin = viewer.origin
}, 60_000)

afterAll(async () => { await viewer?.close() })

async function open(stepId: string, query = ''): Promise<{ page: Page; panel: ReturnType<Page['locator']> }> {
  const page = await viewer.context.newPage()
  await page.goto(`${origin}/trace/${CHAT}?step=${stepId}${query}`)
  const panel = page.locator(`[data-testid="step-pane"][data-step-id="${stepId}"] [role="tabpanel"]`)
  await panel.waitFor()
  return { page, panel }
}

const tab = (page: Page, name: string) => page.locator('[data-testid="step-pane"]').getByRole('tab', { name, exact: true }).click()
const clipboard = (page: Page): Promise<string> => page.evaluate(() => navigator.clipboard.readText())

describe('content rendering in Chromium', () => {
  it('draws an OpenAI chat request as bubbles, the image as a chip that is never loaded, the answer as a tool-call card', async () => {
    const { page, panel } = await open(S.chat)
    await panel.locator('.bubble').first().waitFor()
    expect(await panel.locator('.bubble').evaluateAll((bubbles) => bubbles.map((bubble) => bubble.getAttribute('data-role')))).toEqual(['system', 'user'])
    expect(await panel.locator('.chat-params').textContent()).toContain('temperature: 0.2')
    const image = panel.locator('.image-part')
    expect(await image.textContent()).toContain(`image`)
    expect(await image.textContent()).toContain(`${REMOTE}/cat.png`)
    const link = image.locator('a')
    expect(await link.getAttribute('href')).toBe(`${REMOTE}/cat.png`)
    expect(await link.getAttribute('rel')).toBe('noopener noreferrer')
    expect(await link.getAttribute('target')).toBe('_blank')
    expect(await page.locator('img').count()).toBe(0)
    if (SCREENSHOTS) { mkdirSync('docs/ui', { recursive: true }); await page.screenshot({ path: 'docs/ui/content-chat.png' }) }

    await tab(page, 'Output')
    const card = page.locator('[role="tabpanel"] .tool-card[data-tool="get_weather"]')
    await card.waitFor()
    expect(await card.textContent()).toContain('call_1')
    expect(await card.textContent()).toContain('"city": "Paris"')
    expect(await page.locator('[role="tabpanel"] .finish').textContent()).toContain('tool_calls')
    // the tree view of the same value
    await page.getByRole('button', { name: 'JSON tree' }).click()
    const call = page.locator('[role="tabpanel"] [data-path="$.tool_calls[0]"]')
    expect(await call.locator(':scope > .node-line .toggle').getAttribute('aria-expanded')).toBe('false')
    await call.locator(':scope > .node-line .toggle').click()
    await page.locator('[role="tabpanel"] [data-path="$.tool_calls[0].function"]').waitFor()
    await viewer.expectClean(page)
    expect(viewer.requests.filter((url) => url.startsWith(REMOTE))).toEqual([])
    await page.close()
  }, 30_000)

  it('shows usage and cost: input, output, cached and reasoning tokens, cost_usd, model and response model', async () => {
    const { page } = await open(S.chat)
    const usage = (await page.locator('[data-testid="usage"]').textContent()) ?? ''
    for (const text of ['input tokens 120', 'output tokens 30', 'cached input tokens 64', 'reasoning tokens 12', '$0.0042', 'model gpt-4o', 'response model gpt-4o-2024-08-06']) expect(usage).toContain(text)
    await page.close()
  }, 30_000)

  it('draws Responses and Anthropic messages: instructions, reasoning, tool_use, tool_result and thinking', async () => {
    const { page, panel } = await open(S.responses)
    await panel.locator('.bubble').first().waitFor()
    expect(await panel.locator('.chat').getAttribute('data-shape')).toBe('openai-responses')
    expect(await panel.locator('.bubble').evaluateAll((bubbles) => bubbles.map((bubble) => bubble.getAttribute('data-role')))).toEqual(['system', 'user'])
    await tab(page, 'Output')
    expect(await page.locator('[role="tabpanel"] .thinking summary').textContent()).toContain('thinking')
    expect(await page.locator('[role="tabpanel"]').textContent()).toContain('four')
    expect(await page.locator('[role="tabpanel"] .finish').textContent()).toContain('completed')

    await page.goto(`${origin}/trace/${CHAT}?step=${S.anthropic}`)
    const chat = page.locator('[role="tabpanel"] .chat[data-shape="anthropic"]')
    await chat.waitFor()
    expect(await chat.locator('.bubble').evaluateAll((bubbles) => bubbles.map((bubble) => bubble.getAttribute('data-role')))).toEqual(['system', 'user', 'assistant', 'user'])
    expect(await chat.locator('.tool-card[data-tool="lookup"]').textContent()).toContain('"q": "tracellm"')
    expect(await chat.locator('.tool-card.result').textContent()).toContain('a tracing library')
    expect(await chat.locator('details.thinking').getAttribute('open')).toBeNull()
    await chat.locator('details.thinking summary').click()
    expect(await chat.locator('details.thinking').textContent()).toContain('I should call lookup')
    await viewer.expectClean(page)
    await page.close()
  }, 30_000)

  it('draws retriever results as a document list with scores', async () => {
    const { page, panel } = await open(S.search, '&tab=output')
    const docs = panel.locator('ol.documents > li')
    await docs.first().waitFor()
    expect(await docs.count()).toBe(2)
    expect(await docs.nth(0).textContent()).toContain('doc-1')
    expect(await docs.nth(0).textContent()).toContain('score 0.910')
    expect(await docs.nth(1).textContent()).toContain('Spans have parents.')
    await page.close()
  }, 30_000)

  it('renders markdown only on request, sanitized: no script runs, no image loads, links open safely; the choice is kept', async () => {
    const { page, panel } = await open(S.answer, '&tab=output')
    const bubble = panel.locator('.bubble[data-role="assistant"]')
    await bubble.waitFor()
    expect(await bubble.locator('.text-block').textContent()).toContain('# Weather')
    expect(await bubble.locator('.text-block').textContent()).toContain(XSS[1])
    await bubble.getByRole('button', { name: 'Markdown' }).click()
    const markdown = bubble.locator('[data-testid="markdown"]')
    await markdown.locator('h1').waitFor()
    expect(await markdown.locator('h1').textContent()).toBe('Weather')
    expect(await markdown.locator('strong').textContent()).toBe('18°C')
    expect(await markdown.locator('img, script, iframe, form, input, svg, style, [style], [onerror], [onload]').count()).toBe(0)
    expect(await markdown.locator('.image-chip').first().textContent()).toContain(`${REMOTE}/pixel.png`)
    const link = markdown.locator('a[href="https://example.invalid/w"]')
    expect(await link.getAttribute('rel')).toBe('noopener noreferrer')
    expect(await link.getAttribute('target')).toBe('_blank')
    const hrefs = await markdown.locator('a').evaluateAll((links) => links.map((a) => a.getAttribute('href')))
    expect(hrefs.filter((href) => href !== null && !/^https:\/\/example\.invalid\//.test(href))).toEqual([])
    expect(viewer.requests.some((url) => url.startsWith(`${origin}/chunks/`))).toBe(true)
    if (SCREENSHOTS) await page.screenshot({ path: 'docs/ui/content-markdown.png' })
    // kept across a reload
    await page.reload()
    await page.locator('[role="tabpanel"] .bubble[data-role="assistant"] [data-testid="markdown"] h1').waitFor()
    // and back to text
    await page.locator('[role="tabpanel"] .bubble[data-role="assistant"]').getByRole('button', { name: 'Text' }).click()
    await page.locator('[role="tabpanel"] .bubble[data-role="assistant"] .text-block').waitFor()
    await page.waitForTimeout(300)
    await viewer.expectClean(page)
    expect(viewer.requests.filter((url) => !url.startsWith(`${origin}/`))).toEqual([])
    await page.close()
  }, 30_000)

  it('makes control and bidi characters visible', async () => {
    const { page, panel } = await open(S.bidi)
    await panel.locator('.invisible-char').first().waitFor()
    const marks = await panel.locator('.invisible-char').allTextContents()
    expect(marks).toEqual(['⟨U+202E⟩', '␇', '␛'])
    expect(await panel.textContent()).toContain('invoice⟨U+202E⟩txt.exe')
    expect(await panel.locator('.invisible-char').first().getAttribute('title')).toBe('U+202E RLO')
    await page.close()
  }, 30_000)

  it('highlights what capture cut short and says how much, with where to read about it', async () => {
    const { page, panel } = await open(S.cut)
    const note = page.locator('[data-testid="markers"]')
    expect(await note.textContent()).toContain('truncated by capture: 3 values cut short')
    expect(await note.textContent()).toContain('docs/capture-and-redaction.md#budgets-and-markers')
    await panel.locator('.truncated-marker').first().waitFor()
    const marked = await panel.locator('.truncated-marker').allTextContents()
    expect(marked).toEqual(expect.arrayContaining(['...[truncated 80 chars]', '[Truncated: budget]', '"…"']))
    expect(marked.some((text) => text.includes('[Object]'))).toBe(true)
    await page.close()
  }, 30_000)

  it('switches tabs with the keys 1–5, keeps the tab and a JSON path in the URL across a reload', async () => {
    const { page } = await open(S.bidi)
    const shown = () => page.locator('[role="tabpanel"]').getAttribute('data-tab')
    await page.keyboard.press('2')
    await page.waitForURL(/tab=output/)
    expect(await shown()).toBe('Output')
    await page.keyboard.press('3')
    await page.waitForURL(/tab=error/)
    expect(await shown()).toBe('Error & attempts')
    await page.keyboard.press('4')
    expect(await shown()).toBe('Metadata')
    await page.keyboard.press('5')
    expect(await shown()).toBe('Raw')
    expect(await page.locator('[role="tabpanel"]').textContent()).toContain('invoice⟨U+202E⟩txt.exe')
    await page.keyboard.press('1')
    expect(await shown()).toBe('Input')
    expect(page.url()).not.toContain('tab=')

    // a deep link to a node: its tab, the tree opened down to it, the node highlighted, after a reload too
    const path = "$['odd key']['it\\'s']"
    await page.goto(`${origin}/trace/${CHAT}?step=${S.bidi}&tab=output&path=${encodeURIComponent(path)}`)
    for (let round = 0; round < 2; round++) {
      const node = page.locator('[role="tabpanel"] .selected-node')
      await node.waitFor()
      expect(await node.getAttribute('data-path')).toBe(path)
      expect(await shown()).toBe('Output')
      if (round === 0) await page.reload()
    }
    // clicking a key puts its path in the URL
    await page.locator('[role="tabpanel"] [data-path="$[\'odd key\']"] > .node-line .key').click()
    await page.waitForURL((url) => url.searchParams.get('path') === "$['odd key']")
    await page.close()
  }, 30_000)

  it('copies a node\'s value and JSON path; y copies the path in the URL', async () => {
    const { page } = await open(S.chat, `&tab=output&path=${encodeURIComponent('$.tool_calls[0].function')}`)
    const node = page.locator('[role="tabpanel"] .selected-node[data-path="$.tool_calls[0].function"]')
    await node.waitFor()
    await node.locator(':scope > .node-line').getByRole('button', { name: 'copy JSON path' }).click()
    expect(await clipboard(page)).toBe('$.tool_calls[0].function')
    await node.locator(':scope > .node-line').getByRole('button', { name: 'copy value' }).click()
    expect(JSON.parse(await clipboard(page))).toEqual({ name: 'get_weather', arguments: '{"city":"Paris","unit":"C"}' })
    await page.evaluate(() => navigator.clipboard.writeText(''))
    await page.keyboard.press('y')
    await page.waitForFunction(() => navigator.clipboard.readText().then((text: string) => text !== ''))
    expect(await clipboard(page)).toBe('$.tool_calls[0].function')
    // a clicked node's path is the one y copies
    await page.locator('[role="tabpanel"] [data-path="$.tool_calls[0]"] > .node-line .key').click()
    await page.waitForURL((url) => url.searchParams.get('path') === '$.tool_calls[0]')
    await page.keyboard.press('y')
    await page.waitForFunction(() => navigator.clipboard.readText().then((text: string) => text === '$.tool_calls[0]'))
    // without a path, y copies the step id
    await page.goto(`${origin}/trace/${CHAT}?step=${S.chat}`)
    await page.locator('[data-testid="step-pane"] [role="tabpanel"]').waitFor()
    await page.keyboard.press('y')
    await page.waitForFunction((id: string) => navigator.clipboard.readText().then((text: string) => text === id), S.chat)
    await page.close()
  }, 30_000)

  it('draws the attempt timeline of a retried step and the final error with its stack, cause and aggregated errors', async () => {
    const { page } = await open(S.retried, '&tab=error')
    const timeline = page.locator('[data-testid="attempt-timeline"]')
    await timeline.waitFor()
    expect(await timeline.locator(':scope > li').count()).toBe(3)
    const text = (await page.locator('[role="tabpanel"]').textContent()) ?? ''
    expect(text).toContain('3 attempt(s), 2 retries')
    expect(await timeline.locator(':scope > li').nth(0).textContent()).toContain('429 slow down')
    expect(await timeline.locator(':scope > li').nth(0).textContent()).toContain('code 429')
    expect(await timeline.locator(':scope > li').nth(1).textContent()).toContain('429 slower')
    expect(await timeline.locator('.backoff').count()).toBe(2)
    expect(await timeline.locator(':scope > li').nth(2).textContent()).toContain('failed')
    for (const part of ['AggregateError', 'all attempts failed', 'caused by', 'socket hang up', '2 aggregated errors', 'second']) expect(text).toContain(part)
    const stack = page.locator('[role="tabpanel"] details.stack')
    expect(await stack.getAttribute('open')).toBeNull()
    await stack.locator('summary').click()
    expect(await stack.textContent()).toContain('at flaky (app.ts:1:1)')
    if (SCREENSHOTS) await page.screenshot({ path: 'docs/ui/content-attempts.png' })
    await page.close()
  }, 30_000)

  it('shows a 1 MB field as a preview, then loads it on request as a collapsed tree expanded 100 items at a time', async () => {
    const { page, panel } = await open(S.big)
    expect(await panel.textContent()).toMatch(/Preview of [\d,]+ bytes/)
    expect(await panel.locator('.json-tree').count()).toBe(0)
    await panel.getByRole('button', { name: /Load as a tree/ }).click()
    const root = panel.locator('.json-tree > [data-path="$"]')
    await root.waitFor()
    expect(await root.locator(':scope > .node-line .toggle').getAttribute('aria-expanded')).toBe('false')
    expect(await panel.locator('.node').count()).toBe(1)
    await root.locator(':scope > .node-line .toggle').click()
    const blob = panel.locator('[data-path="$.blob"]')
    expect(await blob.locator(':scope > .node-line .summary').textContent()).toBe('[20000 items]')
    await blob.locator(':scope > .node-line .toggle').click()
    expect(await blob.locator(':scope > .node-children > .node').count()).toBe(100)
    await blob.getByRole('button', { name: /show 100 more/ }).click()
    expect(await blob.locator(':scope > .node-children > .node').count()).toBe(200)
    await viewer.expectClean(page)
    await page.close()
  }, 30_000)

  it('sent no request but to its own origin, and logged no console error', () => {
    viewer.expectNoLeak()
  })
})

describe('the Messages view in Chromium', () => {
  // The trace page decides when to show the view (&view=messages); this host page renders it alone,
  // built from the client's own module, so the view's contract (traceId, skeleton, onSelect) is tested here.
  let host: string

  beforeAll(async () => {
    host = mkdtempSync(join(tmpdir(), 'tracellm-messages-'))
    cpSync(CLIENT_DIR, host, { recursive: true })
    rmSync(join(host, 'chunks'), { recursive: true, force: true })
    // the source page: the built one preloads the built app's shared chunk, removed above
    cpSync('src/ui/client/index.html', join(host, 'index.html'))
    await build({
      stdin: {
        contents: `import { render } from 'preact'
import { api } from './api.js'
import { MessagesView } from './trace/messages.js'
const traceId = location.pathname.split('/')[2]
api('/api/traces/' + traceId + '/steps').then((skeleton) => render(
  <MessagesView traceId={traceId} skeleton={skeleton} onSelect={(id) => { window.__selected = id }} />, document.getElementById('app')))`,
        resolveDir: resolve('src/ui/client'), loader: 'tsx', sourcefile: 'messages-host.tsx',
      },
      outdir: host, entryNames: 'app', chunkNames: 'chunks/[name]-[hash]', bundle: true, splitting: true, format: 'esm',
      jsx: 'automatic', jsxImportSource: 'preact', logLevel: 'warning', write: true,
    })
  }, 60_000)

  afterAll(() => { rmSync(host, { recursive: true, force: true }) })

  it('is a transcript of the llm steps with the tool steps between them; clicking an entry selects its step', async () => {
    const messages = await startViewer(seed(), { server: { clientDir: host } })
    try {
      const page = await messages.context.newPage()
      await page.goto(`${messages.origin}/trace/${CHAT}`)
      const view = page.locator('[data-testid="messages"]')
      await view.waitFor()
      const entries = await view.locator('.transcript-entry').evaluateAll((all) => all.map((entry) => entry.getAttribute('data-step-id')))
      expect(entries).toEqual([S.chat, S.tool, S.answer, S.responses, S.anthropic, S.search, S.bidi, S.retried, S.big, S.cut])
      const first = view.locator(`.llm-entry[data-step-id="${S.chat}"]`)
      await first.locator('.bubble').first().waitFor()
      expect(await first.locator('.bubble').evaluateAll((bubbles) => bubbles.map((bubble) => bubble.getAttribute('data-role')))).toEqual(['system', 'user', 'assistant'])
      // a later call shows only what is new: the tool result, then its answer
      const answer = view.locator(`.llm-entry[data-step-id="${S.answer}"]`)
      await answer.locator('.bubble').first().waitFor()
      expect(await answer.locator('.bubble').evaluateAll((bubbles) => bubbles.map((bubble) => bubble.getAttribute('data-role')))).toEqual(['tool', 'assistant'])
      expect(await view.locator(`.tool-entry[data-step-id="${S.tool}"]`).textContent()).toContain('get_weather')
      // its input and output previews, which come apart from the skeleton (/api/traces/:id/previews)
      const io = view.locator(`.tool-entry[data-step-id="${S.tool}"] .tool-io`)
      await io.getByText('18°C').waitFor()
      expect(await io.textContent()).toContain('[{"city":"Paris"}]')
      await view.locator(`.tool-entry[data-step-id="${S.tool}"] .entry-head`).click()
      expect(await page.evaluate(() => window.__selected)).toBe(S.tool)
      await messages.expectClean(page)
      messages.expectNoLeak()
      await page.close()
    } finally {
      await messages.close()
    }
  }, 60_000)

  it('fetches step details only for the entries in view, a few at a time', async () => {
    const many = makeDocument({
      traceId: '22222222000000000000000000000002' as TraceId, prompt: 'many', startedAt: at(t0, 0), endedAt: at(t0, 5000), durationMs: 5000,
      steps: Array.from({ length: 300 }, (_, i) => step(0x1000 + i, t0, i * 10, 5, { name: `call-${i}`, kind: 'llm', input: { messages: [{ role: 'user', content: `question ${i}` }] }, output: { role: 'assistant', content: `answer ${i}` } })),
    })
    const messages = await startViewer([many], { server: { clientDir: host }, viewport: { width: 1000, height: 600 } })
    try {
      const page = await messages.context.newPage()
      await page.goto(`${messages.origin}/trace/${many.traceId}`)
      await page.locator('[data-testid="messages"] .llm-entry[data-loaded="true"]').first().waitFor()
      await page.waitForTimeout(500)
      const details = messages.requests.filter((url) => /\/steps\/[0-9a-f]{16}$/.test(url)).length
      expect(details).toBeGreaterThan(0)
      expect(details).toBeLessThan(40)
      expect(await page.locator('[data-testid="messages"] .transcript-entry').count()).toBe(200)
      await page.close()
    } finally {
      await messages.close()
    }
  }, 60_000)
})
