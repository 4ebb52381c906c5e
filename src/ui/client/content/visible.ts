// Control and bidi characters made visible (docs/ui.md#content-rendering): every text the viewer shows
// from a trace goes through `visibleSegments`, so a U+202E cannot reorder what the reader sees and a
// NUL or an escape sequence is a symbol, not an invisible effect. Pure: no DOM.

/** A run of text: `special` runs replace one invisible character with what `symbol` names. */
export interface Segment {
  readonly text: string
  /** For a made-visible character: its code point as `U+XXXX` (and name), for a tooltip. */
  readonly special?: string
}

const BIDI_NAMES: Readonly<Record<number, string>> = {
  0x061c: 'ALM', 0x200e: 'LRM', 0x200f: 'RLM', 0x202a: 'LRE', 0x202b: 'RLE', 0x202c: 'PDF', 0x202d: 'LRO', 0x202e: 'RLO',
  0x2066: 'LRI', 0x2067: 'RLI', 0x2068: 'FSI', 0x2069: 'PDI',
}

/** C0 except tab and newline, DEL, C1, and the bidi controls (embeddings, overrides, isolates, marks). */
export const INVISIBLE = /[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g

/** `U+001B`-style code point of a character. */
export const codePoint = (char: string): string => `U+${char.charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}`

/**
 * The symbol a character is shown as: C0 controls as their Control Pictures (`␀`, `␛`, DEL `␡`),
 * C1 controls and bidi controls as `⟨U+202E⟩`.
 */
export function symbolOf(char: string): string {
  const code = char.charCodeAt(0)
  if (code < 0x20) return String.fromCharCode(0x2400 + code)
  if (code === 0x7f) return '\u2421'
  return `⟨${codePoint(char)}⟩`
}

/** Splits `text` into plain runs and one segment per invisible character, in order. */
export function visibleSegments(text: string): Segment[] {
  const out: Segment[] = []
  let last = 0
  INVISIBLE.lastIndex = 0
  for (let match = INVISIBLE.exec(text); match !== null; match = INVISIBLE.exec(text)) {
    if (match.index > last) out.push({ text: text.slice(last, match.index) })
    const char = match[0]
    const name = BIDI_NAMES[char.charCodeAt(0)]
    out.push({ text: symbolOf(char), special: name === undefined ? codePoint(char) : `${codePoint(char)} ${name}` })
    last = match.index + char.length
  }
  if (last < text.length || out.length === 0) out.push({ text: text.slice(last) })
  return out
}

/** `text` with every invisible character replaced by its symbol (for titles and one-line previews). */
export const visibleText = (text: string): string => text.replace(INVISIBLE, symbolOf)

/** Whether `text` holds a character `visibleSegments` would replace. */
export const hasInvisible = (text: string): boolean => {
  INVISIBLE.lastIndex = 0
  const found = INVISIBLE.test(text)
  INVISIBLE.lastIndex = 0
  return found
}
