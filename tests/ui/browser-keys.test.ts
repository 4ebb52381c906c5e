// The `?` help overlay and the rule that keys never act while the user types (docs/ui.md#keys), in a
// real Chromium against the real server.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { makeDocument } from '../helpers/documents.js'
import { startViewer, type Viewer } from './browser-harness.js'

let viewer: Viewer

beforeAll(async () => { viewer = await startViewer([makeDocument({ prompt: 'one-trace' })]) }, 60_000)
afterAll(async () => { await viewer?.close() })

describe('the help overlay', () => {
  it('opens on ?, lists every key of the map, closes on Esc and on ? again, and ignores ? typed into a field', async () => {
    const page = await viewer.context.newPage()
    await page.goto(`${viewer.origin}/`)
    await page.locator('input').first().waitFor()
    expect(await page.locator('[data-testid="help"]').count()).toBe(0)
    await page.keyboard.press('?')
    const help = page.locator('[data-testid="help"]')
    await help.waitFor()
    const text = (await help.textContent()) ?? ''
    for (const key of ['j / k', 'g g / G', 'n / N', '1 – 5', 'm t s w', '+ / - / 0', 'Esc']) expect(text).toContain(key)
    expect(text).toContain('kind:llm')
    await page.keyboard.press('Escape')
    await help.waitFor({ state: 'detached' })
    await page.keyboard.press('?')
    await help.waitFor()
    await page.keyboard.press('?')
    await help.waitFor({ state: 'detached' })

    // typed into a field, ? is text
    await page.locator('input').first().focus()
    await page.keyboard.type('?')
    expect(await page.locator('input').first().inputValue()).toContain('?')
    expect(await page.locator('[data-testid="help"]').count()).toBe(0)
    await viewer.expectClean(page)
    await page.close()
    viewer.expectNoLeak()
  }, 30_000)
})
