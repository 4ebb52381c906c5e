/**
 * The errors of the `tracellm` command, and how a message is made fit to print: `program.ts` turns
 * each into an exit code (a `UsageError` 2, any other 1, `OutputClosed` 0 without a message) and one
 * line `tracellm: <message>` on stderr.
 */
import { maskSecrets } from './format.js'

/** @internal A failure at run time: printed as it is, exit code 1. */
export class CliError extends Error {
  override readonly name = 'CliError'
}

/** @internal stdout was closed by its reader: stop without a message. */
export class OutputClosed extends Error {
  override readonly name = 'OutputClosed'
}

/** @internal A usage mistake found after parsing (a flag combination): exit code 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError'
}

/**
 * @internal `message` on one line, without a `tracellm:` prefix of its own, with every URL's password
 * masked and each of `secrets` (the passwords of the `--db` URL) replaced by `***`.
 */
export function oneLine(message: string, secrets: ReadonlyArray<string>): string {
  let text = maskSecrets(message).replace(/^tracellm:\s*/, '')
  for (const secret of secrets) if (secret.length >= 3) text = text.split(secret).join('***')
  return text.replace(/\s*\n\s*/g, ' ').trim()
}

/** @internal `null`, `an array`, `a string`, `an object`: what a value is, for an error message. */
export function kindOf(value: unknown): string {
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'an array'
  const type = typeof value
  return /^[aeiou]/.test(type) ? `an ${type}` : `a ${type}`
}

/** @internal The message of anything thrown. */
export function messageOf(error: unknown): string {
  try {
    if (error instanceof Error) return error.message || error.name
    return String(error)
  } catch {
    return 'unknown error'
  }
}
