import { describe, expect, it } from '@jest/globals'
import { renderShow } from '../../src/cli/render.js'
import { renderTree } from '../../src/sinks/console.js'
import { ansi, oneLine, plain } from '../../src/serialization/terminal.js'
import { makeDocument, makeStep } from '../helpers/documents.js'

// right-to-left override, pop, left-to-right isolate, pop isolate: "Trojan source" reordering
const BIDI = ['\u202e', '\u202c', '\u2066', '\u2069']

describe('oneLine', () => {
  it('puts text on one line and replaces what acts on a terminal, bidirectional controls included', () => {
    expect(oneLine('a\tb\r\nc')).toBe('a b c')
    expect(oneLine('\u001b[2J\u0007\u009b31m\u2028')).toBe('\uFFFD[2J\uFFFD\uFFFD31m\uFFFD')
    expect(oneLine(`safe${BIDI.join('')}txt.exe`)).toBe('safe\uFFFD\uFFFD\uFFFD\uFFFDtxt.exe')
    expect(oneLine('résumé 東京 😀 مرحبا')).toBe('résumé 東京 😀 مرحبا')
  })
})

describe('the terminal views of a trace', () => {
  it('show no bidirectional control from trace data: console sink and tracellm show alike', () => {
    const doc = makeDocument({ prompt: `invoice${BIDI[0]}fdp.exe`, steps: [makeStep({ name: `tool${BIDI[2]}x${BIDI[3]}` })] })

    for (const text of [renderTree(doc, { colors: false }), renderShow(doc)]) {
      for (const control of BIDI) expect(text).not.toContain(control)
      expect(text).toContain('invoice\uFFFDfdp.exe')
    }
  })
})

describe('Paint', () => {
  it('styles with ANSI SGR codes reset after the text, or not at all', () => {
    expect(ansi.red('x')).toBe('\u001b[31mx\u001b[39m')
    expect(ansi.bold('x')).toBe('\u001b[1mx\u001b[22m')
    expect(Object.values(plain).map((paint) => paint('x'))).toEqual(['x', 'x', 'x', 'x', 'x', 'x'])
  })
})
