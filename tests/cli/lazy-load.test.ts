// The `tracellm` bin loads a command's code only when that command runs: printing the version or a
// command's help, or rejecting a flag, resolves commander and the wiring (program, args, io, errors,
// format) and nothing of the library. A child process runs the built bin under a module resolve hook
// that writes every URL it resolves to stderr. `npm test` builds first; on its own, run
// `npm run build` before this file.
import { spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..')
const BIN = join(ROOT, 'dist', 'cli', 'tracellm.js')

// the hooks run on their own thread: a synchronous write to fd 2 is not lost when the process ends
const HOOK = `import { writeSync } from 'node:fs'
export async function resolve(specifier, context, next) {
  const result = await next(specifier, context)
  writeSync(2, 'resolved ' + result.url + '\\n')
  return result
}
`

/** What only a command that runs may load: the library, the renderer, the demo, stores, sinks, command modules. */
const HEAVY = [/\/dist\/index\.js$/, /\/dist\/cli\/render\.js$/, /\/dist\/cli\/demo\.js$/, /\/dist\/sinks\//, /\/dist\/stores\//, /\/dist\/configure\.js$/, /\/dist\/cli\/commands\//]

let directory: string
let register: string

interface Run {
  readonly status: number | null
  readonly stdout: string
  /** stderr without the hook's lines. */
  readonly stderr: string
  /** Every URL resolved, in order. */
  readonly resolved: ReadonlyArray<string>
}

/** Runs the bin with `args` under the resolve hook. */
function tracellm(...args: string[]): Run {
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1' }
  delete env.TRACELLM_DB
  const result = spawnSync(process.execPath, ['--import', pathToFileURL(register).href, BIN, ...args], { cwd: directory, env, encoding: 'utf8', timeout: 15_000 })
  const lines = result.stderr.split('\n')
  return {
    status: result.status,
    stdout: result.stdout,
    stderr: lines.filter((line) => !line.startsWith('resolved ')).join('\n'),
    resolved: lines.filter((line) => line.startsWith('resolved ')).map((line) => line.slice('resolved '.length)),
  }
}

function heavy(run: Run): string[] {
  return run.resolved.filter((url) => HEAVY.some((pattern) => pattern.test(url)))
}

beforeAll(() => {
  if (!existsSync(BIN)) throw new Error(`${BIN} is missing: run \`npm run build\` first`)
  directory = mkdtempSync(join(tmpdir(), 'tracellm-lazy-load-'))
  const hook = join(directory, 'hook.mjs')
  writeFileSync(hook, HOOK)
  register = join(directory, 'register.mjs')
  writeFileSync(register, `import { register } from 'node:module'\nregister(${JSON.stringify(pathToFileURL(hook).href)})\n`)
})

afterAll(() => {
  rmSync(directory, { recursive: true, force: true })
})

describe('tracellm (bin) loads commands on demand', () => {
  it('--version loads only commander and the wiring', () => {
    const result = tracellm('--version')

    expect(result.status).toBe(0)
    expect(result.stdout).toMatch(/^\d+\.\d+\.\d+/)
    expect(result.resolved).toContain(pathToFileURL(join(ROOT, 'dist', 'cli', 'program.js')).href)
    expect(heavy(result)).toEqual([])
  })

  it('ui --help loads neither the viewer nor the library', () => {
    const result = tracellm('ui', '--help')

    expect(result.status).toBe(0)
    expect(result.stdout).toContain('Usage: tracellm ui')
    expect(heavy(result)).toEqual([])
  })

  it('a usage error is reported before any command module loads', () => {
    const result = tracellm('list', '--limit', '0')

    expect(result.status).toBe(2)
    expect(result.stderr).toMatch(/^tracellm: option '--limit <n>' argument '0' is invalid/)
    expect(heavy(result)).toEqual([])
  })

  it('a command that runs loads its module (the hook sees dynamic imports)', () => {
    const result = tracellm('--db', join(directory, 'missing.db'), 'list')

    expect(result.status).toBe(1)
    expect(result.stderr).toMatch(/^tracellm: no trace store at /)
    expect(heavy(result)).toEqual(expect.arrayContaining([
      pathToFileURL(join(ROOT, 'dist', 'cli', 'commands', 'list.js')).href,
      pathToFileURL(join(ROOT, 'dist', 'cli', 'render.js')).href,
    ]))
  })
})
