// The client as `npm run build` bundles it (scripts/build-ui.mjs, docs/ui.md#figures): the chunks
// app.js imports statically are preloaded by index.html, so the browser fetches them with app.js rather
// than one round trip later; the lazy chunks (markdown, word diff) are not.
import { existsSync, readFileSync } from 'node:fs'
import { describe, expect, it } from '@jest/globals'

const CLIENT = 'dist/ui/client'

describe('the built client', () => {
  it('preloads exactly the chunks app.js imports statically', () => {
    expect(existsSync(`${CLIENT}/app.js`)).toBe(true)
    const app = readFileSync(`${CLIENT}/app.js`, 'utf8')
    const html = readFileSync(`${CLIENT}/index.html`, 'utf8')
    // esbuild writes the static imports of a minified ESM bundle as `import{…}from"./chunks/x.js"`
    const statics = [...app.matchAll(/import\s*\{[^}]*\}\s*from\s*"\.(\/chunks\/[^"]+)"/g)].map((match) => match[1])
    const preloaded = [...html.matchAll(/<link rel="modulepreload" href="([^"]+)">/g)].map((match) => match[1])
    expect(preloaded.sort()).toEqual([...new Set(statics)].sort())
    const dynamic = [...app.matchAll(/import\("\.(\/chunks\/[^"]+)"\)/g)].map((match) => match[1])
    expect(dynamic.length).toBeGreaterThan(0)
    expect(preloaded.filter((path) => dynamic.includes(path))).toEqual([])
    // preloaded before the entry script, so that both start at once
    expect(html.indexOf('modulepreload')).toBeLessThan(html.indexOf('src="/app.js"'))
  })
})
