// node scripts/secret-rules.mjs            regenerates src/serialization/secret-rules.ts
// node scripts/secret-rules.mjs --check    exits 1 when that file is not what the installed package gives
//
// The value patterns of secretlint's recommended preset, as data (docs/reliability.md#redaction-what-a-leaked-credential-scanner-would-catch).
// secretlint's rules are functions that scan a file and report ranges; their regexes are not exported.
// So each scanner rule of the preset is run once over a probe text while RegExp.prototype is
// instrumented, and every regex the rule runs is recorded: what is recorded is exactly what
// secretlint itself matches with, whatever the bundle looks like. Each pattern gets the keywords
// that any match must contain (its first required literal), so tracellm tests a string for a
// rule's keywords before it runs the rule's regex.
import { readFileSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'

const PACKAGE = '@secretlint/secretlint-rule-preset-recommend'
const TARGET = fileURLToPath(new URL('../src/serialization/secret-rules.ts', import.meta.url))
/** Not a secret scanner: it reads `secretlint-disable` comments. */
const SKIP = new Set(['@secretlint/secretlint-rule-filter-comments'])

export async function generate() {
  const { rules } = await import(PACKAGE)
  const require = createRequire(import.meta.url)
  const { version } = JSON.parse(readFileSync(require.resolve(`${PACKAGE}/package.json`), 'utf8'))
  const out = []
  for (const rule of rules) {
    const id = rule.meta.id
    if (SKIP.has(id)) continue
    for (const { source, flags } of recordRegexes(rule)) {
      const keywords = keywordsOf(source)
      if (keywords.length === 0) throw new Error(`${id}: no literal keyword in /${source}/`)
      out.push({ id: id.replace('@secretlint/secretlint-rule-', ''), source, flags: flags.replace(/[gd]/g, ''), keywords, password: source.includes('(?<password>') })
    }
  }
  return render(version, out)
}

function recordRegexes(rule) {
  const P = RegExp.prototype
  const seen = new Map()
  let recording = true
  const names = ['exec', 'test', Symbol.matchAll, Symbol.match, Symbol.replace, Symbol.search, Symbol.split]
  const saved = names.map((name) => [name, P[name]])
  for (const [name, original] of saved) {
    P[name] = function (...args) {
      if (recording) seen.set(`${this.source}/${this.flags}`, { source: this.source, flags: this.flags })
      const was = recording
      recording = false
      try { return original.apply(this, args) } finally { recording = was }
    }
  }
  try {
    const context = { report() {}, ignore() {}, createTranslator: () => (id) => id, sharedOptions: {} }
    const handlers = rule.create(context, {})
    for (const handler of Object.values(handlers)) {
      if (typeof handler === 'function') handler({ content: 'probe', filePath: '/probe.txt', ext: '.txt', contentType: 'text' })
    }
  } finally {
    for (const [name, original] of saved) P[name] = original
  }
  return [...seen.values()]
}

// --- keywords: the first required literal of each top-level alternative, lower-cased ---

function keywordsOf(source) {
  const all = new Set()
  for (const alt of splitTop(source)) {
    const best = firstLiteral(parse(alt))
    if (best === undefined) return []
    for (const k of best) all.add(k.toLowerCase())
  }
  return [...all]
}

function splitTop(s) {
  const parts = []
  let depth = 0
  let inClass = false
  let start = 0
  for (let i = 0; i < s.length; i++) {
    const c = s[i]
    if (c === '\\') { i++; continue }
    if (inClass) { if (c === ']') inClass = false; continue }
    if (c === '[') inClass = true
    else if (c === '(') depth++
    else if (c === ')') depth--
    else if (c === '|' && depth === 0) { parts.push(s.slice(start, i)); start = i + 1 }
  }
  parts.push(s.slice(start))
  return parts
}

/** Items of a sequence: { lit } one literal character, { group, alts, look } or { other }, each with `optional`. */
function parse(s) {
  const items = []
  let i = 0
  while (i < s.length) {
    const c = s[i]
    let item
    if (c === '\\') {
      const n = s[i + 1]
      if (/[dDwWsSbBpPkK0-9]/.test(n)) {
        item = { other: true }
        i += 2
        if ((n === 'p' || n === 'P' || n === 'k') && s[i] === '{' || s[i] === '<') i = s.indexOf(n === 'k' ? '>' : '}', i) + 1
      } else {
        item = { lit: n }
        i += 2
      }
    } else if (c === '[') {
      let j = i + 1
      while (j < s.length && s[j] !== ']') j += s[j] === '\\' ? 2 : 1
      item = { other: true }
      i = j + 1
    } else if (c === '(') {
      let depth = 0
      let j = i
      let inClass = false
      for (; j < s.length; j++) {
        const d = s[j]
        if (d === '\\') { j++; continue }
        if (inClass) { if (d === ']') inClass = false; continue }
        if (d === '[') inClass = true
        else if (d === '(') depth++
        else if (d === ')' && --depth === 0) break
      }
      let body = s.slice(i + 1, j)
      const look = /^\?(?:<?[=!])/.test(body)
      body = body.replace(/^\?(?::|<[A-Za-z]+>|<?[=!])/, '')
      item = { group: true, look, alts: splitTop(body).map(parse) }
      i = j + 1
    } else if (c === '^' || c === '$') {
      item = { other: true, zero: true }
      i++
    } else if (c === '.') {
      item = { other: true }
      i++
    } else {
      item = { lit: c }
      i++
    }
    const q = /^(?:[?*+]|\{(\d+)(?:,\d*)?\})\??/.exec(s.slice(i))
    item.optional = q !== null && (q[0][0] === '?' || q[0][0] === '*' || (q[1] !== undefined && Number(q[1]) === 0))
    item.repeated = q !== null
    if (q !== null) i += q[0].length
    items.push(item)
  }
  return items
}

/** The required literal (or set of literal alternatives) that selects best: the longest shortest member. */
function firstLiteral(items) {
  const candidates = []
  let run = ''
  const flush = () => { if (run !== '') candidates.push([run]); run = '' }
  for (const item of items) {
    if (item.lit !== undefined && !item.optional && !item.repeated) { run += item.lit; continue }
    if (item.lit !== undefined && !item.optional) { run += item.lit; flush(); continue }
    flush()
    if (item.group && !item.look && !item.optional) {
      const literals = item.alts.map((alt) => (alt.every((x) => x.lit !== undefined && !x.optional && !x.repeated) ? alt.map((x) => x.lit).join('') : undefined))
      if (literals.every((x) => x !== undefined && x !== '')) candidates.push(literals)
    }
  }
  flush()
  let best
  let score = 0
  for (const set of candidates) {
    const min = Math.min(...set.map((x) => x.length))
    if (min > score) { best = set; score = min }
  }
  return best
}

function render(version, rules) {
  const lines = rules.map((r) => `  { id: ${JSON.stringify(r.id)}, source: ${JSON.stringify(r.source)}, flags: ${JSON.stringify(r.flags)}, keywords: ${JSON.stringify(r.keywords)}, password: ${r.password} },`)
  return `// Generated by scripts/secret-rules.mjs from ${PACKAGE}@${version}: do not edit.
// Regenerate with \`node scripts/secret-rules.mjs\` after upgrading the package; a test checks it is current.

/** @internal One regex of a secretlint rule; \`password\`: only its \`password\` group is the secret. */
export interface UpstreamRule {
  readonly id: string
  readonly source: string
  readonly flags: string
  /** Lower-cased; every match contains one of them. */
  readonly keywords: ReadonlyArray<string>
  readonly password: boolean
}

/** @internal */
export const UPSTREAM_PACKAGE = '${PACKAGE}@${version}'

/** @internal */
export const UPSTREAM_RULES: ReadonlyArray<UpstreamRule> = [
${lines.join('\n')}
]
`
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const text = await generate()
  if (process.argv.includes('--check')) {
    let current = ''
    try { current = readFileSync(TARGET, 'utf8') } catch {}
    if (current !== text) {
      process.stderr.write(`${TARGET} is out of date: run node scripts/secret-rules.mjs\n`)
      process.exit(1)
    }
  } else writeFileSync(TARGET, text)
}
