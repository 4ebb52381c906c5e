// The built `tracellm` bin as users run it: a child process of `node dist/cli/tracellm.js` (and once
// through `npx tracellm`, the package's own bin). `npm test` builds first; on its own, run
// `npm run build` before this file.
import { spawnSync, type SpawnSyncReturns } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { sqliteSink, type TraceId } from '../../src/index.js'
import { ragDocument } from '../fixtures/cli-documents.js'

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..')
const BIN = join(ROOT, 'dist', 'cli', 'tracellm.js')
const DOC = ragDocument('0af7651916cd43dd8448eb211c80319c' as TraceId)

let directory: string
let db: string

/** Runs the bin with `args`, without colours and without a TRACELLM_DB of the environment. */
function tracellm(...args: string[]): SpawnSyncReturns<string> {
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1' }
  delete env.TRACELLM_DB
  return spawnSync(process.execPath, [BIN, ...args], { cwd: directory, env, encoding: 'utf8', timeout: 15_000 })
}

beforeAll(async () => {
  if (!existsSync(BIN)) throw new Error(`${BIN} is missing: run \`npm run build\` first`)
  directory = mkdtempSync(join(tmpdir(), 'tracellm-bin-'))
  db = join(directory, 'traces.db')
  const sink = sqliteSink({ path: db })
  await sink.write([DOC])
  sink.close()
})

afterAll(() => {
  rmSync(directory, { recursive: true, force: true })
})

describe('tracellm (bin)', () => {
  it('prints the help and exits with 0', () => {
    const result = tracellm('--help')

    expect(result.status).toBe(0)
    expect(result.stdout).toContain('Usage: tracellm [options] [command]')
    expect(result.stderr).toBe('')
  })

  it('lists the traces of a store', () => {
    const result = tracellm('list', '--db', db)

    expect(result.status).toBe(0)
    expect(result.stdout).toMatch(/^\S+ \S+ {2}0af76519 {2}answer_question {2}✗ error/m)
  })

  it('shows the step tree of a trace', () => {
    const result = tracellm('show', '0af76519', '--db', db)

    expect(result.status).toBe(0)
    expect(result.stdout).toMatch(/^├─ retrieve\s+retriever\s+✓\s+40\.0 ms\s+█+$/m)
    expect(result.stdout).toMatch(/^│ {2}└─ search\s/m)
    expect(result.stdout).toMatch(/^└─ generate\s+llm\s+✗/m)
  })

  it('fails with one line and no stack trace when there is no store', () => {
    const result = tracellm('list', '--db', join(directory, 'missing.db'))

    expect(result.status).toBe(1)
    expect(result.stdout).toBe('')
    expect(result.stderr).toMatch(/^tracellm: no trace store at [^\n]+\n$/)
  })

  it('fails with exit code 2 and one line on a bad flag', () => {
    const result = tracellm('list', '--db', db, '--limit', '0')

    expect(result.status).toBe(2)
    expect(result.stderr).toMatch(/^tracellm: [^\n]+\n$/)
  })

  it('runs through npx from the repository, as the package bin', () => {
    // npm exec links the project's own bin (and makes it executable) into its cache on first use;
    // an entry cached before the first build has no link: remove it from ~/.npm/_npx
    const { version } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }

    const result = spawnSync('npx', ['--no-install', 'tracellm', '--version'], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 })

    expect({ status: result.status, stdout: result.stdout, stderr: result.stderr.split('\n').filter((line) => !line.startsWith('npm warn')).join('\n') })
      .toEqual({ status: 0, stdout: `${version}\n`, stderr: '' })
  })
})
