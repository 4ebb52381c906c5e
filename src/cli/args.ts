/**
 * The arguments of the `tracellm` commands: commander's parsers for flag values (each rejects a bad
 * value with an `InvalidArgumentError`, which commander reports as a usage error), the filters `list`
 * and `export` share, and the limits they check against.
 */
import { InvalidArgumentError, Option, type Command } from 'commander'
import type { JsonValue, ListQuery } from '../index.js'
import { kindOf, messageOf, UsageError } from './errors.js'

/** @internal The store when neither `--db` nor `TRACELLM_DB` names one. */
export const DEFAULT_DB = '.tracellm/traces.db'
/** @internal The page size of `list`. */
export const DEFAULT_LIMIT = 20
/** @internal The largest page `list` asks for. */
export const MAX_LIMIT = 500

/** @internal The filters of `list` and `export`, as commander parses them. */
export interface FilterOptions {
  readonly project?: string
  readonly env?: string
  readonly environment?: string
  readonly prompt?: string
  readonly status?: 'success' | 'error'
  readonly model?: string
  readonly since?: string
  readonly until?: string
  readonly search?: string
}

/** @internal The filters `list` and `export` share; they map one to one onto `ListQuery`. */
export function addFilters(command: Command): Command {
  return command
    .option('--project <name>', 'only this project')
    .option('--env <name>', 'only this environment')
    .addOption(new Option('--environment <name>', 'only this environment').hideHelp())
    .option('--prompt <name>', "only traces with this prompt (the trace's name)")
    .addOption(new Option('--status <status>', 'only successful or failed traces').choices(['success', 'error']))
    .option('--model <name>', 'only traces of this model')
    .addOption(new Option('--since <when>', 'started at or after: a duration such as 7d, 12h, 30m (that long ago) or an ISO date').argParser(parseWhen))
    .addOption(new Option('--until <when>', 'started before: a duration or an ISO date').argParser(parseWhen))
    .option('--search <text>', 'case-insensitive text anywhere in the trace (prompt, inputs, outputs, errors, metadata)')
}

/** @internal The filters given, as a `ListQuery`. */
export function toFilters(options: FilterOptions): ListQuery {
  const environment = options.environment ?? options.env
  return {
    ...(options.project === undefined ? {} : { project: options.project }),
    ...(environment === undefined ? {} : { environment }),
    ...(options.prompt === undefined ? {} : { prompt: options.prompt }),
    ...(options.status === undefined ? {} : { status: options.status }),
    ...(options.model === undefined ? {} : { modelName: options.model }),
    ...(options.since === undefined ? {} : { since: options.since }),
    ...(options.until === undefined ? {} : { until: options.until }),
    ...(options.search === undefined || options.search === '' ? {} : { text: options.search }),
  }
}

// --- flags ---

const DURATION = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)$/
const ISO_DATE = /^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})?)?$/
const UNIT_MS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 }

/** @internal `7d` (that long ago) or an ISO date → an ISO instant, fixed when the command line is read. */
export function parseWhen(value: string): string {
  const text = value.trim()
  const duration = DURATION.exec(text)
  if (duration !== null) return new Date(Date.now() - Number(duration[1]) * (UNIT_MS[duration[2] as string] as number)).toISOString()
  const date = new Date(text)
  if (ISO_DATE.test(text) && !Number.isNaN(date.getTime())) return date.toISOString()
  throw new InvalidArgumentError('Expected a duration such as 30m, 12h, 7d or 2w, or an ISO date such as 2026-11-24 or 2026-11-24T10:00:00Z.')
}

/** @internal A TCP port, 0 to 65535. */
export function parsePort(value: string): number {
  const n = Number(value)
  if (!/^\d+$/.test(value.trim()) || !Number.isInteger(n) || n > 65_535) throw new InvalidArgumentError('Expected a port number from 0 to 65535 (0 picks a free one).')
  return n
}

/** @internal A page size, 1 to `MAX_LIMIT`. */
export function parseLimit(value: string): number {
  const n = Number(value)
  if (!/^\d+$/.test(value.trim()) || !Number.isInteger(n) || n < 1 || n > MAX_LIMIT) {
    throw new InvalidArgumentError(`Expected an integer from 1 to ${MAX_LIMIT}.`)
  }
  return n
}

/** @internal `a,b, c` → `['a', 'b', 'c']`. */
export function parseNames(value: string): string[] {
  const names = value.split(',').map((name) => name.trim()).filter((name) => name !== '')
  if (names.length === 0) throw new InvalidArgumentError('Expected one or more names, comma-separated.')
  return names
}

/** @internal A JSON array of arguments (`replay --args`). */
export function parseArgsJson(value: string): JsonValue[] {
  let parsed: unknown
  try {
    parsed = JSON.parse(value)
  } catch (error) {
    throw new InvalidArgumentError(`Expected a JSON array of arguments, such as '["What is RAG?"]': ${messageOf(error)}.`)
  }
  if (!Array.isArray(parsed)) throw new InvalidArgumentError(`Expected a JSON array of arguments, such as '["What is RAG?"]', got ${kindOf(parsed)}.`)
  return parsed as JsonValue[]
}

/** @internal A factor of at least 1 (`diff --duration-ratio`). */
export function parseRatio(value: string): number {
  const n = Number(value)
  if (value.trim() === '' || !Number.isFinite(n) || n < 1) throw new InvalidArgumentError('Expected a number of at least 1, such as 2 or 1.5.')
  return n
}

const IGNORABLE = ['duration', 'input', 'metadata'] as const

/** @internal The fields `diff --ignore` leaves out. */
export function parseIgnore(value: string): Array<(typeof IGNORABLE)[number]> {
  const names = parseNames(value)
  const wrong = names.filter((name) => !(IGNORABLE as ReadonlyArray<string>).includes(name))
  if (wrong.length > 0) throw new InvalidArgumentError(`Expected a comma-separated list of ${IGNORABLE.join(', ')}.`)
  return names as Array<(typeof IGNORABLE)[number]>
}

/** @internal A trace id argument: `parseIdValue`, reported by commander. */
export function parseId(value: string): string {
  try {
    return parseIdValue(value)
  } catch (error) {
    throw new InvalidArgumentError(messageOf(error))
  }
}

/** @internal A full trace id or a prefix of at least 4 hex characters, lower-cased; else a `UsageError`. */
export function parseIdValue(value: string): string {
  const id = value.trim().toLowerCase()
  if (!/^[0-9a-f]{4,32}$/.test(id)) {
    throw new UsageError(`expected a trace id (32 hex characters) or a unique prefix of at least 4, got ${JSON.stringify(value.slice(0, 40))}`)
  }
  return id
}
