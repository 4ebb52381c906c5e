import { describe, expect, it } from '@jest/globals'
import {
  abbreviate,
  displayWidth,
  formatDuration,
  formatLocalTime,
  formatTokens,
  formatTokensInOut,
  maskSecrets,
  progressBar,
  truncate,
  wantsColors,
} from '../../src/cli/format.js'
import { renderList, renderShow, renderStats, renderTable, waterfallBar } from '../../src/cli/render.js'
import type { StoreStats, TraceId, TraceSummary } from '../../src/index.js'
import { plain } from '../../src/serialization/terminal.js'
import { makeDocument, makeStep, stepIdOf } from '../helpers/documents.js'
import { at, ragDocument, timedStep } from '../fixtures/cli-documents.js'

// eslint-disable-next-line no-control-regex
const ANSI = /\u001b\[/

function summary(overrides: Partial<{ -readonly [K in keyof TraceSummary]: TraceSummary[K] }> = {}): TraceSummary {
  return {
    traceId: 'a1b2c3d4e5f60718293a4b5c6d7e8f90' as TraceId,
    rootSpanId: null,
    parentStepId: null,
    replayOf: null,
    costUsd: null,
    project: 'rag-service',
    environment: 'production',
    prompt: 'answer_question',
    modelName: 'fake-llm-1',
    status: 'success',
    startedAt: '2026-11-24T10:00:00.000Z',
    endedAt: '2026-11-24T10:00:00.100Z',
    durationMs: 100,
    retryCount: 0,
    stepCount: 4,
    errorCount: 0,
    inputTokens: 120,
    outputTokens: 48,
    tags: [],
    inputPreview: null,
    outputPreview: null,
    errorType: null,
    errorMessage: null,
    ...overrides,
  }
}

/** The step lines of `renderShow`'s tree, and the column where the waterfall starts. */
function waterfall(text: string): { readonly barStart: number; readonly barWidth: number; readonly line: (name: string) => string } {
  const lines = text.split('\n')
  const scale = lines.find((line) => line.startsWith('steps ('))
  if (scale === undefined) throw new Error('no scale line')
  const barStart = scale.indexOf(' 0 ') + 1
  return {
    barStart,
    barWidth: scale.length - barStart,
    line: (name) => {
      const found = lines.find((line) => new RegExp(`[├└]─ ${name}\\b`).test(line))
      if (found === undefined) throw new Error(`no line for ${name}`)
      return found
    },
  }
}

describe('waterfallBar', () => {
  it('starts a step that begins halfway through the trace at half the width', () => {
    expect(waterfallBar(50, 50, 100, 20)).toBe(`${' '.repeat(10)}${'█'.repeat(10)}`)
  })

  it('scales the bar by the step duration relative to the trace', () => {
    expect(waterfallBar(10, 20, 100, 20)).toBe(`${' '.repeat(2)}${'█'.repeat(4)}${' '.repeat(14)}`)
  })

  it('draws at least one column for an instant step', () => {
    expect(waterfallBar(100, 0, 100, 10)).toBe(`${' '.repeat(9)}█`)
  })

  it('clamps offsets outside the trace and non-finite values into the bar', () => {
    expect(waterfallBar(-5, 200, 100, 10)).toBe('█'.repeat(10))
    expect(waterfallBar(Number.NaN, Number.NaN, 0, 4)).toBe('█   ')
  })
})

describe('renderShow', () => {
  it('places each bar by the step start offset and sizes it by its duration', () => {
    const text = renderShow(ragDocument(), { columns: 100 })
    const { barStart, barWidth, line } = waterfall(text)

    const expected = (offset: number, duration: number): string => waterfallBar(offset, duration, 100, barWidth).trimEnd()
    expect(line('retrieve').slice(barStart)).toBe(expected(0, 40))
    expect(line('search').slice(barStart)).toBe(expected(10, 20))
    expect(line('fetch_citations').slice(barStart)).toBe(expected(40, 10))
    expect(line('generate').slice(barStart)).toBe(expected(50, 50))
    expect(line('generate').indexOf('█') - barStart).toBe(Math.floor(barWidth / 2))
  })

  it('fits the waterfall into the given terminal width', () => {
    for (const columns of [60, 100, 160]) {
      const lines = renderShow(ragDocument(), { columns }).split('\n')
      const widest = Math.max(...lines.map(displayWidth))
      expect(widest).toBeLessThanOrEqual(columns)
    }
  })

  it('nests steps under their parent step in seq order', () => {
    const lines = renderShow(ragDocument()).split('\n')
    const names = lines.filter((line) => /[├└]─ /.test(line)).map((line) => line.replace(/^([│ ]*[├└]─ \S+).*$/, '$1'))

    expect(names).toEqual(['├─ retrieve', '│  └─ search', '├─ fetch_citations', '└─ generate'])
  })

  it('prints the header: prompt, id, project and environment, start, duration, retries, tokens and model', () => {
    const text = renderShow(ragDocument())

    expect(text.split('\n')[0]).toBe('answer_question  ✗ error  100.0 ms')
    expect(text).toContain('  id        a1b2c3d4e5f60718293a4b5c6d7e8f90')
    expect(text).toContain('  project   rag-service / production')
    expect(text).toContain(`  started   ${formatLocalTime(at(0))}`)
    expect(text).toContain('  retries   ↻ 2')
    expect(text).toContain('  tokens    120 in / 48 out')
    expect(text).toContain('  model     fake-llm-1')
    expect(text).toContain('  error     ✗ RateLimitError: slow down')
  })

  it('marks retries with each failed attempt', () => {
    const text = renderShow(ragDocument())

    expect(text).toContain('↻ 2 retries (3 attempts)')
    expect(text).toContain('attempt 1: Error: citation service unavailable')
    expect(text).toContain('attempt 2: TimeoutError: timed out after 5 ms')
  })

  it('marks a failed step with ✗ and its error type and message', () => {
    const { line } = waterfall(renderShow(ragDocument()))

    expect(line('generate')).toMatch(/generate\s+llm\s+✗\s+50\.0 ms/)
    expect(renderShow(ragDocument())).toMatch(/\n {6}✗ RateLimitError: slow down/)
  })

  it('abbreviates inputs and outputs to one line of JSON each', () => {
    const lines = renderShow(ragDocument()).split('\n')
    const generateInput = lines.find((line) => line.includes('in   ["What is RAG?","xxx'))

    expect(lines).toContain('│  │  in   ["What is RAG?"]')
    expect(lines).toContain('│  │  out  [{"id":"doc-1"},{"id":"doc-4"}]')
    expect(generateInput).toMatch(/x…$/)
    expect(displayWidth(generateInput?.replace(/^.*in {3}/, '') ?? '')).toBe(80)
  })

  it('prints inputs and outputs whole as indented JSON with full', () => {
    const text = renderShow(ragDocument(), { full: true })

    expect(text).toContain('x'.repeat(500))
    expect(text).toContain('│  │  out  [\n│  │         {\n│  │           "id": "doc-1"')
  })

  it('prints no ANSI codes without colors', () => {
    expect(renderShow(ragDocument(), { colors: false })).not.toMatch(ANSI)
  })

  it('colours the marks and bars with colors', () => {
    const text = renderShow(ragDocument(), { colors: true })

    expect(text).toContain('\u001b[31m✗\u001b[39m')
    expect(text).toContain('\u001b[32m✓\u001b[39m')
  })

  it('never lets escape sequences from trace data reach the terminal', () => {
    const doc = makeDocument({
      prompt: 'evil\u001b]0;pwned\u0007',
      steps: [makeStep({ name: 'tool\u001b[2J', input: ['\u009b31m'], error: { type: 'E\u001b[1m', message: 'line\nbreak' }, status: 'error' })],
    })

    const text = renderShow(doc)
    expect(text).not.toMatch(/[\u001b\u0007\u009b]/)
    expect(text).toContain('E\uFFFD[1m: line break')
  })

  it('shows a step whose parent is missing at the top level', () => {
    const doc = makeDocument({ steps: [timedStep(0, 1, { stepId: stepIdOf(5), parentStepId: stepIdOf(99), name: 'orphan' })] })

    expect(renderShow(doc)).toContain('└─ orphan')
  })

  it('says so when the trace has no steps', () => {
    expect(renderShow(makeDocument({ steps: [] }))).toContain('(no steps)')
  })
})

describe('abbreviate', () => {
  it('prints a value as compact JSON', () => {
    expect(abbreviate({ answer: 'RAG', sources: [1, 2] })).toBe('{"answer":"RAG","sources":[1,2]}')
  })

  it('cuts long values to the width with an ellipsis', () => {
    const text = abbreviate(['a'.repeat(200)], 20)

    expect(text).toBe(`["${'a'.repeat(17)}…`)
    expect(displayWidth(text)).toBe(20)
  })

  it('keeps the value on one line', () => {
    expect(abbreviate('two\nlines\u2028here')).toBe('"two\\nlines\uFFFDhere"')
  })

  it('counts wide characters as two columns when cutting', () => {
    expect(truncate('東京東京東京', 5)).toBe('東京…')
  })
})

describe('renderList', () => {
  it('prints a header and one aligned row per trace', () => {
    const lines = renderList([summary(), summary({ traceId: 'ffff0000eeee1111dddd2222cccc3333' as TraceId, prompt: 'p', status: 'error', retryCount: 2, inputTokens: 0, outputTokens: 0, durationMs: 1500 })]).split('\n')

    expect(lines[0]).toMatch(/^time {17}id {8}prompt {11}status {5}duration {2}steps {2}retries {2}tokens$/)
    expect(lines[1]).toBe(`${formatLocalTime('2026-11-24T10:00:00.000Z')}  a1b2c3d4  answer_question  ✓ success  100.0 ms      4        0  120+48`)
    expect(lines[2]).toBe(`${formatLocalTime('2026-11-24T10:00:00.000Z')}  ffff0000  p                ✗ error      1.50 s      4        2       -`)
  })

  it('prints no ANSI codes without colors and colours the status with colors', () => {
    expect(renderList([summary()])).not.toMatch(ANSI)
    expect(renderList([summary()], { colors: true })).toContain('\u001b[32m✓ success')
  })
})

describe('renderTable', () => {
  it('right-aligns numeric columns and leaves no trailing spaces', () => {
    const text = renderTable([{ header: 'name' }, { header: 'n', align: 'right' }], [['a', '1'], ['bbb', '22']], plain)

    expect(text).toBe('name   n\na      1\nbbb   22')
  })
})

describe('renderStats', () => {
  it('prints the totals and the traces per project', () => {
    const stats: StoreStats = {
      traces: 1200, steps: 8400, errors: 12, oldest: '2026-11-20T08:00:00.000Z', newest: '2026-11-24T10:00:00.000Z',
      retries: 30, inputTokens: 5000, outputTokens: 1500, costUsd: 0, projects: [{ project: 'rag-service', traces: 1000 }, { project: 'default', traces: 200 }],
    }

    const lines = renderStats(stats).split('\n')
    expect(lines).toEqual([
      'traces   1,200',
      'steps    8,400',
      'errors   12  (1.0% of traces)',
      'retries  30',
      'tokens   5,000 in / 1,500 out',
      `oldest   ${formatLocalTime('2026-11-20T08:00:00.000Z')}`,
      `newest   ${formatLocalTime('2026-11-24T10:00:00.000Z')}`,
      'projects',
      '  rag-service  1,000',
      '  default      200',
    ])
  })
})

describe('progressBar', () => {
  it('redraws one line in place and ends it on finish', () => {
    let text = ''
    const bar = progressBar({ write: (chunk: string) => { text += chunk } }, 200, 'export')

    bar.update(50)
    bar.update(200)
    bar.finish()
    bar.finish()

    expect(text).toBe(`\rexport [${'█'.repeat(6)}${'·'.repeat(18)}] 50/200 25%\u001b[K\rexport [${'█'.repeat(24)}] 200/200 100%\u001b[K\n`)
  })

  it('does not redraw when nothing visible changed', () => {
    const writes: string[] = []
    const bar = progressBar({ write: (chunk: string) => { writes.push(chunk) } }, 1000, 'prune')

    bar.update(1)
    bar.update(1)

    expect(writes).toHaveLength(1)
  })
})

describe('formatDuration', () => {
  it('uses ms below a second, then seconds, minutes and hours', () => {
    expect([0.42, 12.34, 1234, 123_000, 7_380_000].map(formatDuration)).toEqual(['0.4 ms', '12.3 ms', '1.23 s', '2m 03s', '2h 03m'])
  })
})

describe('formatLocalTime', () => {
  it('prints a local YYYY-MM-DD HH:MM:SS', () => {
    expect(formatLocalTime(new Date(2026, 10, 4, 9, 5, 7).toISOString())).toBe('2026-11-04 09:05:07')
  })
})

describe('formatTokens', () => {
  it('prints in+out, or - when there were none', () => {
    expect([formatTokens(1200, 34), formatTokens(0, 0)]).toEqual(['1,200+34', '-'])
  })
})

describe('formatTokensInOut', () => {
  it('prints in / out, or - when there were none, as formatTokens does', () => {
    expect([formatTokensInOut(1200, 34), formatTokensInOut(0, 5), formatTokensInOut(0, 0)]).toEqual(['1,200 in / 34 out', '0 in / 5 out', '-'])
  })
})

describe('maskSecrets', () => {
  it('masks the password of a connection URL', () => {
    expect(maskSecrets('connect ECONNREFUSED postgres://app:s3cr3t@db.internal:5432/traces')).toBe('connect ECONNREFUSED postgres://app:***@db.internal:5432/traces')
  })

  it('leaves URLs without a password alone', () => {
    expect(maskSecrets('postgres://app@db/traces and /tmp/a:b@c')).toBe('postgres://app@db/traces and /tmp/a:b@c')
  })
})

describe('wantsColors', () => {
  it('colours a TTY unless NO_COLOR is set', () => {
    expect([wantsColors(true, {}), wantsColors(true, { NO_COLOR: '1' }), wantsColors(false, {}), wantsColors(undefined, {}), wantsColors(true, { NO_COLOR: '' })]).toEqual([true, false, false, false, true])
  })
})
