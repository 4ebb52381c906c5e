// secretlint's rules as data, key names, object keys, Map entries, binary samples and cuts
// (docs/reliability.md#redaction-what-a-leaked-credential-scanner-would-catch).
import { describe, expect, it } from '@jest/globals'
import { execFile } from 'node:child_process'
import { dirname, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import type { JsonValue } from '../../src/document/document.js'
import { capture } from '../../src/serialization/capture.js'
import { createRedactor, isRedactedKey } from '../../src/serialization/redact.js'
import { UPSTREAM_PACKAGE, UPSTREAM_RULES } from '../../src/serialization/secret-rules.js'

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..')
const run = promisify(execFile)
/** Built here so the repository holds nothing that looks like a credential. */
const STRIPE = `sk_live_${'4eC39HqLyjWDarjtT1zdp7dc'.split('').reverse().join('')}`
const OPENAI = `sk-proj-${'Ab12Cd34Ef56Gh78Ij90Kl12Mn34'.repeat(2)}`

describe('secret-rules.ts', () => {
  it('is what scripts/secret-rules.mjs generates from the installed package', async () => {
    const { stdout, stderr } = await run(process.execPath, [resolve(ROOT, 'scripts/secret-rules.mjs'), '--check'], { cwd: ROOT })
    expect({ stdout, stderr }).toEqual({ stdout: '', stderr: '' })
    expect(UPSTREAM_PACKAGE).toMatch(/^@secretlint\/secretlint-rule-preset-recommend@\d+\.\d+\.\d+$/)
  })

  it('gives every rule a keyword that its matches contain', () => {
    expect(UPSTREAM_RULES.length).toBeGreaterThanOrEqual(25)
    for (const rule of UPSTREAM_RULES) {
      expect(rule.keywords.length).toBeGreaterThan(0)
      for (const keyword of rule.keywords) expect(keyword.length).toBeGreaterThanOrEqual(3)
    }
  })

  it("masks what a secretlint rule finds that tracellm's own patterns do not (a Grafana cloud token with + and /)", () => {
    const token = `glc_${'AbCd+/EfGh'.repeat(5)}==`
    expect(createRedactor().text(`token ${token} end`)).toBe('token [REDACTED] end')
  })
})

describe('isRedactedKey: word-based key names', () => {
  it.each(['password', 'dbPassword', 'DB_PASSWORD', 'x-api-key', 'APIKey', 'AccountKey', 'SharedAccessKey', 'client_secret',
    'JSESSIONID', 'set-cookie', 'idToken', 'passwordResetToken', 'password_confirmation', 'secret_key_base', 'DD_APP_KEY'])('%s is a secret', (key) => {
    expect(isRedactedKey(key)).toBe(true)
  })

  it.each(['secretary', 'passwordPolicy', 'passwordHint', 'cookieConsent', 'tokenizer', 'max_tokens', 'max_token', 'token_count',
    'tokenLimit', 'accessKeyId', 'secretName', 'hasPassword', 'isSecret', 'authorizationUrl', 'author'])('%s is not', (key) => {
    expect(isRedactedKey(key)).toBe(false)
  })
})

describe('createRedactor: keys, Maps, binary', () => {
  const redactor = createRedactor()

  it('replaces an object key that is itself a secret, keeping keys unique', () => {
    const out = redactor.value({ [STRIPE]: 1, [`${STRIPE}x`]: 2, '[REDACTED]': 3, plain: 4 }, 'input')
    expect(out).toEqual({ '[REDACTED] (2)': 1, '[REDACTED] (3)': 2, '[REDACTED]': 3, plain: 4 })
  })

  it("redacts a Map entry's value by its key name, as an object's", () => {
    const captured = capture(new Map<string, unknown>([['password', 'hunter2'], ['apiKey', { v: 1 }], ['q', 'kept']])).value
    expect(redactor.value(captured, 'input')).toEqual({ $map: [['password', '[REDACTED]'], ['apiKey', '[REDACTED]'], ['q', 'kept']] })
  })

  it('finds a secret in a Buffer and censors its sample; leaves other binary alone', () => {
    const secret = capture(Buffer.from(`{"key":"${OPENAI}"}`)).value as { [key: string]: JsonValue }
    expect(redactor.value(secret, 'input')).toEqual({ ...secret, base64: '[REDACTED]' })
    const plain = capture(new Uint8Array([1, 2, 3, 250, 251])).value
    expect(redactor.value(plain, 'input')).toBe(plain)
  })

  it('keeps prose that mentions authorization, and masks a header with a credential', () => {
    expect(redactor.text('Authorization: pending manager review')).toBe('Authorization: pending manager review')
    expect(redactor.text('Authorization: Token 9f8e7d6c5b4a')).toBe('Authorization: [REDACTED]')
  })
})

describe('capture cuts between tokens', () => {
  it('drops a secret that straddles the string limit whole, and cuts ordinary text where it is', () => {
    const limits = { maxDepth: 20, maxBreadth: 1000, maxNodes: 10_000, maxStringLength: 65_536, maxFieldBytes: 1 << 20, maxKeyLength: 1024 }
    const before = 'a '.repeat(32_762)   // 65 524 characters: the cut falls 12 characters into the key
    const cut = capture(`${before}${OPENAI} tail`, limits).value as string
    expect(cut).not.toContain('Ab12Cd34')
    expect(cut.startsWith(before)).toBe(true)
    const words = capture(`${before}abcdefghijklmnopqrstuvwxyz tail`, limits).value as string
    expect(words.startsWith(`${before}abcdefghijkl...[truncated`)).toBe(true)
  })
})
