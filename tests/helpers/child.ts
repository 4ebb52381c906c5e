// Runs a fixture script in a child Node process, as a user's program runs.
import { spawn } from 'node:child_process'

/** What a child process printed and how it ended. */
export interface ChildResult {
  readonly code: number | null
  readonly stdout: string
  readonly stderr: string
}

/**
 * Runs `node <file>` with `env` added to this process's environment and collects its output. A child
 * still running after `timeoutMs` is killed and the promise rejects: a hang (a timer keeping the
 * process alive) fails the test instead of blocking the suite.
 */
export function runNodeFile(file: string, env: Readonly<Record<string, string>>, timeoutMs: number): Promise<ChildResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [file], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (chunk: Buffer) => { stdout += chunk.toString() })
    child.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString() })
    const killer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`${file} did not exit within ${timeoutMs} ms: ${stderr}`)) }, timeoutMs)
    child.on('error', reject)
    child.on('exit', (code) => { clearTimeout(killer); resolve({ code, stdout, stderr }) })
  })
}
