/**
 * Secret redaction on captured values and free text (RELIABILITY §4): key-name rules, value patterns
 * (the LangSmith default list, ReDoS-safe), then the user's keys, paths, patterns and mask hook.
 * Runs on already-captured JSON data, never mutates it, returns the same reference when nothing
 * changed, and fails closed: if anything throws, the whole field is replaced.
 */
import type { JsonValue } from '../document/document.js'

/** What `configure({ redact })` accepts. @category serialization */
export interface RedactOptions {
  /** Extra key names (matched case-insensitively, ignoring `-`, `_`, `.` and spaces) or RegExps tested on the raw key. */
  readonly keys?: ReadonlyArray<string | RegExp>
  /** Dotted/bracket paths whose first segment is the field (`input[0].user.ssn`, `output.items[*].email`, `*.ssn`). */
  readonly paths?: ReadonlyArray<string>
  /** Extra RegExps: each match inside a string value or free text is replaced by the censor. */
  readonly patterns?: ReadonlyArray<RegExp>
  /** @default '[REDACTED]' */
  readonly censor?: string
  /** Called on every string leaf the rules left in place; returns its replacement (string, number, boolean or null). */
  readonly mask?: (value: JsonValue, path: string) => JsonValue
  /** The built-in key names and value patterns. @default true */
  readonly defaults?: boolean
}

/** A compiled redactor. Never throws: a failing rule or hook replaces the field (fail-closed). @category serialization */
export interface Redactor {
  /** Redacts a captured field; `root` names it for path rules ("input", "output", "metadata", "error"). */
  readonly value: (value: JsonValue, root: string) => JsonValue
  /** Masks credential-looking substrings in free text (names, messages, stacks). */
  readonly text: (text: string) => string
}

/** The default censor. @category serialization */
export const REDACTED = '[REDACTED]'
/** What a whole field becomes when a rule or the mask hook throws. @category serialization */
export const REDACTION_FAILED = '[REDACTED: redaction failed]'
/** What a value nested deeper than 64 levels becomes. @category serialization */
export const REDACTED_TOO_DEEP = '[REDACTED: too deep]'

/**
 * Whether a key name is a secret by the built-in rules: authorization, cookie, api key, secret,
 * password, private key, credential, session id, and token-like keys (`accessToken`, `x-auth-token`)
 * but not token counts (`max_tokens`, `input_tokens`, `tokenizer`, `token_count`).
 *
 * @example
 * import { isRedactedKey } from './redact.js'
 * isRedactedKey('x-api-key')    // => true
 * isRedactedKey('refreshToken') // => true
 * isRedactedKey('max_tokens')   // => false
 *
 * @category serialization
 * @since 0.1.0
 */
export function isRedactedKey(key: string): boolean {
  const n = normalizeKey(key)
  if (SECRET_KEY.test(n)) return true
  return n.endsWith('token') && !TOKEN_COUNT.test(n)
}

/**
 * Compiles redaction options into a redactor. Invalid options throw a `TypeError` here, at configure
 * time; the returned functions never throw.
 *
 * `value(v, root)` returns a redacted copy of a captured field (the same reference when nothing
 * matched): secret-named keys and `paths` become the censor whatever their value, credential-looking
 * substrings of strings are replaced (`sk-…`, `Bearer …`, `postgres://u:[REDACTED]@h`, JWTs, PEM keys…),
 * then `mask` sees each remaining string leaf. `text(s)` applies the value patterns to free text.
 *
 * @example
 * import { createRedactor } from './redact.js'
 * const redactor = createRedactor({ paths: ['input[0].ssn'] })
 * redactor.value([{ apiKey: 'abc', ssn: '123-45-6789', q: 'hi' }], 'input')
 * // => [{ apiKey: '[REDACTED]', ssn: '[REDACTED]', q: 'hi' }]
 * redactor.text('curl -H "Authorization: Bearer abc123def456"')
 * // => 'curl -H "Authorization: [REDACTED]"'
 *
 * @category serialization
 * @since 0.1.0
 */
const MEMO_CHARS = 2048
const MEMO_SIZE = 512

export function createRedactor(options: RedactOptions = {}): Redactor {
  const config = validate(options)
  const censor = config.censor
  const cache = new Map<string, boolean>()
  const userNames = new Set(config.keyNames.map(normalizeKey))
  const userKeyPatterns = config.keyPatterns
  const defaults = config.defaults
  const userPatterns = config.patterns
  const mask = config.mask
  const trie = config.trie

  const classify = (key: string): boolean => {
    if (defaults && isRedactedKey(key)) return true
    if (userNames.size > 0 && userNames.has(normalizeKey(key))) return true
    for (const re of userKeyPatterns) {
      re.lastIndex = 0
      if (re.test(key)) return true
    }
    return false
  }

  const isSecretKey = (key: string): boolean => {
    let hit = cache.get(key)
    if (hit === undefined) {
      hit = classify(key)
      if (key.length <= CACHED_KEY_CHARS) {
        if (cache.size >= CACHE_SIZE) cache.clear()
        cache.set(key, hit)
      }
    }
    return hit
  }

  const replaceUser = (): string => censor

  // Strings recur (a step's output is the next step's input; prompts repeat across calls), and
  // scanning costs more than a lookup: short results are remembered, in a bounded map.
  const memo = new Map<string, string>()

  const redactString = (s: string): string => {
    if (s.length <= MEMO_CHARS) {
      const known = memo.get(s)
      if (known !== undefined) return known
      const out = scanString(s)
      if (memo.size >= MEMO_SIZE) memo.clear()
      memo.set(s, out)
      return out
    }
    return scanString(s)
  }

  const scanString = (s: string): string => {
    let out = s.length > MAX_SCAN ? `${s.slice(0, MAX_SCAN)}...[truncated ${s.length - MAX_SCAN} chars]` : s
    if (defaults && out.length >= MIN_SECRET) out = replaceSecrets(out, censor, isSecretKey)
    for (const re of userPatterns) {
      re.lastIndex = 0
      if (re.test(out)) {
        re.lastIndex = 0
        out = out.replace(re, replaceUser)
      }
    }
    return out === s ? s : out
  }

  const leaf = (s: string, path: string): JsonValue => {
    const out = redactString(s)
    if (mask === undefined) return out
    const masked = mask(out, path)
    if (masked === out) return out
    if (typeof masked === 'string' || typeof masked === 'boolean' || masked === null) return masked
    if (typeof masked === 'number' && Number.isFinite(masked)) return masked
    throw new TypeError('mask returned a value that is not a string, finite number, boolean or null')
  }

  const walk = (v: JsonValue, depth: number, nodes: ReadonlyArray<PathNode> | undefined, path: string): JsonValue => {
    if (depth > MAX_DEPTH) return REDACTED_TOO_DEEP
    if (typeof v === 'string') return leaf(v, path)
    if (typeof v !== 'object' || v === null) return v
    if (Array.isArray(v)) return walkArray(v as ReadonlyArray<JsonValue>, depth, nodes, path)
    return walkObject(v as { readonly [key: string]: JsonValue }, depth, nodes, path)
  }

  const walkArray = (v: ReadonlyArray<JsonValue>, depth: number, nodes: ReadonlyArray<PathNode> | undefined, path: string): JsonValue => {
    let out: JsonValue[] | undefined
    for (let i = 0; i < v.length; i++) {
      const child = v[i] as JsonValue
      let next: ReadonlyArray<PathNode> | undefined
      let r: JsonValue
      if (nodes !== undefined && (next = step(nodes, String(i))) !== undefined && next.some(isEnd)) r = censor
      else r = walk(child, depth + 1, next, mask === undefined ? path : `${path}[${i}]`)
      if (out === undefined && r !== child) out = v.slice(0, i)
      if (out !== undefined) out.push(r)
    }
    return out ?? v
  }

  const walkObject = (v: { readonly [key: string]: JsonValue }, depth: number, nodes: ReadonlyArray<PathNode> | undefined, path: string): JsonValue => {
    let out: Record<string, JsonValue> | undefined
    let seen = 0
    for (const k in v) {
      if (!hasOwn.call(v, k)) continue
      const child = v[k] as JsonValue
      let r: JsonValue
      let next: ReadonlyArray<PathNode> | undefined
      if (isSecretKey(k)) r = censor
      else if (nodes !== undefined && (next = step(nodes, k)) !== undefined && next.some(isEnd)) r = censor
      else r = walk(child, depth + 1, next, mask === undefined ? path : childPath(path, k))
      if (out === undefined && r !== child) out = copyFirst(v, seen)
      if (out !== undefined) set(out, k, r)
      seen++
    }
    return out ?? v
  }

  const value = (v: JsonValue, root: string): JsonValue => {
    try {
      const nodes = trie === undefined ? undefined : step([trie], String(root))
      if (nodes !== undefined && nodes.some(isEnd)) return censor
      return walk(v, 0, nodes, String(root))
    } catch {
      return REDACTION_FAILED
    }
  }

  const text = (s: string): string => {
    if (typeof s !== 'string') return s
    try {
      return redactString(s)
    } catch {
      return REDACTION_FAILED
    }
  }

  return Object.freeze({ value, text })
}

// ---------------------------------------------------------------------------------------------------
// Key names

const MAX_DEPTH = 64
const CACHE_SIZE = 4096
const CACHED_KEY_CHARS = 128
/** Strings longer than this are cut before the patterns run (capture already caps them at 64 KiB by default). */
const MAX_SCAN = 1 << 20
/** No default pattern matches fewer characters (`://:p@`). */
const MIN_SECRET = 6

/** Lower case with separators removed: `X-Api-Key`, `api_key`, `apiKey` → `xapikey`, `apikey`. */
function normalizeKey(key: string): string {
  return key.toLowerCase().replace(NON_ALNUM, '')
}

const NON_ALNUM = /[^a-z0-9]/g
const SECRET_KEY = /authorization|apikey|secret|passw|pwd|passphrase|cookie|credential|privatekey|accesskey|sessionid/
/** `max_token`, `input_token`…: counts that end in "token" (plural forms never match the token rule). */
const TOKEN_COUNT = /^(?:max|min|num|total|input|output|prompt|completion|cached|reasoning|remaining|used|count)token$/

// ---------------------------------------------------------------------------------------------------
// Value patterns (the LangSmith DEFAULT_SECRET_RULES list and friends), compiled into one alternation.
//
// Speed: a regex scan pays for every position where some alternative may start, so each rule starts
// at its rarest character (`-` of `sk-…`, `J` of `eyJ…`, `=` of `NAME=value`) and checks what comes
// before it with a lookbehind; the replacement loop then widens the match by the `pre` group. Prose
// costs about 0.8 ns per character instead of about 3 for the naive alternation.
// Safety: every quantifier is bounded or followed by a character it cannot match, so the scan stays
// linear (no nested or adjacent ambiguous repeats); strings are capped before scanning.

interface Rule {
  readonly source: string
  /** The rule's capture groups, in order: `keep` (kept before the censor), `pre` (secret text before the match), `name` (checked by the key rules). */
  readonly groups: ReadonlyArray<'keep' | 'pre' | 'name'>
}

const HEADER = '(?:[Aa][Uu][Tt][Hh][Oo][Rr][Ii][Zz][Aa][Tt][Ii][Oo][Nn]|[Xx]-[Aa][Pp][Ii]-[Kk][Ee][Yy]|[Xx]-[Aa][Uu][Tt][Hh]-[Tt][Oo][Kk][Ee][Nn])'

const RULES: ReadonlyArray<Rule> = [
  // scheme://user:PASS@host → keep everything but the password.
  { source: String.raw`(:\/\/[^\s:@/?#]{0,256}:)[^\s@/?#]{1,512}(?=@)`, groups: ['keep'] },
  // "name": "value" inside JSON text (also with escaped quotes); the name goes through the key rules.
  { source: String.raw`(:(?<=\\?"([A-Za-z0-9_ .-]{1,128})\\?"[ \t]*:)[ \t]*\\?")[^"\\\r\n]{1,4096}(?=\\?")`, groups: ['keep', 'name'] },
  // Authorization / Proxy-Authorization / x-api-key / x-auth-token header lines: to the end of the line,
  // or to the closing quote when the header itself is quoted (`curl -H "x-api-key: …"`).
  { source: String.raw`(:(?<=["']${HEADER}[ \t]*:)[ \t]*)[^\r\n"']{1,4096}`, groups: ['keep'] },
  { source: String.raw`(:(?<=(?<!["'])${HEADER}[ \t]*:)[ \t]*)[^\r\n]{1,4096}`, groups: ['keep'] },
  // NAME=value (env files, query strings, CLI flags); the name goes through the key rules. The value
  // stops at the next `=`, so a rejected name costs a rescan of one value, not of the rest of the text.
  { source: String.raw`(=(?<=([A-Za-z0-9_.-]{1,128})[ \t]*=)[ \t]*["']?)[^\s"'&;,=]{6,}`, groups: ['keep', 'name'] },
  // PEM private keys: keep the BEGIN line, mask the body up to the END line (or the end of a cut string).
  { source: String.raw`(-----BEGIN [A-Z0-9 ]{0,40}PRIVATE KEY[A-Z ]{0,12}-----)[^-]*`, groups: ['keep'] },
  // OpenAI sk-…/sk-proj-…/sk-svcacct-…/sk-admin-…, Anthropic sk-ant-…, GitLab glpat-…, Slack xox?-…
  { source: String.raw`-(?<=(?<![A-Za-z0-9])(sk|glpat|xox[baprs])-)[A-Za-z0-9_-]{20,}`, groups: ['pre'] },
  // PyPI
  { source: String.raw`-(?<=(?<![A-Za-z0-9])(pypi)-)AgEIcHlwaS[A-Za-z0-9_-]{20,}`, groups: ['pre'] },
  // Stripe secret and restricted keys
  { source: String.raw`_(?<=(?<![A-Za-z0-9])([sr]k_(?:live|test))_)[A-Za-z0-9]{10,}`, groups: ['pre'] },
  // LangSmith
  { source: String.raw`_(?<=(?<![A-Za-z0-9])(lsv2_(?:pt|sk))_)[A-Za-z0-9_]{20,}`, groups: ['pre'] },
  // GitHub classic and fine-grained tokens
  { source: String.raw`_(?<=(?<![A-Za-z0-9])(gh[pousr])_)[A-Za-z0-9]{30,}`, groups: ['pre'] },
  { source: String.raw`_(?<=(?<![A-Za-z0-9])(github_pat)_)[A-Za-z0-9_]{22,}`, groups: ['pre'] },
  // npm
  { source: String.raw`_(?<=(?<![A-Za-z0-9])(npm)_)[A-Za-z0-9]{36}`, groups: ['pre'] },
  // Bare `Bearer <token>` (the token needs a digit or 20 characters: "bearer of bad news" is prose).
  { source: String.raw`((?:[Bb]earer|BEARER)[ \t]+)(?=[A-Za-z._~+/-]*[0-9]|[A-Za-z0-9._~+/-]{20})[A-Za-z0-9._~+/-]{8,}=*`, groups: ['keep'] },
  // Slack webhooks
  { source: String.raw`(\/(?<=hooks\.slack\.com\/services\/))[A-Za-z0-9_/]{20,}`, groups: ['keep'] },
  // Google OAuth access tokens
  { source: String.raw`\.(?<=(?<![A-Za-z0-9])(ya29)\.)[A-Za-z0-9_-]{20,}`, groups: ['pre'] },
  // JWTs
  { source: String.raw`J(?<=(?<![A-Za-z0-9_-])(ey)J)[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*`, groups: ['pre'] },
  // AWS access key ids
  { source: String.raw`[KS](?<=(?<![A-Za-z0-9])(A)[KS])IA[A-Z0-9]{16}(?![A-Za-z0-9])`, groups: ['pre'] },
  // Google API keys
  { source: String.raw`z(?<=(?<![A-Za-z0-9])(AI)z)a[A-Za-z0-9_-]{35}`, groups: ['pre'] },
  // SendGrid
  { source: String.raw`G(?<=(?<![A-Za-z0-9])(S)G)\.[A-Za-z0-9_-]{16,}\.[A-Za-z0-9_-]{16,}`, groups: ['pre'] },
]

/** A rule with the index of its first capture group in the combined pattern. */
interface Placed {
  readonly base: number
  readonly keep: number
  readonly pre: number
  readonly name: number
}

const PLACED: ReadonlyArray<Placed> = ((): Placed[] => {
  let base = 1
  return RULES.map((rule) => {
    const at = (group: Rule['groups'][number]): number => {
      const i = rule.groups.indexOf(group)
      return i === -1 ? -1 : base + i
    }
    const placed: Placed = { base, keep: at('keep'), pre: at('pre'), name: at('name') }
    base += rule.groups.length
    return placed
  })
})()

const SECRETS = new RegExp(RULES.map((rule) => rule.source).join('|'), 'g')

/** Replaces each secret in s by the censor, keeping the context around it (`Bearer `, `NAME=`, `://user:`). */
function replaceSecrets(s: string, censor: string, isSecretName: (name: string) => boolean): string {
  const re = SECRETS
  re.lastIndex = 0
  let m = re.exec(s)
  if (m === null) return s
  let out = ''
  let last = 0
  while (m !== null) {
    let rule = PLACED[0] as Placed
    for (const placed of PLACED) {
      if (m[placed.base] !== undefined) {
        rule = placed
        break
      }
    }
    const at = m.index
    if (rule.name !== -1 && !isSecretName(m[rule.name] ?? '')) {
      // Not a secret after all: look again from the next character, so a key inside the value is still found.
      re.lastIndex = at + 1
    } else {
      let start = rule.pre === -1 ? at : at - (m[rule.pre] ?? '').length
      if (start < last) start = last
      const keep = rule.keep === -1 ? '' : m[rule.keep] ?? ''
      // Two secrets back to back become one censor, so redacting twice changes nothing.
      if (!(start === last && last > 0 && keep === '')) out += s.slice(last, start) + keep + censor
      last = at + m[0].length
    }
    m = re.exec(s)
  }
  return last === 0 ? s : out + s.slice(last)
}

// ---------------------------------------------------------------------------------------------------
// Paths

interface PathNode {
  readonly children: Map<string, PathNode>
  star: PathNode | undefined
  end: boolean
}

const STAR: unique symbol = Symbol('*')
type Segment = string | typeof STAR

function newNode(): PathNode {
  return { children: new Map(), star: undefined, end: false }
}

function isEnd(node: PathNode): boolean {
  return node.end
}

/** The trie nodes reached from `nodes` through `key`, or undefined when no path continues. */
function step(nodes: ReadonlyArray<PathNode>, key: string): ReadonlyArray<PathNode> | undefined {
  let next: PathNode[] | undefined
  for (const node of nodes) {
    const exact = node.children.get(key)
    if (exact !== undefined) (next ??= []).push(exact)
    if (node.star !== undefined) (next ??= []).push(node.star)
  }
  return next
}

function parsePath(path: string): Segment[] {
  const fail = (why: string): never => {
    throw new TypeError(`Expected \`redact.paths\` entries to be paths like "input[0].user.ssn": ${JSON.stringify(path)} ${why}.`)
  }
  const segments: Segment[] = []
  let i = 0
  const ident = (): void => {
    const start = i
    while (i < path.length && path[i] !== '.' && path[i] !== '[' && path[i] !== ']') i++
    if (i === start) fail(`has an empty segment at ${start}`)
    const name = path.slice(start, i)
    segments.push(name === '*' ? STAR : name)
  }
  const bracket = (): void => {
    i++   // [
    const close = (): void => {
      if (path[i] !== ']') fail(`has an unclosed [ at ${i}`)
      i++
    }
    const c = path[i]
    if (c === '*') {
      i++
      segments.push(STAR)
      close()
    } else if (c === '"' || c === "'") {
      const end = path.indexOf(c, i + 1)
      if (end === -1) fail('has an unterminated quote')
      segments.push(path.slice(i + 1, end))
      i = end + 1
      close()
    } else {
      const start = i
      while (i < path.length && path.charCodeAt(i) >= 48 && path.charCodeAt(i) <= 57) i++
      if (i === start) fail(`needs an index, * or a quoted key inside [ ] at ${start}`)
      segments.push(String(Number(path.slice(start, i))))
      close()
    }
  }
  if (path.length === 0) fail('is empty')
  if (path[0] === '[') bracket()
  else ident()
  while (i < path.length) {
    const c = path[i]
    if (c === '.') {
      i++
      ident()
    } else if (c === '[') bracket()
    else fail(`has an unexpected ${JSON.stringify(c)} at ${i}`)
  }
  return segments
}

function compilePaths(paths: ReadonlyArray<string>): PathNode | undefined {
  if (paths.length === 0) return undefined
  const root = newNode()
  for (const path of paths) {
    let node = root
    for (const segment of parsePath(path)) {
      if (segment === STAR) node = node.star ??= newNode()
      else {
        let child = node.children.get(segment)
        if (child === undefined) node.children.set(segment, child = newNode())
        node = child
      }
    }
    node.end = true
  }
  return root
}

// ---------------------------------------------------------------------------------------------------
// Options

interface Config {
  readonly censor: string
  readonly defaults: boolean
  readonly keyNames: ReadonlyArray<string>
  readonly keyPatterns: ReadonlyArray<RegExp>
  readonly patterns: ReadonlyArray<RegExp>
  readonly mask: ((value: JsonValue, path: string) => JsonValue) | undefined
  readonly trie: PathNode | undefined
}

const REDACT_KEYS: ReadonlyArray<string> = ['keys', 'paths', 'patterns', 'censor', 'mask', 'defaults']

function validate(options: RedactOptions): Config {
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw new TypeError('Expected `redact` to be an object.')
  }
  for (const key of Object.keys(options)) {
    if (!REDACT_KEYS.includes(key)) throw new TypeError(`Unknown option \`redact.${key}\`. Known options: ${REDACT_KEYS.join(', ')}.`)
  }
  const { keys = [], paths = [], patterns = [], censor = REDACTED, mask, defaults = true } = options
  if (!Array.isArray(keys) || !keys.every((k) => (typeof k === 'string' && k !== '') || isRegExp(k))) {
    throw new TypeError('Expected `redact.keys` to be an array of non-empty strings or RegExps.')
  }
  if (!Array.isArray(paths) || !paths.every((p) => typeof p === 'string')) {
    throw new TypeError('Expected `redact.paths` to be an array of strings.')
  }
  if (!Array.isArray(patterns) || !patterns.every(isRegExp)) {
    throw new TypeError('Expected `redact.patterns` to be an array of RegExps.')
  }
  if (typeof censor !== 'string') throw new TypeError('Expected `redact.censor` to be a string.')
  if (mask !== undefined && typeof mask !== 'function') throw new TypeError('Expected `redact.mask` to be a function.')
  if (typeof defaults !== 'boolean') throw new TypeError('Expected `redact.defaults` to be a boolean.')
  return {
    censor,
    defaults,
    keyNames: keys.filter((k): k is string => typeof k === 'string'),
    keyPatterns: keys.filter(isRegExp).map((re) => new RegExp(re.source, re.flags.replace(/[gy]/g, ''))),
    patterns: patterns.map((re) => {
      if (re.source === '(?:)') throw new TypeError('Expected `redact.patterns` entries to match something: got an empty RegExp.')
      return new RegExp(re.source, re.flags.includes('g') ? re.flags.replace('y', '') : `${re.flags.replace('y', '')}g`)
    }),
    mask,
    trie: compilePaths(paths),
  }
}

function isRegExp(value: unknown): value is RegExp {
  return Object.prototype.toString.call(value) === '[object RegExp]'
}

// ---------------------------------------------------------------------------------------------------
// Building output safely

const hasOwn = Object.prototype.hasOwnProperty
const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/

function childPath(path: string, key: string): string {
  return IDENTIFIER.test(key) ? `${path}.${key}` : `${path}[${JSON.stringify(key)}]`
}

/** A fresh object with the first `count` own keys of v, written safely (`__proto__` stays data). */
function copyFirst(v: { readonly [key: string]: JsonValue }, count: number): Record<string, JsonValue> {
  const out: Record<string, JsonValue> = {}
  let copied = 0
  for (const k in v) {
    if (copied >= count) break
    if (!hasOwn.call(v, k)) continue
    set(out, k, v[k] as JsonValue)
    copied++
  }
  return out
}

function set(out: Record<string, JsonValue>, key: string, value: JsonValue): void {
  if (key === '__proto__') Object.defineProperty(out, key, { value, enumerable: true, writable: true, configurable: true })
  else out[key] = value
}
