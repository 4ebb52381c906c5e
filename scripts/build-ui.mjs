#!/usr/bin/env node
// Bundles the viewer's browser client (src/ui/client) into dist/ui/client: index.html, app.js, app.css.
// Preact and @tanstack/virtual-core are bundled in (dev dependencies); nothing is loaded from a CDN.
import { copyFileSync, mkdirSync, readFileSync, statSync } from 'node:fs'
import { gzipSync } from 'node:zlib'
import { build } from 'esbuild'

const source = 'src/ui/client'
const out = 'dist/ui/client'
mkdirSync(out, { recursive: true })
await build({
  entryPoints: [`${source}/main.tsx`],
  outfile: `${out}/app.js`,
  bundle: true,
  format: 'esm',
  target: ['es2022', 'chrome110', 'firefox110', 'safari16'],
  jsx: 'automatic',
  jsxImportSource: 'preact',
  minify: true,
  legalComments: 'none',
  logLevel: 'warning',
})
await build({ entryPoints: [`${source}/app.css`], outfile: `${out}/app.css`, bundle: true, minify: true, logLevel: 'warning' })
copyFileSync(`${source}/index.html`, `${out}/index.html`)
if (process.argv.includes('--size')) {
  for (const name of ['app.js', 'app.css', 'index.html']) {
    const path = `${out}/${name}`
    console.log(`${name}: ${statSync(path).size} B, ${gzipSync(readFileSync(path)).length} B gzip`)
  }
}
