// The `tracellm` command run in-process through `main`, with its output captured.
import { Readable } from 'node:stream'
import { expect } from '@jest/globals'
import { main, type CliIo } from '../../src/cli/program.js'

export interface Result {
  readonly code: number
  readonly stdout: string
  readonly stderr: string
}

export interface RunOptions {
  readonly env?: Readonly<Record<string, string | undefined>>
  readonly isTTY?: boolean
  readonly stderrTTY?: boolean
  readonly columns?: number
  readonly answer?: string
}

/** Runs `tracellm ...args` in-process with captured output. */
export async function run(args: ReadonlyArray<string>, options: RunOptions = {}): Promise<Result> {
  let stdout = ''
  let stderr = ''
  const io: CliIo = {
    stdout: { write: (chunk: string) => { stdout += chunk; return true }, ...(options.columns === undefined ? {} : { columns: options.columns }) },
    stderr: { write: (chunk: string) => { stderr += chunk; return true }, isTTY: options.stderrTTY === true },
    env: options.env ?? {},
    ...(options.isTTY === undefined ? {} : { isTTY: options.isTTY }),
    ...(options.answer === undefined ? {} : { stdin: Object.assign(Readable.from([options.answer]), { isTTY: true }) }),
  }
  const code = await main(args, io)
  return { code, stdout, stderr }
}

/** The error contract: one line `tracellm: …`, no stack trace. */
export function expectOneLineError(result: Result, code: number): void {
  expect(result.code).toBe(code)
  expect(result.stderr).toMatch(/^tracellm: [^\n]+\n$/)
  expect(result.stderr).not.toMatch(/\n\s+at /)
}
