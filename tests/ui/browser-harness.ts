// One viewer in a real Chromium for a browser test file (docs/ui.md#pages): seeds a SQLite store (or
// writes to a given store), starts the server on 127.0.0.1:0 in-process, launches /usr/bin/chromium
// headless through playwright-core, and records every request, CSP violation and console error so
// that a test can prove that nothing from a trace ran and no request left the origin.
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { expect } from '@jest/globals'
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core'
import { openStore, sqliteSink, type TraceStore } from '../../src/index.js'
import type { JsonValue, StepRecord, TraceDocument } from '../../src/document/document.js'
import { startUiServer } from '../../src/ui/server.js'
import type { UiServer, UiServerOptions } from '../../src/ui/types.js'
import { makeStep, stepIdOf } from '../helpers/documents.js'

// the browser's globals, used inside page.evaluate callbacks only (the tests' tsconfig has no DOM lib)
declare const window: any, document: any

export const CHROMIUM = '/usr/bin/chromium'
export const CLIENT_DIR = resolve('dist/ui/client')
/** `TRACELLM_UI_SCREENSHOTS=1` makes the browser tests write the screenshots of docs/ui.md into docs/ui/. */
export const SCREENSHOTS = process.env.TRACELLM_UI_SCREENSHOTS === '1'

/** Stored prompts, inputs, outputs, errors and metadata that would run script if rendered as HTML. */
export const XSS = [
  '<img src=x onerror="window.__xss=1">',
  '<script>window.__xss=1</script>',
  'javascript:window.__xss=1',
  '"><svg onload="window.__xss=1">',
  '<a href="javascript:window.__xss=1">click</a>',
]

export const at = (base: number, ms: number): string => new Date(base + ms).toISOString()

/** A step `n` (its id `stepIdOf(n)`, its seq `n`) starting `offset` ms after `base`, lasting `length` ms. */
export function step(n: number, base: number, offset: number, length: number, overrides: Partial<StepRecord> = {}): StepRecord {
  return makeStep({ stepId: stepIdOf(n), seq: n, startedAt: at(base, offset), endedAt: at(base, offset + length), durationMs: length, ...overrides } as Partial<StepRecord>)
}

export interface Viewer {
  readonly origin: string
  readonly server: UiServer
  readonly store: TraceStore
  /** The SQLite file (when the harness made the store). */
  readonly path: string | undefined
  readonly browser: Browser
  readonly context: BrowserContext
  /** Every URL the browser requested. */
  readonly requests: string[]
  /** Console errors and uncaught page errors. */
  readonly consoleErrors: string[]
  /** No `window.__xss` flag was set and no CSP violation was reported in `page`. */
  expectClean(page: Page): Promise<void>
  /** Requests all went to the viewer's origin, and no console error was logged. */
  expectNoLeak(): void
  close(): Promise<void>
}

export interface ViewerOptions {
  /** A store to serve instead of a seeded SQLite file (the caller closes it). */
  readonly store?: TraceStore
  readonly server?: Partial<Omit<UiServerOptions, 'store' | 'storeLabel'>>
  readonly viewport?: { width: number; height: number }
}

/** Seeds `documents` into a new SQLite file (unless `options.store` is given) and opens the viewer on it. */
export async function startViewer(documents: ReadonlyArray<TraceDocument | JsonValue>, options: ViewerOptions = {}): Promise<Viewer> {
  if (!existsSync(CHROMIUM)) throw new Error(`the browser tests need Chromium at ${CHROMIUM}: install it (apt-get install -y chromium); .ci/run does`)
  if (!existsSync(join(CLIENT_DIR, 'index.html'))) throw new Error(`the client is not built in ${CLIENT_DIR}: run npm run build`)
  let directory: string | undefined
  let path: string | undefined
  let store = options.store
  if (store === undefined) {
    directory = mkdtempSync(join(tmpdir(), 'tracellm-ui-browser-'))
    path = join(directory, 'traces.db')
    const sink = sqliteSink({ path })
    await sink.write(documents as TraceDocument[])
    sink.close()
    store = await openStore(path, { readOnly: true })
  }
  const server = await startUiServer({ store, storeLabel: path ?? 'test store', port: 0, clientDir: CLIENT_DIR, ...options.server })
  const origin = `http://127.0.0.1:${server.port}`
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  })
  const context = await browser.newContext({ viewport: options.viewport ?? { width: 1280, height: 800 } })
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin })
  // records CSP violations before any page script runs (init scripts are not subject to the page's CSP)
  await context.addInitScript(() => {
    ;(window as { __csp: string[] }).__csp = []
    document.addEventListener('securitypolicyviolation', (event: any) => {
      ;(window as { __csp: string[] }).__csp.push(`${event.violatedDirective} ${event.blockedURI}`)
    })
  })
  const requests: string[] = []
  const consoleErrors: string[] = []
  context.on('request', (request) => { requests.push(request.url()) })
  context.on('page', (page) => {
    page.on('console', (message) => { if (message.type() === 'error') consoleErrors.push(message.text()) })
    page.on('pageerror', (error) => { consoleErrors.push(String(error)) })
  })
  const ownStore = options.store === undefined
  return {
    origin, server, store, path, browser, context, requests, consoleErrors,
    async expectClean(page) {
      expect(await page.evaluate(() => (window as { __xss?: unknown }).__xss)).toBeUndefined()
      expect(await page.evaluate(() => (window as { __csp: string[] }).__csp)).toEqual([])
    },
    expectNoLeak() {
      expect(requests.length).toBeGreaterThan(0)
      expect(requests.filter((url) => !url.startsWith(`${origin}/`))).toEqual([])
      expect(consoleErrors).toEqual([])
    },
    async close() {
      await context.close().catch(() => undefined)
      await browser.close().catch(() => undefined)
      await server.close()
      if (ownStore) await store!.close()
      if (directory !== undefined) rmSync(directory, { recursive: true, force: true })
    },
  }
}
