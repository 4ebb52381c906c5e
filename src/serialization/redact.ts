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
import { UPSTREAM_RULES } from './secret-rules.js'

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

/** ASCII characters that can be part of a secret: all printable ones but quotes, brackets, `,` and `;`. */
const TOKEN_CHARS: Uint8Array = ((): Uint8Array => {
  const table = new Uint8Array(128)
  for (let c = 0x21; c < 0x7f; c++) table[c] = 1
  for (const c of '"\'`<>()[]{},;') table[c.charCodeAt(0)] = 0
  return table
})()

function isTokenChar(c: number): boolean {
  return c < 128 && TOKEN_CHARS[c] === 1
}

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

const HEADER = '(?:[Aa][Uu][Tt][Hh][Oo][Rr][Ii][Zz][Aa][Tt][Ii][Oo][Nn]|[Xx]-[Aa][Pp][Ii]-[Kk][Ee][Yy]|[Xx]-[Aa][Uu][Tt][Hh]-(?:[Tt][Oo][Kk][Ee][Nn]|[Kk][Ee][Yy]))'
/**
 * What makes a header value a credential: an auth scheme and its parameters, or a token of 8+
 * characters with a digit (or of 20+ characters). "Authorization: pending manager
 * review" is prose, not a credential.
 */
const CREDENTIAL = String.raw`(?=(?:[Bb]earer|BEARER|[Bb]asic|BASIC|[Dd]igest|[Tt]oken|[Bb]ot|[Aa]pi[Kk]ey|[Nn]egotiate|NTLM|AWS4-HMAC-SHA256|SSWS|[Oo][Aa]uth|Splunk|GenieKey|SharedAccessSignature)[ \t]|(?=[A-Za-z_.~+/=:-]{0,4096}[0-9]|[A-Za-z0-9_.~+/=:-]{20})[A-Za-z0-9_.~+/=:-]{8})`

const RULES: ReadonlyArray<Rule> = [
  // scheme://user:PASS@host → keep everything but the password.
  { source: String.raw`(:\/\/[^\s:@/?#]{0,256}:)[^\s@/?#]{1,512}(?=@)`, groups: ['keep'] },
  // scheme://KEY@host, a long user name with no password: a Sentry DSN, a token as the user of a git URL.
  { source: String.raw`(:\/\/)[A-Za-z0-9_-]{20,256}(?=@)`, groups: ['keep'] },
  // "name": "value" inside JSON text (also with escaped quotes); the name goes through the key rules.
  { source: String.raw`(:(?<=\\?"([A-Za-z0-9_ .-]{1,128})\\?"[ \t]*:)[ \t]*\\?")[^"\\\r\n]{1,4096}(?=\\?")`, groups: ['keep', 'name'] },
  // Authorization / Proxy-Authorization / x-api-key / x-auth-token / x-auth-key header lines with a
  // credential-shaped value: to the end of the line, or to the closing quote when the header itself is
  // quoted (`curl -H "x-api-key: …"`).
  { source: String.raw`(:(?<=["']${HEADER}[ \t]*:)[ \t]*)${CREDENTIAL}[^\r\n"']{1,4096}`, groups: ['keep'] },
  { source: String.raw`(:(?<=(?<!["'])${HEADER}[ \t]*:)[ \t]*)${CREDENTIAL}[^\r\n]{1,4096}`, groups: ['keep'] },
  // NAME=value (env files, query strings, CLI flags, connection strings); the name goes through the key
  // rules. The value stops at the next `=`, so a rejected name costs a rescan of one value, not of the rest of the text.
  { source: String.raw`(=(?<=([A-Za-z0-9_.-]{1,128})[ \t]*=)[ \t]*["']?)[^\s"'&;,=]{6,}`, groups: ['keep', 'name'] },
  // PEM private keys: keep the BEGIN line, mask the body up to the END line (or the end of a cut string).
  { source: String.raw`(-----BEGIN [A-Z0-9 ]{0,40}PRIVATE KEY[A-Z ]{0,12}-----)[^-]*`, groups: ['keep'] },
  // OpenAI sk-…/sk-proj-…, Anthropic sk-ant-…, GitLab glpat-/glrt-/gldt-, Slack xox?-/xapp-, Perplexity
  // pplx-, xAI xai-, Tavily tvly-, Heroku HRKU-, New Relic NRAK-/NRJS-/NRII-, Postman PMAK-
  { source: String.raw`-(?<=(?<![A-Za-z0-9])(sk|glpat|glrt|gldt|xox[a-z]|xapp|pplx|xai|tvly|HRKU|NRAK|NRJS|NRII|NRAA|PMAK)-)[A-Za-z0-9_-]{20,}`, groups: ['pre'] },
  // Mailgun key-…
  { source: String.raw`-(?<=(?<![A-Za-z0-9])(key)-)[0-9a-f]{32}(?![A-Za-z0-9])`, groups: ['pre'] },
  // PyPI
  { source: String.raw`-(?<=(?<![A-Za-z0-9])(pypi)-)AgEIcHlwaS[A-Za-z0-9_-]{20,}`, groups: ['pre'] },
  // Stripe secret and restricted keys
  { source: String.raw`_(?<=(?<![A-Za-z0-9])([sr]k_(?:live|test))_)[A-Za-z0-9]{10,}`, groups: ['pre'] },
  // Stripe webhook secrets (base64)
  { source: String.raw`_(?<=(?<![A-Za-z0-9])(whsec)_)[A-Za-z0-9+/]{20,}=*`, groups: ['pre'] },
  // LangSmith
  { source: String.raw`_(?<=(?<![A-Za-z0-9])(lsv2_(?:pt|sk))_)[A-Za-z0-9_]{20,}`, groups: ['pre'] },
  // GitHub classic and fine-grained tokens
  { source: String.raw`_(?<=(?<![A-Za-z0-9])(gh[pousr])_)[A-Za-z0-9]{30,}`, groups: ['pre'] },
  { source: String.raw`_(?<=(?<![A-Za-z0-9])(github_pat)_)[A-Za-z0-9_]{22,}`, groups: ['pre'] },
  // npm, Hugging Face hf_, Groq gsk_, Replicate r8_, Supabase sbp_, Notion secret_/ntn_, Shopify shp?_,
  // DigitalOcean do?_v1_, Linear lin_api_, Grafana glc_, Vercel vc?_: letters and digits only
  { source: String.raw`_(?<=(?<![A-Za-z0-9])(npm|hf|gsk|r8|sbp|secret|ntn|shp(?:at|ss|ca|pa)|do[opr]_v1|lin_api|glc|vc[pikar])_)[A-Za-z0-9]{20,}`, groups: ['pre'] },
  // PlanetScale pscale_…_, Supabase sb_secret_, Docker dckr_pat_, Figma figd_, Grafana glsa_
  { source: String.raw`_(?<=(?<![A-Za-z0-9])(pscale_(?:tkn|pw|oauth)|sb_secret|dckr_pat|figd|glsa)_)[A-Za-z0-9_.=-]{20,}`, groups: ['pre'] },
  // Bare `Bearer <token>` (the token needs a digit or 20 characters: "bearer of bad news" is prose).
  { source: String.raw`((?:[Bb]earer|BEARER)[ \t]+)(?=[A-Za-z._~+/-]*[0-9]|[A-Za-z0-9._~+/-]{20})[A-Za-z0-9._~+/-]{8,}=*`, groups: ['keep'] },
  // Slack and Discord webhooks
  { source: String.raw`(\/(?<=hooks\.slack\.com\/services\/))[A-Za-z0-9_/]{20,}`, groups: ['keep'] },
  { source: String.raw`(\/(?<=\/api\/webhooks\/[0-9]{6,24}\/))[A-Za-z0-9_-]{20,}`, groups: ['keep'] },
  // Google OAuth access tokens, Doppler dp.pt./dp.st./…
  { source: String.raw`\.(?<=(?<![A-Za-z0-9])(ya29|dp\.(?:pt|st|sa|ct|scim|audit))\.)[A-Za-z0-9_-]{20,}`, groups: ['pre'] },
  // Discord bot tokens: id.timestamp.hmac
  { source: String.raw`\.(?<=(?<![A-Za-z0-9_-])([MNO][A-Za-z0-9_-]{23,27})\.)[A-Za-z0-9_-]{6}\.[A-Za-z0-9_-]{27,}`, groups: ['pre'] },
  // Telegram bot tokens: bot id:secret
  { source: String.raw`:(?<=(?<![A-Za-z0-9])([0-9]{8,10}):)[A-Za-z0-9_-]{35}(?![A-Za-z0-9_-])`, groups: ['pre'] },
  // JWTs
  { source: String.raw`J(?<=(?<![A-Za-z0-9_-])(ey)J)[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*`, groups: ['pre'] },
  // AWS access key ids
  { source: String.raw`[KS](?<=(?<![A-Za-z0-9])(A)[KS])IA[A-Z0-9]{16}(?![A-Za-z0-9])`, groups: ['pre'] },
  // Twilio API key SIDs
  { source: String.raw`K(?<=(?<![A-Za-z0-9])(S)K)[0-9a-fA-F]{32}(?![A-Za-z0-9])`, groups: ['pre'] },
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
// secretlint's recommended rules (secret-rules.ts, generated from the package by scripts/secret-rules.mjs)
//
// Speed: a rule's regex runs only on strings that contain one of its keywords (a literal every match
// of the rule contains); before that, a token of 24+ characters (or `://`, or a PEM header) and one
// case-insensitive regex of all keywords tell whether any rule can match at all: prose costs one fast
// scan.

interface Upstream {
  readonly re: RegExp
  readonly keywords: ReadonlyArray<string>
  readonly password: boolean
}

const UPSTREAM: ReadonlyArray<Upstream> = UPSTREAM_RULES.map((rule) => ({
  re: new RegExp(rule.source, `${rule.flags}g${rule.password ? 'd' : ''}`),
  keywords: rule.keywords,
  password: rule.password,
}))

/** What any credential secretlint finds has (a token of 24+ characters, a URL, a PEM header): prose has none. */
const UPSTREAM_TOKEN = 24

/** Whether s has a run of at least n token characters (one pass, no regex: the cheapest test there is). */
function hasToken(s: string, n: number): boolean {
  let run = 0
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i)
    if (c < 128 && TOKEN_CHARS[c] === 1) {
      if (++run >= n) return true
    } else run = 0
  }
  return false
}
const UPSTREAM_KEYWORDS = new RegExp([...new Set(UPSTREAM_RULES.flatMap((rule) => rule.keywords))].map(escapeRegExp).join('|'), 'i')

function escapeRegExp(s: string): string {
  return s.replace(/[\\^$.*+?()[\]{}|/-]/g, '\\$&')
}

/** Replaces what secretlint's rules find in s (only the `password` group of a URL rule) by the censor. */
function replaceUpstream(s: string, censor: string): string {
  if (!(hasToken(s, UPSTREAM_TOKEN) || s.includes('://') || s.includes('-----BEGIN')) || !UPSTREAM_KEYWORDS.test(s)) return s
  const lower = s.toLowerCase()
  const spans: Array<readonly [number, number]> = []
  for (const rule of UPSTREAM) {
    if (!rule.keywords.some((keyword) => lower.includes(keyword))) continue
    const re = rule.re
    re.lastIndex = 0
    for (let m = re.exec(s); m !== null; m = re.exec(s)) {
      if (m[0].length === 0) {
        re.lastIndex++
        continue
      }
      if (!rule.password) spans.push([m.index, m.index + m[0].length])
      else {
        const at = m.indices?.groups?.password
        if (at !== undefined) spans.push([at[0], at[1]])
      }
    }
  }
  if (spans.length === 0) return s
  spans.sort((x, y) => x[0] - y[0])
  let out = ''
  let last = 0
  for (const [start, end] of spans) {
    if (end <= last) continue
    out += start > last ? s.slice(last, start) + censor : last === 0 ? censor : ''
    last = end
  }
  return out + s.slice(last)
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
