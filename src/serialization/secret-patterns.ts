/**
 * The value patterns of redaction (docs/reliability.md#redaction-what-a-leaked-credential-scanner-would-catch):
 * tracellm's own ReDoS-safe rules compiled into one alternation, and secretlint's recommended rules
 * (generated into secret-rules.ts), each run only where its keywords occur.
 */
import { UPSTREAM_RULES } from './secret-rules.js'

/** ASCII characters that can be part of a secret: all printable ones but quotes, brackets, `,` and `;`. */
const TOKEN_CHARS: Uint8Array = ((): Uint8Array => {
  const table = new Uint8Array(128)
  for (let c = 0x21; c < 0x7f; c++) table[c] = 1
  for (const c of '"\'`<>()[]{},;') table[c.charCodeAt(0)] = 0
  return table
})()

/** @internal */
export function isTokenChar(c: number): boolean {
  return c < 128 && TOKEN_CHARS[c] === 1
}

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

/** Replaces each secret in s by the censor, keeping the context around it (`Bearer `, `NAME=`, `://user:`). @internal */
export function replaceSecrets(s: string, censor: string, isSecretName: (name: string) => boolean): string {
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
const KEYWORDS: ReadonlyArray<string> = [...new Set(UPSTREAM_RULES.flatMap((rule) => rule.keywords))]
const UPSTREAM_KEYWORDS = new RegExp(KEYWORDS.map(escapeRegExp).join('|'), 'i')
/**
 * Every keyword, longest first, in one case-sensitive alternation run over the lower-cased text: at
 * each position it reports the longest keyword that starts there, and any other keyword starting there
 * is a prefix of that one (`PREFIX_KEYWORDS`). Stepping one character past each match start, it finds
 * exactly the keywords `lower.includes(keyword)` finds, in one scan instead of one per keyword (46).
 */
const KEYWORD_SCAN = new RegExp([...KEYWORDS].sort((a, b) => b.length - a.length).map(escapeRegExp).join('|'), 'g')
const PREFIX_KEYWORDS: ReadonlyMap<string, ReadonlyArray<string>> = new Map(KEYWORDS.map((keyword) => [keyword, KEYWORDS.filter((other) => keyword.startsWith(other))]))

function escapeRegExp(s: string): string {
  return s.replace(/[\\^$.*+?()[\]{}|/-]/g, '\\$&')
}

/** Replaces what secretlint's rules find in s (only the `password` group of a URL rule) by the censor. @internal */
export function replaceUpstream(s: string, censor: string): string {
  if (!(hasToken(s, UPSTREAM_TOKEN) || s.includes('://') || s.includes('-----BEGIN'))) return s
  const present = keywordsIn(s.toLowerCase())
  if (present === undefined || !UPSTREAM_KEYWORDS.test(s)) return s
  const spans: Array<readonly [number, number]> = []
  for (const rule of UPSTREAM) {
    if (!rule.keywords.some((keyword) => present.has(keyword))) continue
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

/** @internal The keywords `lower` contains (`lower.includes(keyword)`), or undefined when none. */
export function keywordsIn(lower: string): Set<string> | undefined {
  const re = KEYWORD_SCAN
  re.lastIndex = 0
  let present: Set<string> | undefined
  for (let m = re.exec(lower); m !== null; m = re.exec(lower)) {
    present ??= new Set()
    for (const keyword of PREFIX_KEYWORDS.get(m[0]) as ReadonlyArray<string>) present.add(keyword)
    re.lastIndex = m.index + 1
  }
  return present
}
