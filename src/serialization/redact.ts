// CONTRACT STUB — to be implemented (see helper brief). Signatures are fixed; core depends on them.
import type { JsonValue } from '../document/document.js'

/** What `configure({ redact })` accepts. @category serialization */
export interface RedactOptions {
  readonly keys?: ReadonlyArray<string | RegExp>
  readonly paths?: ReadonlyArray<string>
  readonly patterns?: ReadonlyArray<RegExp>
  readonly censor?: string
  readonly mask?: (value: JsonValue, path: string) => JsonValue
  readonly defaults?: boolean
}

/** A compiled redactor. Never throws: a failing rule or hook replaces the field (fail-closed). @category serialization */
export interface Redactor {
  /** Redacts a captured field; `root` names it for path rules ("input", "output", "metadata", "error"). */
  readonly value: (value: JsonValue, root: string) => JsonValue
  /** Masks credential-looking substrings in free text (names, messages, stacks). */
  readonly text: (text: string) => string
}

export const REDACTED = '[REDACTED]'

export function createRedactor(options: RedactOptions = {}): Redactor {
  void options
  return { value: (v) => v, text: (t) => t }
}
