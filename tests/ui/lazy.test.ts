// `import 'tracellm'` (and the CLI's module, before `ui` runs) never loads the viewer's server: a
// child process whose module resolver throws for hono and @hono/* imports them. `npm test` builds
// first; on its own, run `npm run build` before this file.
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { runNodeFile } from '../helpers/child.js'

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..')
const DIST = join(ROOT, 'dist')

const HOOK = `export async function resolve(specifier, context, next) {
  if (specifier === 'hono' || specifier.startsWith('hono/') || specifier.startsWith('@hono/')) throw new Error('loaded ' + specifier)
  return next(specifier, context)
}`

let directory: string

/** A script that installs the hook, then imports `modules` (dist-relative) and prints "ok". */
function script(name: string, modules: ReadonlyArray<string>): string {
  const file = join(directory, name)
  const imports = modules.map((module) => `await import(${JSON.stringify(pathToFileURL(join(DIST, module)).href)})`).join('\n')
  writeFileSync(file, `import { register } from 'node:module'\nregister(${JSON.stringify(`data:text/javascript,${encodeURIComponent(HOOK)}`)})\n${imports}\nconsole.log('ok')\n`)
  return file
}

beforeAll(() => {
  if (!existsSync(join(DIST, 'index.js'))) throw new Error('dist/ is missing: run `npm run build` first')
  directory = mkdtempSync(join(tmpdir(), 'tracellm-lazy-'))
})

afterAll(() => {
  rmSync(directory, { recursive: true, force: true })
})

describe('the viewer loads lazily', () => {
  it("import 'tracellm', tracellm/fp and the CLI's program never load hono", async () => {
    const result = await runNodeFile(script('main.mjs', ['index.js', 'fp/index.js', 'cli/program.js']), {}, 15_000)

    expect(result.stderr).toBe('')
    expect(result.stdout).toBe('ok\n')
    expect(result.code).toBe(0)
  })

  it('the server module does load it (the hook works)', async () => {
    const result = await runNodeFile(script('server.mjs', ['ui/server.js']), {}, 15_000)

    expect(result.code).not.toBe(0)
    expect(result.stderr).toMatch(/loaded (@hono\/node-server|hono)/)
  })
})
