// The trace page's delete button (src/ui/client/trace/delete-button.tsx) in Chromium, on a page of its
// own bundled here with esbuild: hidden on a read-only viewer; with --write, it asks first, and deletes
// through the CSRF-protected route (docs/ui.md#security) only once confirmed.
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { build } from 'esbuild'
import type { TraceId } from '../../src/document/document.js'
import { openStore, sqliteSink } from '../../src/index.js'
import { makeDocument } from '../helpers/documents.js'
import { CLIENT_DIR, startViewer, type Viewer } from './browser-harness.js'

const A = 'aaaaaaaa000000000000000000000001' as TraceId
const B = 'bbbbbbbb000000000000000000000002' as TraceId

let clientDir: string

beforeAll(async () => {
  clientDir = mkdtempSync(join(tmpdir(), 'tracellm-ui-delete-button-'))
  // the source page: the built one preloads the built app's shared chunk, which this host does not have
  cpSync('src/ui/client/index.html', join(clientDir, 'index.html'))
  writeFileSync(join(clientDir, 'app.css'), '')
  await build({
    entryPoints: ['tests/ui/fixtures/delete-entry.mjs'], outfile: join(clientDir, 'app.js'), bundle: true, format: 'esm',
    jsx: 'automatic', jsxImportSource: 'preact', logLevel: 'warning',
  })
}, 60_000)

afterAll(() => {
  rmSync(clientDir, { recursive: true, force: true })
})

const docs = () => [makeDocument({ traceId: A, startedAt: '2026-11-24T10:00:00.000Z' }), makeDocument({ traceId: B, startedAt: '2026-11-24T11:00:00.000Z' })]

/** A viewer with --write over a writable SQLite store, as `tracellm ui --write` opens it. */
async function writableViewer(server: { clientDir?: string }): Promise<{ viewer: Viewer; close(): Promise<void> }> {
  const directory = mkdtempSync(join(tmpdir(), 'tracellm-ui-delete-button-db-'))
  const sink = sqliteSink({ path: join(directory, 'traces.db') })
  await sink.write(docs())
  sink.close()
  const store = await openStore(join(directory, 'traces.db'))
  const viewer = await startViewer([], { store, server: { ...server, write: true } })
  return {
    viewer,
    async close() {
      await viewer.close()
      await store.close()
      rmSync(directory, { recursive: true, force: true })
    },
  }
}

describe('the delete button', () => {
  it('is not shown by a read-only viewer', async () => {
    const viewer = await startViewer(docs(), { server: { clientDir } })
    try {
      const page = await viewer.context.newPage()
      await page.goto(`${viewer.origin}/?trace=${A}`)
      await page.waitForResponse((response) => response.url().endsWith('/api/meta'))
      await page.waitForTimeout(200)
      expect(await page.locator('[data-testid="delete-trace"]').count()).toBe(0)
      await page.close()
    } finally {
      await viewer.close()
    }
  }, 30_000)

  it('with --write, deletes nothing when the confirmation is dismissed, and the trace once it is accepted', async () => {
    const { viewer, close } = await writableViewer({ clientDir })
    try {
      const page = await viewer.context.newPage()
      await page.goto(`${viewer.origin}/?trace=${A}`)
      const button = page.locator('[data-testid="delete-trace"]')
      await button.waitFor()

      page.once('dialog', (dialog) => { void dialog.dismiss() })
      await button.click()
      await page.waitForTimeout(200)
      expect(await page.evaluate(() => (globalThis as unknown as { document: { body: { dataset: Record<string, string> } } }).document.body.dataset.deleted)).toBeUndefined()

      const dialogs: string[] = []
      page.once('dialog', (dialog) => { dialogs.push(dialog.message()); void dialog.accept() })
      const posted = page.waitForRequest((request) => request.method() === 'POST')
      await button.click()
      const request = await posted
      await page.waitForFunction((id) => (globalThis as unknown as { document: { body: { dataset: Record<string, string> } } }).document.body.dataset.deleted === id, A)

      expect(dialogs[0]).toContain(A)
      expect(request.url()).toBe(`${viewer.origin}/api/traces/${A}/delete`)
      expect(request.headers()['x-tracellm-token']).toEqual(expect.any(String))
      expect(request.headers()['content-type']).toBe('application/json')
      expect(await viewer.store.getAll(A)).toEqual([])
      expect(await viewer.store.getAll(B)).toHaveLength(1)
      viewer.expectNoLeak()
      await page.close()
    } finally {
      await close()
    }
  }, 30_000)

  it('is on the real trace page with --write, and a deleted trace sends the page back to the list', async () => {
    const { viewer, close } = await writableViewer({})
    try {
      const page = await viewer.context.newPage()
      await page.goto(`${viewer.origin}/trace/${B}`)
      const button = page.locator('[data-testid="delete-trace"]')
      await button.waitFor()
      page.once('dialog', (dialog) => { void dialog.accept() })
      await button.click()
      await page.waitForURL(`${viewer.origin}/`)
      expect(await viewer.store.getAll(B)).toEqual([])
      expect(await viewer.store.getAll(A)).toHaveLength(1)
      await viewer.expectClean(page)
      await page.close()
    } finally {
      await close()
    }
  }, 30_000)
})
