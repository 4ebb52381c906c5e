/**
 * Secret redaction on captured values and free text (docs/reliability.md#redaction-what-a-leaked-credential-scanner-would-catch):
 * key-name rules, value patterns (secretlint's recommended rules, generated into secret-rules.ts,
 * plus tracellm's own, ReDoS-safe), then the user's keys, paths, patterns and mask hook. Object keys,
 * Map entries and binary samples are scanned too. Runs on already-captured JSON data, never mutates
 * it, returns the same reference when nothing changed, and fails closed: if anything throws, the
 * whole field is replaced.
 */
import { Buffer } from 'node:buffer'
import type { JsonValue } from '../document/document.js'
import { compilePaths, isEnd, step, type PathNode } from './redact-paths.js'
import { isTokenChar, replaceSecrets, replaceUpstream } from './secret-patterns.js'


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
 * Whether a key name is a secret by the built-in rules. The key is split into words (`dbPassword`,
 * `DB_PASSWORD`, `x-api-key`); it is a secret when it names a secret: one of its words (or two words
 * together, `api key`, `session id`) is a secret noun (password, passwd, pwd, passphrase, secret,
 * credential, cookie, authorization, auth, token, api key, private/access/secret/account/signing key,
 * session id, dsn, sig…), **not followed by a qualifier** (`passwordPolicy`, `cookieConsent`,
 * `tokenLimit`, `apiKeyId`: a policy, a consent, a limit and an id are not secrets), and the key is
 * not a flag (`hasPassword`, `isSecret`). Words are whole: `secretary` and `tokenizer` are not
 * secrets, and neither are token counts (`max_tokens`, `input_token`, `token_count`).
 *
 * @example
 * import { isRedactedKey } from './redact.js'
 * isRedactedKey('x-api-key')       // => true
 * isRedactedKey('refreshToken')    // => true
 * isRedactedKey('passwordPolicy')  // => false
 * isRedactedKey('max_tokens')      // => false
 *
 * @category serialization
 * @since 0.1.0
 */
export function isRedactedKey(key: string): boolean {
  const words = keyWords(key)
  const count = words.length
  if (count === 0 || count > 12 || FLAG_WORDS.has(words[0] as string) && count > 1) return false
  for (let i = 0; i < count; i++) {
    const word = words[i] as string
    let next = i + 1
    if (next < count && SECRET_PAIRS.has(word + (words[next] as string))) next++
    else if (!isSecretWord(word, i > 0 ? words[i - 1] as string : '')) continue
    if (next >= count || !QUALIFIERS.has(words[next] as string)) return true
  }
  return false
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

  /** A key once scanned: not the key itself when the key is (or holds) a secret, `{ 'sk_live_…': 1 }`. */
  const keyText = (key: string): string => (key.length < MIN_SECRET ? key : redactString(key))

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
    let out = s
    if (s.length > MAX_SCAN) {
      // cut between tokens, so no secret is left half-scanned at the edge
      const cut = tokenCut(s, MAX_SCAN)
      out = `${s.slice(0, cut)}...[truncated ${s.length - cut} chars]`
    }
    if (defaults && out.length >= MIN_SECRET) {
      out = replaceSecrets(out, censor, isSecretKey)
      if (out.length >= MIN_UPSTREAM) out = replaceUpstream(out, censor)
    }
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

  /** Captured Map entries (`{ $map: [[key, value], …] }`): a secret key name takes its value, as in an object. */
  const walkEntries = (v: ReadonlyArray<JsonValue>, depth: number, path: string): JsonValue => {
    let out: JsonValue[] | undefined
    for (let i = 0; i < v.length; i++) {
      const entry = v[i] as JsonValue
      let r: JsonValue
      if (Array.isArray(entry) && entry.length === 2 && typeof entry[0] === 'string' && isSecretKey(entry[0])) {
        const key = redactString(entry[0])
        r = [key, censor]
      } else r = walk(entry, depth + 1, undefined, mask === undefined ? path : `${path}[${i}]`)
      if (out === undefined && r !== entry) out = v.slice(0, i)
      if (out !== undefined) out.push(r)
    }
    return out ?? v
  }

  /**
   * Captured binary (`{ $bytes, type, base64 }`): the sample is decoded and scanned as text, so a secret
   * in a Buffer cannot pass as base64; if one is found, the sample becomes the censor. A sample cut
   * short ends before the token the cut went through.
   */
  const walkBytes = (v: { readonly [key: string]: JsonValue }): JsonValue => {
    const base64 = v.base64 as string
    if (base64.length === 0) return v
    let raw = Buffer.from(base64, 'base64')
    let text = raw.toString('latin1')
    let sample = base64
    if (typeof v.$bytes === 'number' && v.$bytes > raw.length) {
      const keep = runStart(text, text.length)
      if (keep < raw.length) {
        raw = raw.subarray(0, keep)
        text = text.slice(0, keep)
        sample = raw.toString('base64')
      }
    }
    const scanned = text.length >= MIN_SECRET ? scanString(text) : text
    if (scanned === text && sample === base64) return v
    const out: Record<string, JsonValue> = {}
    for (const k in v) if (hasOwn.call(v, k)) set(out, k, k === 'base64' ? (scanned === text ? sample : censor) : v[k] as JsonValue)
    return out
  }

  const walkObject = (v: { readonly [key: string]: JsonValue }, depth: number, nodes: ReadonlyArray<PathNode> | undefined, path: string): JsonValue => {
    if (typeof v.base64 === 'string' && typeof v.$bytes === 'number') return walkBytes(v)
    let out: Record<string, JsonValue> | undefined
    let seen = 0
    for (const k in v) {
      if (!hasOwn.call(v, k)) continue
      const child = v[k] as JsonValue
      const name = keyText(k)
      let r: JsonValue
      let next: ReadonlyArray<PathNode> | undefined
      if (isSecretKey(k)) r = censor
      else if (nodes !== undefined && (next = step(nodes, k)) !== undefined && next.some(isEnd)) r = censor
      else if (k === '$map' && Array.isArray(child)) r = walkEntries(child as ReadonlyArray<JsonValue>, depth + 1, mask === undefined ? path : childPath(path, k))
      else r = walk(child, depth + 1, next, mask === undefined ? path : childPath(path, k))
      if (out === undefined && (r !== child || name !== k)) out = copyFirst(v, seen)
      if (out !== undefined) set(out, name === k ? k : freeKey(out, v, name), r)
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

/** A key for a redacted key that no other key of the object uses: `[REDACTED]`, `[REDACTED] (2)`… */
function freeKey(out: Record<string, JsonValue>, v: { readonly [key: string]: JsonValue }, key: string): string {
  let candidate = key
  for (let n = 2; hasOwn.call(out, candidate) || hasOwn.call(v, candidate); n++) candidate = `${key} (${n})`
  return candidate
}

// ---------------------------------------------------------------------------------------------------
// Cutting between tokens (docs/reliability.md#redaction-what-a-leaked-credential-scanner-would-catch)

/** The longest run of token characters a cut moves back over; longer runs are cut where they are. */
const MAX_TOKEN = 4096


/** How much text before a token a cut looks at, for the context that makes it a secret (`"password": "`). */
const CUT_CONTEXT = 256
let defaultRedactor: Redactor | undefined

/**
 * @internal Where to cut s to at most n characters without cutting a secret: n itself, or, when n
 * falls inside a token (a run of characters a secret can be made of) that the built-in rules see as
 * (part of) a secret, the start of that token. Capture cuts long strings here, so a secret at the
 * limit is dropped whole instead of leaving a fragment that no pattern recognizes.
 */
export function tokenCut(s: string, n: number): number {
  if (n <= 0 || n >= s.length || !isTokenChar(s.charCodeAt(n)) || !isTokenChar(s.charCodeAt(n - 1))) return n
  const start = runStart(s, n)
  const limit = n + MAX_TOKEN < s.length ? n + MAX_TOKEN : s.length
  let end = n
  while (end < limit && isTokenChar(s.charCodeAt(end))) end++
  const window = s.slice(start > CUT_CONTEXT ? start - CUT_CONTEXT : 0, end)
  defaultRedactor ??= createRedactor()
  return defaultRedactor.text(window) === window ? n : start
}

/** The start of the run of token characters that ends at n (n when s[n-1] is not one, or the run is too long). */
function runStart(s: string, n: number): number {
  const floor = n > MAX_TOKEN ? n - MAX_TOKEN : 0
  let i = n
  while (i > floor && isTokenChar(s.charCodeAt(i - 1))) i--
  return i === floor && floor > 0 ? n : i
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
/** No secretlint pattern matches fewer characters. */
const MIN_UPSTREAM = 16

/** Lower case with separators removed: `X-Api-Key`, `api_key`, `apiKey` → `xapikey`, `apikey` (user key names). */
function normalizeKey(key: string): string {
  return key.toLowerCase().replace(NON_ALNUM, '')
}

const NON_ALNUM = /[^a-z0-9]/g
const CAMEL = /([a-z0-9])([A-Z])/g
const ACRONYM = /([A-Z]+)([A-Z][a-z])/g
const SEPARATORS = /[^a-z0-9]+/

/** `dbPassword` → db password, `APIKey` → api key, `x-api-key` → x api key, `JSESSIONID` → jsessionid. */
function keyWords(key: string): string[] {
  if (key.length > CACHED_KEY_CHARS) key = key.slice(0, CACHED_KEY_CHARS)
  const words = key.replace(CAMEL, '$1 $2').replace(ACRONYM, '$1 $2').toLowerCase().split(SEPARATORS)
  if (words[0] === '') words.shift()
  if (words.length > 0 && words[words.length - 1] === '') words.pop()
  return words
}

/** A word naming a secret on its own: whole nouns, or a run of words written as one (`dbpassword`, `csrftoken`). */
function isSecretWord(word: string, previous: string): boolean {
  if (SECRET_WORDS.has(word)) return word !== 'token' || !COUNT_WORDS.has(previous)
  if (word.length > 5 && SECRET_SUFFIX.test(word)) return !TOKEN_COUNT.test(word)
  return false
}

const SECRET_WORDS: ReadonlySet<string> = new Set([
  'password', 'passwd', 'pwd', 'passphrase', 'secret', 'secrets', 'credential', 'credentials', 'cookie', 'cookies',
  'authorization', 'auth', 'token', 'apikey', 'apikeys', 'privatekey', 'accesskey', 'secretkey', 'accountkey',
  'sharedaccesskey', 'signingkey', 'encryptionkey', 'masterkey', 'sessionkey', 'authkey', 'sessionid', 'sessid',
  'jsessionid', 'phpsessid', 'sig', 'pat',
])
/** Two words that name a secret together: `api key`, `private key`, `session id`… */
const SECRET_PAIRS: ReadonlySet<string> = new Set([
  'apikey', 'apikeys', 'appkey', 'privatekey', 'accesskey', 'secretkey', 'accountkey', 'signingkey', 'encryptionkey', 'masterkey',
  'sessionkey', 'authkey', 'sessionid', 'clientsecret', 'sharedaccess',
])
/** One word written without separators that ends in a secret noun: `dbpassword`, `accesstoken`, `openaiapikey`. */
const SECRET_SUFFIX = /(?:password|passwd|passphrase|secret|credentials?|cookie|authorization|token|apikey|privatekey|accesskey|secretkey|accountkey|sessionid)$/
/** `maxtoken`, `inputtoken`…: counts written as one word. */
const TOKEN_COUNT = /^(?:max|min|num|total|input|output|prompt|completion|cached|reasoning|remaining|used|count)token$/
/** Before `token`, a word that makes it a count: `max_token`, `input token`. */
const COUNT_WORDS: ReadonlySet<string> = new Set(['max', 'min', 'num', 'total', 'input', 'output', 'prompt', 'completion', 'cached', 'reasoning', 'remaining', 'used', 'count'])
/** After a secret noun, a word that makes the key about the secret rather than the secret itself. */
const QUALIFIERS: ReadonlySet<string> = new Set([
  'policy', 'policies', 'consent', 'consents', 'hint', 'hints', 'length', 'len', 'required', 'require', 'requires', 'requirement',
  'requirements', 'expires', 'expiry', 'expiration', 'expired', 'ttl', 'age', 'count', 'counts', 'limit', 'limits', 'usage',
  'type', 'types', 'kind', 'name', 'names', 'id', 'ids', 'field', 'fields', 'label', 'prompt', 'placeholder', 'url', 'uri',
  'endpoint', 'path', 'file', 'env', 'header', 'param', 'version', 'enabled', 'disabled', 'set', 'present', 'provided',
  'strength', 'rule', 'rules', 'regex', 'pattern', 'format', 'min', 'max', 'changed', 'updated', 'created', 'rotated',
  'last4', 'prefix', 'mode', 'manager', 'location', 'source', 'scope', 'scopes', 'visible', 'hidden', 'input', 'ref',
  'valid', 'validation', 'error', 'errors', 'status', 'generator', 'rotation', 'method', 'methods', 'lifetime', 'store',
  'storage', 'reset', 'recovery', 'request', 'requests', 'budget', 'budgets', 'stats', 'ratio', 'provider', 'providers',
])
/** A first word that makes the key a flag about a secret: `hasPassword`, `isSecret`, `requireAuth`. */
const FLAG_WORDS: ReadonlySet<string> = new Set(['is', 'has', 'use', 'uses', 'require', 'requires', 'needs', 'show', 'hide', 'enable', 'enabled', 'allow', 'with', 'no', 'should', 'can'])

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
