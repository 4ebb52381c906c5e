#!/usr/bin/env node
// Bundles the viewer's browser client (src/ui/client) into dist/ui/client: index.html, app.js, app.css,
// and the lazy chunks (chunks/*.js) of code loaded on demand with import() — markdown and the word diff
// (docs/ui.md#figures: the initial JS stays under 80 KB gzip). Everything is bundled in from dev
// dependencies; nothing is loaded from a CDN.
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { gzipSync } from 'node:zlib'
import { build } from 'esbuild'

const source = 'src/ui/client'
const out = 'dist/ui/client'
rmSync(out, { recursive: true, force: true })
mkdirSync(out, { recursive: true })
const result = await build({
  entryPoints: { app: `${source}/main.tsx` },
  metafile: true,
  outdir: out,
  chunkNames: 'chunks/[name]-[hash]',
  bundle: true,
  splitting: true,
  format: 'esm',
  target: ['es2022', 'chrome110', 'firefox110', 'safari16'],
  jsx: 'automatic',
  jsxImportSource: 'preact',
  minify: true,
  legalComments: 'none',
  logLevel: 'warning',
})
await build({ entryPoints: [`${source}/app.css`], outfile: `${out}/app.css`, bundle: true, minify: true, logLevel: 'warning' })
// the chunks app.js imports statically (code it shares with a lazy chunk) are preloaded with it, not
// discovered once app.js has arrived: one round trip less before the first request to the API
const shared = result.metafile.outputs[`${out}/app.js`].imports.filter((item) => item.kind === 'import-statement').map((item) => item.path.slice(out.length))
const preloads = shared.map((path) => `<link rel="modulepreload" href="${path}">`).join('\n')
writeFileSync(`${out}/index.html`, readFileSync(`${source}/index.html`, 'utf8').replace('<script type="module" src="/app.js"></script>', (tag) => (preloads === '' ? tag : `${preloads}\n${tag}`)))
if (process.argv.includes('--size')) {
  const chunks = (existsSync(`${out}/chunks`) ? readdirSync(`${out}/chunks`, { withFileTypes: true }) : []).filter((entry) => entry.isFile()).map((entry) => `chunks/${entry.name}`)
  for (const name of ['app.js', 'app.css', 'index.html', ...chunks]) {
    const path = `${out}/${name}`
    console.log(`${name}: ${statSync(path).size} B, ${gzipSync(readFileSync(path)).length} B gzip`)
  }
}
