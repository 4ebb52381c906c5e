// The browser half of bench/ui.mjs: headless Chromium (playwright-core, /usr/bin/chromium, the flags of
// tests/ui/browser-harness.ts) on the viewer's pages, with a long-task observer and paint/row markers
// installed before any page script (init scripts are not subject to the page's CSP). Every function
// returns plain numbers; bench/ui.mjs compares them with the bars.
import { chromium } from 'playwright-core'

export const CHROMIUM = '/usr/bin/chromium'

/** Installed in every page: long tasks, and the first moment a list row or a tree row is in the DOM. */
function markers() {
  window.__longtasks = []
  window.__marks = {}
  try {
    new PerformanceObserver((list) => {
      for (const entry of list.getEntries()) window.__longtasks.push({ start: entry.startTime, duration: entry.duration })
    }).observe({ type: 'longtask', buffered: true })
  } catch {}
  const seen = (name, selector) => {
    if (window.__marks[name] === undefined && document.querySelector(selector) !== null) {
      window.__marks[name] = performance.now()
      // the first frame after the rows: the main thread was free to paint them
      requestAnimationFrame(() => setTimeout(() => { window.__marks[name + 'Frame'] = performance.now() }, 0))
    }
  }
  new MutationObserver(() => {
    seen('listRows', 'tr.trace-row')
    seen('treeRows', '.step-row')
    seen('stepPane', '[data-testid="step-pane"] [role="tabpanel"]')
  }).observe(document, { childList: true, subtree: true })
}

export async function launch(origin) {
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  })
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } })
  await context.addInitScript(markers)
  const requests = []
  context.on('request', (request) => requests.push(request.url()))
  return { browser, context, requests, origin }
}

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]

/** The list page, `runs` cold navigations: first contentful paint and the first rows, ms after navigation start. */
export async function listPage(session, runs = 5) {
  const paints = []
  const rows = []
  for (let run = 0; run < runs; run++) {
    const page = await session.context.newPage()
    await page.goto(`${session.origin}/`)
    await page.waitForFunction(() => window.__marks.listRowsFrame !== undefined, null, { timeout: 10_000 })
    const timing = await page.evaluate(() => ({
      paint: performance.getEntriesByName('first-contentful-paint')[0]?.startTime ?? null,
      rows: window.__marks.listRowsFrame,
    }))
    if (timing.paint !== null) paints.push(timing.paint)
    rows.push(timing.rows)
    await page.close()
  }
  return { paint: { median: median(paints), max: Math.max(...paints) }, rows: { median: median(rows), max: Math.max(...rows) } }
}

/**
 * The 5 000-step trace: interactive (the first frame after the tree's rows), rows in the DOM against
 * the visible rows while scrolling top to bottom, long tasks and the longest frame while scrolling,
 * expand/collapse all with `]` / `[`, and the JS heap (CDP Performance.getMetrics).
 */
export async function bigTrace(session, traceId) {
  const page = await session.context.newPage()
  const cdp = await session.context.newCDPSession(page)
  await cdp.send('Performance.enable')
  await page.goto(`${session.origin}/trace/${traceId}`)
  await page.waitForFunction(() => window.__marks.treeRowsFrame !== undefined, null, { timeout: 20_000 })
  await page.waitForTimeout(300)
  const interactive = await page.evaluate(() => {
    // interactive: the rows painted and no long task still running after them
    const rows = window.__marks.treeRowsFrame
    const blocking = window.__longtasks.filter((task) => task.start < rows + 50).map((task) => task.start + task.duration)
    return Math.max(rows, ...blocking)
  })
  const scroll = await page.evaluate(async () => {
    const tree = document.querySelector('[data-testid="step-tree"]')
    const rowHeight = document.querySelector('.step-row').offsetHeight
    const started = performance.now()
    let worstRatio = 0
    let worstRendered = 0
    let visible = 0
    let frames = 0
    let longestFrame = 0
    let last = started
    await new Promise((resolve) => {
      const tick = (now) => {
        longestFrame = Math.max(longestFrame, now - last)
        last = now
        visible = Math.ceil(tree.clientHeight / rowHeight)
        const rendered = document.querySelectorAll('.step-row').length
        worstRendered = Math.max(worstRendered, rendered)
        worstRatio = Math.max(worstRatio, rendered / visible)
        frames++
        if (tree.scrollTop + tree.clientHeight >= tree.scrollHeight - 1 || frames > 2000) return resolve()
        tree.scrollTop += 2 * tree.clientHeight / 3
        requestAnimationFrame(tick)
      }
      requestAnimationFrame(tick)
    })
    const ended = performance.now()
    const tasks = window.__longtasks.filter((task) => task.start + task.duration >= started && task.start <= ended + 100)
    return { frames, visible, worstRendered, worstRatio, longestFrame, longestTask: Math.max(0, ...tasks.map((task) => task.duration)) }
  })
  const toggles = {}
  for (const [name, key] of [['collapse', '['], ['expand', ']']]) toggles[name] = await toggleAll(page, key)
  const metrics = (await cdp.send('Performance.getMetrics')).metrics
  const heap = metrics.find((metric) => metric.name === 'JSHeapUsedSize')?.value ?? null
  await page.close()
  return { interactive, scroll, toggles, heapBytes: heap }
}

/** Presses `key` and times, in the page, from the keydown to the first frame after the tree's rows changed; null when nothing changed in 2 s. */
async function toggleAll(page, key) {
  await page.locator('[data-testid="step-tree"]').evaluate((tree) => tree.scrollTo(0, 0))
  await page.waitForTimeout(100)
  await page.evaluate((expected) => {
    // the rows in the DOM and the tree's height: what a collapse or an expand of everything changes
    const state = () => [...document.querySelectorAll('.step-row')].map((row) => row.getAttribute('data-step-id')).join(',') + '|' + document.querySelector('.tree-inner')?.style.height
    window.__toggle = { down: undefined, before: state(), state }
    document.addEventListener('keydown', (event) => { if (event.key === expected) window.__toggle.down = performance.now() }, { capture: true, once: true })
  }, key)
  await page.keyboard.press(key)
  return page.evaluate(() => new Promise((resolve) => {
    const state = window.__toggle.state
    const deadline = performance.now() + 2000
    const poll = () => {
      if (state() !== window.__toggle.before && window.__toggle.down !== undefined) {
        return requestAnimationFrame(() => setTimeout(() => resolve(performance.now() - window.__toggle.down), 0))
      }
      if (performance.now() > deadline) return resolve(null)
      requestAnimationFrame(poll)
    }
    poll()
  }))
}

/** The step with a 10 MB input: what the browser received for it, whether it asked for the raw value, and the long tasks. */
export async function hugeField(session, traceId, stepId) {
  const page = await session.context.newPage()
  const received = []
  page.on('response', async (response) => {
    if (response.url().includes(`/steps/${stepId}`)) received.push({ url: response.url(), bytes: (await response.body()).length })
  })
  await page.goto(`${session.origin}/trace/${traceId}?step=${stepId}`)
  await page.waitForFunction(() => window.__marks.stepPaneFrame !== undefined, null, { timeout: 20_000 })
  await page.waitForTimeout(500)
  const longestTask = await page.evaluate(() => Math.max(0, ...window.__longtasks.map((task) => task.duration)))
  const shown = await page.evaluate(() => document.querySelector('[data-testid="step-pane"]')?.textContent.length ?? 0)
  await page.close()
  return { received, rawRequested: session.requests.some((url) => url.includes(`/steps/${stepId}/raw/`)), longestTask, shownChars: shown }
}

/** The list page open while `write()` commits a trace: ms from the commit until the page shows it (its row, or a bar saying /new trace/); null after 5 s. */
export async function liveList(session, traceId, write) {
  const page = await session.context.newPage()
  await page.goto(`${session.origin}/`)
  await page.waitForFunction(() => window.__marks.listRowsFrame !== undefined, null, { timeout: 10_000 })
  const committed = await write()
  const shown = await page.waitForFunction((id) => {
    if (document.querySelector(`tr[data-trace-id="${id}"]`) !== null || /new trace/i.test(document.body.textContent ?? '')) return Date.now()
    return false
  }, traceId, { timeout: 5000, polling: 'raf' }).then((handle) => handle.jsonValue(), () => null)
  await page.close()
  return shown === null ? null : shown - committed
}
