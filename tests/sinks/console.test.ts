import { describe, expect, it } from '@jest/globals'
import type { TraceDocument } from '../../src/document/document.js'
import { consoleSink, renderTree } from '../../src/sinks/console.js'
import { makeDocument, makeStep, stepIdOf, traceIdOf } from '../helpers/documents.js'

// eslint-disable-next-line no-control-regex
const ANSI = /\u001b\[[0-9;]*m/

/** A tree: retrieve > (rerank, fetch > parse), then generate (llm, failed after retries). */
function treeDocument(): TraceDocument {
  return makeDocument({
    traceId: traceIdOf(0xabcdef12),
    prompt: 'answer_question',
    durationMs: 12.34,
    steps: [
      makeStep({ stepId: stepIdOf(1), parentStepId: null, seq: 0, name: 'retrieve', kind: 'retriever', durationMs: 5.25 }),
      makeStep({ stepId: stepIdOf(2), parentStepId: stepIdOf(1), seq: 1, name: 'rerank', durationMs: 1 }),
      makeStep({ stepId: stepIdOf(3), parentStepId: stepIdOf(1), seq: 2, name: 'fetch', durationMs: 2 }),
      makeStep({ stepId: stepIdOf(4), parentStepId: stepIdOf(3), seq: 3, name: 'parse', durationMs: 0.04 }),
      makeStep({
        stepId: stepIdOf(5), parentStepId: null, seq: 4, name: 'generate', kind: 'llm', durationMs: 6,
        status: 'error', error: { type: 'TimeoutError', message: 'model timed out' }, attempts: 3, retries: 2,
      }),
    ],
  })
}

function indentOf(line: string): number {
  return line.search(/[^ │├└─]/)
}

describe('renderTree', () => {
  it('starts with a header: prompt, status, duration and the short trace id', () => {
    const [header] = renderTree(treeDocument(), { colors: false }).split('\n')

    expect(header).toBe(`answer_question  ✓ success  12.3 ms  (${traceIdOf(0xabcdef12).slice(0, 8)})`)
  })

  it('nests steps under their parent, ordered by seq', () => {
    const lines = renderTree(treeDocument(), { colors: false }).split('\n').slice(1)

    expect(lines).toEqual([
      '├─ retrieve  retriever  5.3 ms  ✓',
      '│  ├─ rerank  1.0 ms  ✓',
      '│  └─ fetch  2.0 ms  ✓',
      '│     └─ parse  0.0 ms  ✓',
      '└─ generate  llm  6.0 ms  ✗ TimeoutError: model timed out  retries 2',
    ])
    const depth = (name: string): number => indentOf(lines.find((line) => line.includes(` ${name} `)) ?? '')
    expect(depth('rerank')).toBeGreaterThan(depth('retrieve'))
    expect(depth('parse')).toBeGreaterThan(depth('fetch'))
    expect(depth('generate')).toBe(depth('retrieve'))
  })

  it('orders by seq even when the steps array is not', () => {
    const doc = treeDocument()
    const shuffled = makeDocument({ ...doc, steps: [...doc.steps].reverse() })

    expect(renderTree(shuffled, { colors: false })).toBe(renderTree(doc, { colors: false }))
  })

  it('marks retries only when there were some', () => {
    const lines = renderTree(treeDocument(), { colors: false }).split('\n')

    expect(lines.filter((line) => line.includes('retries'))).toEqual([expect.stringContaining('generate')])
    expect(lines.find((line) => line.includes('generate'))).toMatch(/retries 2$/)
  })

  it('marks a failed step with ✗ and its error, and a successful one with ✓', () => {
    const lines = renderTree(treeDocument(), { colors: false }).split('\n')

    expect(lines.find((line) => line.includes('generate'))).toContain('✗ TimeoutError: model timed out')
    expect(lines.find((line) => line.includes('rerank'))).toContain('✓')
    expect(lines.find((line) => line.includes('rerank'))).not.toContain('✗')
  })

  it('shows the kind unless it is "tool", and the model when there is one', () => {
    const doc = makeDocument({ steps: [makeStep({ name: 'chat', kind: 'llm', model: 'gpt-4o' })] })

    expect(renderTree(doc, { colors: false }).split('\n')[1]).toBe('└─ chat  llm gpt-4o  3.2 ms  ✓')
    expect(renderTree(makeDocument(), { colors: false }).split('\n')[1]).toBe('└─ search  3.2 ms  ✓')
  })

  it('shows a failed trace in the header with its error', () => {
    const doc = makeDocument({ status: 'error', error: { type: 'Error', message: 'boom' } })

    expect(renderTree(doc, { colors: false }).split('\n')[0]).toContain('✗ error Error: boom')
  })

  it('renders a trace without steps as the header alone', () => {
    expect(renderTree(makeDocument({ steps: [] }), { colors: false }).split('\n')).toHaveLength(1)
  })

  it('uses no ANSI codes with colors: false (and by default)', () => {
    expect(renderTree(treeDocument(), { colors: false })).not.toMatch(ANSI)
    expect(renderTree(treeDocument())).not.toMatch(ANSI)
  })

  it('uses ANSI colours with colors: true, around the same text', () => {
    const colored = renderTree(treeDocument(), { colors: true })

    expect(colored).toMatch(ANSI)
    expect(colored).toContain('\u001b[31m')   // red for the failure
    expect(colored).toContain('\u001b[32m')   // green for success
    // eslint-disable-next-line no-control-regex
    expect(colored.replace(/\u001b\[[0-9;]*m/g, '')).toBe(renderTree(treeDocument(), { colors: false }))
  })

  it('replaces control characters from trace data, so no escape sequence reaches the terminal', () => {
    const doc = makeDocument({
      prompt: 'evil\u001b[2J\u001b]0;title\u0007',
      steps: [makeStep({ name: 'multi\nline\tname', status: 'error', error: { type: 'Error', message: 'line1\nline2\u001b[31m' } })],
    })

    const text = renderTree(doc, { colors: false })

    expect(text).not.toMatch(ANSI)
    // eslint-disable-next-line no-control-regex
    expect(text.replace(/\n/g, '')).not.toMatch(/[\u0000-\u001f\u007f-\u009f]/)
    expect(text.split('\n')).toHaveLength(2)
    expect(text).toContain('multi line name')
  })

  it('shows steps whose parent is missing at the top level', () => {
    const doc = makeDocument({ steps: [makeStep({ name: 'lost', parentStepId: stepIdOf(99) })] })

    expect(renderTree(doc, { colors: false }).split('\n')[1]).toBe('└─ lost  3.2 ms  ✓')
  })

  it('shows every step once when parents form a cycle', () => {
    const doc = makeDocument({
      steps: [
        makeStep({ stepId: stepIdOf(1), parentStepId: stepIdOf(2), seq: 0, name: 'a' }),
        makeStep({ stepId: stepIdOf(2), parentStepId: stepIdOf(1), seq: 1, name: 'b' }),
      ],
    })

    const lines = renderTree(doc, { colors: false }).split('\n').slice(1)

    expect(lines).toEqual(['└─ a  3.2 ms  ✓', '   └─ b  3.2 ms  ✓'])
  })

  it('handles a chain of 5 000 nested steps without recursion, with bounded indentation', () => {
    const steps = Array.from({ length: 5000 }, (_, index) =>
      makeStep({ stepId: stepIdOf(index + 1), parentStepId: index === 0 ? null : stepIdOf(index), seq: index, name: `s${index}` }))

    const lines = renderTree(makeDocument({ steps }), { colors: false }).split('\n')

    expect(lines).toHaveLength(5001)
    expect(Math.max(...lines.map((line) => line.length))).toBeLessThan(200)
  })

  it('caps very long text', () => {
    const doc = makeDocument({ steps: [makeStep({ status: 'error', error: { type: 'Error', message: 'x'.repeat(10_000) } })] })

    expect(renderTree(doc, { colors: false }).length).toBeLessThan(400)
  })
})

describe('consoleSink', () => {
  function fakeStream(isTTY?: boolean): { chunks: string[]; stream: NodeJS.WritableStream } {
    const chunks: string[] = []
    const stream = { isTTY, write: (chunk: string) => { chunks.push(chunk); return true } } as unknown as NodeJS.WritableStream
    return { chunks, stream }
  }

  it('prints each trace of a batch as a tree, followed by a newline', () => {
    const { chunks, stream } = fakeStream()
    const docs = [treeDocument(), makeDocument()]

    consoleSink({ stream, colors: false }).write(Object.freeze(docs))

    expect(chunks.join('')).toBe(docs.map((doc) => `${renderTree(doc, { colors: false })}\n`).join(''))
  })

  it('prints nothing for an empty batch', () => {
    const { chunks, stream } = fakeStream()

    consoleSink({ stream }).write(Object.freeze([]))

    expect(chunks).toEqual([])
  })

  it('uses colours by default only on a TTY', () => {
    const tty = fakeStream(true)
    const pipe = fakeStream(false)
    const saved = process.env.NO_COLOR
    delete process.env.NO_COLOR
    try {
      consoleSink({ stream: tty.stream }).write(Object.freeze([treeDocument()]))
      consoleSink({ stream: pipe.stream }).write(Object.freeze([treeDocument()]))
    } finally {
      if (saved !== undefined) process.env.NO_COLOR = saved
    }

    expect(tty.chunks.join('')).toMatch(ANSI)
    expect(pipe.chunks.join('')).not.toMatch(ANSI)
  })

  it('uses no colours by default when NO_COLOR is set, but obeys colors: true', () => {
    const tty = fakeStream(true)
    const forced = fakeStream(false)
    const saved = process.env.NO_COLOR
    process.env.NO_COLOR = '1'
    try {
      consoleSink({ stream: tty.stream }).write(Object.freeze([treeDocument()]))
      consoleSink({ stream: forced.stream, colors: true }).write(Object.freeze([treeDocument()]))
    } finally {
      if (saved === undefined) delete process.env.NO_COLOR
      else process.env.NO_COLOR = saved
    }

    expect(tty.chunks.join('')).not.toMatch(ANSI)
    expect(forced.chunks.join('')).toMatch(ANSI)
  })

  it('writes to process.stdout by default', () => {
    const sink = consoleSink()

    expect(sink.name).toBe('console')
  })

  it('throws a TypeError for a stream without write() or non-boolean colors', () => {
    expect(() => consoleSink({ stream: {} as NodeJS.WritableStream })).toThrow(TypeError)
    expect(() => consoleSink({ colors: 'yes' as unknown as boolean })).toThrow(TypeError)
  })
})
