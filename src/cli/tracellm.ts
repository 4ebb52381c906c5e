#!/usr/bin/env node
/**
 * The `tracellm` bin: runs `main` with the real process streams and sets the exit code. It never
 * calls `process.exit`, so whatever is still buffered for a pipe is written before the process ends.
 */
import { main } from './program.js'

// `tracellm list | head` closes the pipe early: stop quietly instead of failing on EPIPE
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code !== 'EPIPE') process.stderr.write(`tracellm: cannot write to stdout: ${error.message}\n`)
})

main(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
  stdin: process.stdin,
}).then(
  (code) => {
    process.exitCode = code
  },
  (error: unknown) => {
    // main resolves with an exit code for every error; this is the last line of defence
    process.stderr.write(`tracellm: ${error instanceof Error ? error.message : String(error)}\n`)
    process.exitCode = 1
  },
)
