/**
 * Text and colour for a terminal, shared by everything that prints traces (the console sink,
 * `renderDiff`, the `tracellm` command). Text from a trace is attacker-controlled (LLM output, user
 * input), so it is put on one line with every character that could act on the terminal replaced, and
 * colours are added only by a `Paint`, only when asked.
 */

/** @internal ANSI styling, or none. */
export interface Paint {
  readonly bold: (text: string) => string
  readonly dim: (text: string) => string
  readonly red: (text: string) => string
  readonly green: (text: string) => string
  readonly yellow: (text: string) => string
  readonly cyan: (text: string) => string
}

const same = (text: string): string => text

/** @internal No styling. */
export const plain: Paint = { bold: same, dim: same, red: same, green: same, yellow: same, cyan: same }

/** @internal ANSI SGR styling, each reset to the default after its text. */
export const ansi: Paint = {
  bold: (text) => `\u001b[1m${text}\u001b[22m`,
  dim: (text) => `\u001b[2m${text}\u001b[22m`,
  red: (text) => `\u001b[31m${text}\u001b[39m`,
  green: (text) => `\u001b[32m${text}\u001b[39m`,
  yellow: (text) => `\u001b[33m${text}\u001b[39m`,
  cyan: (text) => `\u001b[36m${text}\u001b[39m`,
}

/**
 * @internal Text from a trace on one line: tabs and newlines become spaces; every other control
 * character (C0, DEL, C1 such as the 8-bit CSI), the Unicode line separators and the bidirectional
 * overrides and isolates (which would reorder what the terminal shows) become U+FFFD. Not cut: each
 * caller caps the length its layout allows.
 */
export function oneLine(text: string): string {
  // eslint-disable-next-line no-control-regex
  return String(text).replace(/[\t\n\r\f\v]+/g, ' ').replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g, '\uFFFD')
}

/**
 * @internal JSON text that is safe on a terminal and still parses to the same value: the characters
 * JSON allows raw inside strings but a terminal may act on (DEL and the C1 controls such as U+009B, the
 * 8-bit CSI; the line and paragraph separators U+2028/U+2029; the bidirectional marks, overrides and
 * isolates) are written as `\u009b` escapes (docs/reliability.md#files-exports-and-disk-space). C0
 * controls are escaped by `JSON.stringify` already. Such characters can only occur inside JSON strings,
 * so escaping them never changes the structure.
 */
export function terminalSafeJson(json: string): string {
  return json.replace(/[\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g, (char) => '\\u' + char.charCodeAt(0).toString(16).padStart(4, '0'))
}
