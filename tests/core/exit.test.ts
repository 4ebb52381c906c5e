import { describe, expect, it } from '@jest/globals'
import { spawn } from 'node:child_process'
import { mkdtemp, readFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

const fixture = fileURLToPath(new URL('../fixtures/exit-naturally.mjs', import.meta.url))

function runChild(env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [fixture], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (chunk: Buffer) => { stdout += chunk.toString() })
    child.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString() })
    // a hang (a timer keeping the process alive) fails the test instead of blocking the suite
    const killer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`child did not exit on its own: ${stderr}`)) }, 15_000)
    child.on('error', reject)
    child.on('exit', (code) => { clearTimeout(killer); resolve({ code, stdout, stderr }) })
  })
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
