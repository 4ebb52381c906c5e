import { describe, expect, it } from '@jest/globals'
import { mkdtemp, readFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { runNodeFile, type ChildResult } from '../helpers/child.js'

const fixture = fileURLToPath(new URL('../fixtures/exit-naturally.mjs', import.meta.url))

function runChild(env: Record<string, string>): Promise<ChildResult> {
  return runNodeFile(fixture, env, 15_000)
}

describe('process exit', () => {
  it('exits on its own with its trace written, without flush() (built package, child process)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tracellm-exit-'))
    const file = join(dir, 'traces.jsonl')

    const { code, stdout, stderr } = await runChild({ TRACE_FILE: file })

    expect({ code, stderr }).toEqual({ code: 0, stderr: '' })
    expect(stdout).toContain('work done')
    const lines = (await readFile(file, 'utf8')).trim().split('\n')
    expect(lines).toHaveLength(1)
    expect(JSON.parse(lines[0]!)).toMatchObject({ schema_version: 1, prompt: 'exit-naturally', output: 2, steps: [{ name: 'step', output: 2 }] })
  })
})
