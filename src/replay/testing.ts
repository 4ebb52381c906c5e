/**
 * A regression-test helper: replay a recorded trace against today's code and fail with a readable
 * diff when anything changed.
 */
import type { AnyFunction } from '../combinators/options.js'
import type { TraceDocument } from '../document/document.js'
import { renderDiff } from './diff.js'
import { replay, type ReplayOptions, type ReplayResult } from './replay.js'

/**
 * Replays `doc` through `fn` (see `replay()`) and resolves with the result when the replay matches
 * the record: no mismatched call, no recorded call left unused, the same status, and every step's
 * output and status the same (durations are not compared). Otherwise it rejects with an `Error`
 * whose message lists the mismatches and the rendered step diff, which any test runner prints.
 * Use it over a folder of exported traces (`tracellm export --format jsonl`) in jest, vitest or
 * node:test.
 *
 * @example
 * import { expectReplayToMatch, fromWire, trace, traceTool } from 'tracellm'
 * const search = traceTool({ name: 'search' })(async (q: string) => [q])
 * const answer = trace({ prompt: 'answer' })(async (q: string) => (await search(q)).length)
 * export async function check(line: string): Promise<void> {
 *   await expectReplayToMatch(fromWire(JSON.parse(line)), answer)
 * }
 *
 * @category replay
 * @since 0.1.0
 */
export async function expectReplayToMatch<F extends AnyFunction>(doc: TraceDocument, fn: F, options: ReplayOptions<Parameters<F>> = {}): Promise<ReplayResult<Awaited<ReturnType<F>>>> {
  const result = await replay(doc, fn, options)
  const problems: string[] = []
  for (const mismatch of result.mismatches) problems.push(mismatch.message)
  for (const call of result.unused) problems.push(`Recorded call #${call.position + 1} of ${call.name} was never made.`)
  if (result.doc.status !== doc.status) problems.push(`The trace ended with status "${result.doc.status}", recorded "${doc.status}".`)
  if (!result.diff.equal) problems.push('The steps differ from the record:\n' + renderDiff(result.diff, { colors: false }))
  if (problems.length > 0) {
    throw new Error(`Replay of trace ${doc.traceId} (${doc.prompt}) does not match the record:\n- ${problems.join('\n- ')}`)
  }
  return result
}
