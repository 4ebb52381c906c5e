import { describe, expect, it, jest } from '@jest/globals'
import type { JsonValue } from '../../src/document/document.js'
import { capture } from '../../src/serialization/capture.js'
import { REDACTED, REDACTED_TOO_DEEP, REDACTION_FAILED, createRedactor, isRedactedKey, type RedactOptions } from '../../src/serialization/redact.js'

const ROOTS = ['input', 'output', 'metadata', 'error', 'attemptError'] as const

/** Wraps `leaf` `depth` levels deep, alternating objects and arrays. */
function nest(leaf: JsonValue, depth: number): JsonValue {
  let value = leaf
  for (let d = 1; d < depth; d++) value = d % 2 === 0 ? [value] : { [`level${d}`]: value }
  return value
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const child of Object.values(value)) deepFreeze(child)
    Object.freeze(value)
  }
  return value
}

interface Secret {
  readonly name: string
  /** The text carrying the secret, as it would appear in a value or a message. */
  readonly text: string
  /** The part that must not survive redaction. */
  readonly leak: string
  /** What the text becomes, when it is worth pinning down. */
  readonly redacted?: string
  /** The secret runs to the end of the line (header lines) or of the text (a cut PEM body). */
  readonly open?: boolean
}

const JWT = 'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4ifQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c'
const PEM_BODY = 'MIIEpAIBAAKCAQEA3Tz2mr7SZiAMfQyuvBjM9Oi\nZ1BjP5CE/Wm/Rr500PRK+Lh9x5eJPo5CAZ3/ANBE0sTK0ZsDGMak2m1g7'

const SECRETS: ReadonlyArray<Secret> = [
  { name: 'Anthropic key', text: 'key: sk-ant-api03-Xy9_aB3dE5fG7hJ9kL1mN3pQ5rS7tU9vW1xY3zA5bC7dE9fG-hJ1kL3mN5pQ7rS9tU1vW3xY5zA7bC9dE1fG3hJ5kL7mN9pQ1rS3tUAA', leak: 'Xy9_aB3dE5fG7hJ9kL1mN3pQ5rS7tU9vW1xY3zA5bC7dE9fG' },
  { name: 'OpenAI project key', text: 'using sk-proj-Ab12Cd34Ef56Gh78Ij90Kl12Mn34Op56Qr78St90Uv12Wx34 now', leak: 'Ab12Cd34Ef56Gh78Ij90Kl12', redacted: 'using [REDACTED] now' },
  { name: 'OpenAI service account key', text: 'sk-svcacct-Zz98Yy76Xx54Ww32Vv10Uu98Tt76Ss54', leak: 'Zz98Yy76Xx54Ww32Vv10', redacted: '[REDACTED]' },
  { name: 'OpenAI admin key', text: 'sk-admin-Qq11Ww22Ee33Rr44Tt55Yy66Uu77', leak: 'Qq11Ww22Ee33Rr44Tt55' },
  { name: 'OpenAI legacy key', text: 'sk-T3BlbkFJabcdefghijklmnopqrstuvwxyz012345678901', leak: 'T3BlbkFJabcdefghijklmnop' },
  { name: 'short sk- key (20+ chars)', text: 'pass sk-abcdEFGH1234ijklMNOP along', leak: 'abcdEFGH1234ijklMNOP', redacted: 'pass [REDACTED] along' },
  { name: 'LangSmith personal token', text: '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', leak: '0a1b2c3d4e5f6a7b8c9d' },
  { name: 'LangSmith service key', text: 'LANGSMITH 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', leak: '1f2e3d4c5b6a79880f1e' },
  { name: 'GitHub PAT (classic)', text: 'ghp_16C7e42F292c6912E7710c838347Ae178B4a', leak: '16C7e42F292c6912E7710c838347Ae178B4a' },
  { name: 'GitHub OAuth token', text: 'gho_16C7e42F292c6912E7710c838347Ae178B4a', leak: '16C7e42F292c6912E7710c8' },
  { name: 'GitHub user-to-server token', text: 'ghu_16C7e42F292c6912E7710c838347Ae178B4a', leak: '16C7e42F292c6912E7710c8' },
  { name: 'GitHub server-to-server token', text: 'ghs_16C7e42F292c6912E7710c838347Ae178B4a', leak: '16C7e42F292c6912E7710c8' },
  { name: 'GitHub refresh token', text: 'ghr_16C7e42F292c6912E7710c838347Ae178B4a', leak: '16C7e42F292c6912E7710c8' },
  { name: 'GitHub fine-grained PAT', text: 'github_pat_11ABCDEFG0abcdefghijkl_mnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOPQRSTUVW', leak: '11ABCDEFG0abcdefghijkl' },
  { name: 'GitLab PAT', text: 'glpat-xYz123AbC456dEf789Gh', leak: 'xYz123AbC456dEf789Gh' },
  { name: 'AWS access key id', text: 'aws AKIAIOSFODNN7EXAMPLE here', leak: 'AKIAIOSFODNN7EXAMPLE', redacted: 'aws [REDACTED] here' },
  { name: 'AWS temporary key id', text: 'ASIAY34FZKBOKMUTVV7A', leak: 'ASIAY34FZKBOKMUTVV7A' },
  { name: 'Google API key', text: 'maps key AIzaSyDaGmWKa4JsXZ-HjGw7ISLn_3namBGewQe', leak: 'SyDaGmWKa4JsXZ-HjGw7ISLn' },
  { name: 'Google OAuth token', text: 'ya29.a0AfH6SMBx-abcdefghijklmnopqrstuvwxyz0123', leak: 'a0AfH6SMBx-abcdefghij' },
  { name: 'Slack bot token', text: 'xoxb-2048561234567-4096123456789-AbCdEfGhIjKlMnOpQrStUvWx', leak: '2048561234567-4096123456789' },
  { name: 'Slack user token', text: 'xoxp-2048561234567-2048561234567-4096123456789-0123456789abcdef0123456789abcdef', leak: '0123456789abcdef0123456789abcdef' },
  { name: 'Slack webhook', text: 'post to https://hooks.slack.com/services/T0A1B2C3D/B0A1B2C3D/abcdefghijklmnopqrstuvwx', leak: 'T0A1B2C3D/B0A1B2C3D', redacted: 'post to https://hooks.slack.com/services/[REDACTED]' },
  { name: 'Stripe live secret key', text: 'sk_live_51H8abcdefghijklmnopqrstu', leak: '51H8abcdefghijklmnopqrstu' },
  { name: 'Stripe restricted test key', text: 'rk_test_51H8abcdefghijklmnopqrstu', leak: '51H8abcdefghijklmnopqrstu' },
  { name: 'npm token', text: '//registry.npmjs.org/:_authToken=npm_a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8', leak: 'a1B2c3D4e5F6g7H8i9J0' },
  { name: 'PyPI token', text: 'pypi-AgEIcHlwaS5vcmcCJDU2ZjA5YzZlLTNmNDAtNDk0Ny1hMmI1LWNhNDYzZjU5ZTBlMwACKlszLCI', leak: 'AgEIcHlwaS5vcmcCJDU2ZjA5' },
  { name: 'SendGrid key', text: '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', leak: 'ngeVfQFYQlKU0ufo8x5d1A' },
  { name: 'JWT', text: `session ${JWT} ok`, leak: JWT.split('.')[1] as string, redacted: 'session [REDACTED] ok' },
  { name: 'PEM RSA private key', text: `-----BEGIN RSA PRIVATE KEY-----\n${PEM_BODY}\n-----END RSA PRIVATE KEY-----`, leak: 'MIIEpAIBAAKCAQEA3Tz2mr7SZiAMfQyuvBjM9Oi' },
  { name: 'PEM OpenSSH private key, cut short', text: `-----BEGIN OPENSSH PRIVATE KEY-----\n${PEM_BODY}…[truncated 900 chars]`, leak: 'ZsDGMak2m1g7', open: true },
  { name: 'OPENAI_API_KEY=…', text: 'export OPENAI_API_KEY=abc123def456ghi', leak: 'abc123def456ghi', redacted: 'export OPENAI_API_KEY=[REDACTED]' },
  { name: 'DB_PASSWORD=…', text: 'DB_PASSWORD="hunter2hunter2" node app.js', leak: 'hunter2hunter2', redacted: 'DB_PASSWORD="[REDACTED]" node app.js' },
  { name: 'AWS_SECRET_ACCESS_KEY=…', text: 'AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY', leak: 'wJalrXUtnFEMI' },
  { name: 'CLIENT_SECRET=…', text: 'client_secret=s3cr3tValue99&grant_type=client_credentials', leak: 's3cr3tValue99' },
  { name: 'GITHUB_TOKEN=…', text: 'GITHUB_TOKEN = plainvalue42', leak: 'plainvalue42' },
  { name: 'PRIVATE_KEY=…', text: "PRIVATE_KEY='abcdefgh12345678'", leak: 'abcdefgh12345678' },
  { name: 'access_token in a query string', text: 'GET https://api.example.com/v1/me?access_token=q1w2e3r4t5y6&x=1', leak: 'q1w2e3r4t5y6' },
  { name: 'Authorization header line', text: 'Authorization: Bearer abc.def.ghi\nAccept: */*', leak: 'abc.def.ghi', redacted: 'Authorization: [REDACTED]\nAccept: */*' },
  { name: 'authorization Basic header', text: 'authorization: Basic dXNlcjpwYXNzd29yZA==', leak: 'dXNlcjpwYXNzd29yZA', open: true },
  { name: 'Proxy-Authorization header', text: 'Proxy-Authorization: Digest username="u", response="6629fae4"', leak: '6629fae4', open: true },
  { name: 'x-api-key header in curl', text: 'curl -H "x-api-key: 1234567890abcdef" https://api.example.com', leak: '1234567890abcdef', redacted: 'curl -H "x-api-key: [REDACTED]" https://api.example.com' },
  { name: 'X-Auth-Token header', text: 'X-Auth-Token: tok_live_998877', leak: 'tok_live_998877', open: true },
  { name: 'bare Bearer token', text: 'send Bearer 9f8e7d6c5b4a3210 to the API', leak: '9f8e7d6c5b4a3210', redacted: 'send Bearer [REDACTED] to the API' },
  { name: 'postgres URL password', text: 'postgres://app:Sup3r-S3cret@db.internal:5432/prod', leak: 'Sup3r-S3cret', redacted: 'postgres://app:[REDACTED]@db.internal:5432/prod' },
  { name: 'mongodb+srv URL password', text: 'connect mongodb+srv://admin:p%40ssw0rd@cluster0.mongodb.net/test', leak: 'p%40ssw0rd' },
  { name: 'redis URL with an empty user', text: 'redis://:r3d1sPass@cache:6379', leak: 'r3d1sPass', redacted: 'redis://:[REDACTED]@cache:6379' },
  { name: 'password inside JSON text', text: '{"user":"bob","password":"hunter2"}', leak: 'hunter2', redacted: '{"user":"bob","password":"[REDACTED]"}' },
  { name: 'api_key inside escaped JSON text', text: '{\\"api_key\\":\\"zxcvbnm\\"}', leak: 'zxcvbnm' },
]

/** Secret key names: the value is replaced whatever it is. */
const SECRET_KEYS = [
  'authorization', 'Authorization', 'proxy-authorization', 'cookie', 'Cookie', 'set-cookie', 'x-api-key', 'X-API-KEY',
  'apiKey', 'api_key', 'API-KEY', 'apikey', 'openaiApiKey', 'token', 'accessToken', 'access_token', 'refresh_token',
  'refreshToken', 'idToken', 'id-token', 'x-auth-token', 'authToken', 'githubToken', 'bearer_token', 'csrfToken',
  'secret', 'client_secret', 'clientSecret', 'secretKey', 'password', 'Password', 'passwd', 'pwd', 'dbPassword',
  'private_key', 'privateKey', 'credential', 'credentials', 'session_id', 'sessionId', 'JSESSIONID',
]

/** Token counts and other ordinary keys that must stay. */
const PLAIN_KEYS = [
  'max_tokens', 'maxTokens', 'input_tokens', 'output_tokens', 'total_tokens', 'prompt_tokens', 'completion_tokens',
  'tokens', 'tokenizer', 'token_count', 'num_tokens', 'tokenUsage', 'max_token', 'maxOutputTokens', 'tokenLimit',
  'id', 'name', 'role', 'content', 'model', 'temperature', 'key', 'keys', 'author', 'session', 'passage', 'cwd',
]

const NOT_SECRETS: ReadonlyArray<string> = [
  '550e8400-e29b-41d4-a716-446655440000',                                    // UUID v4
  '018f3c3e-7b1a-7c2d-9e4f-1a2b3c4d5e6f',                                    // UUID v7
  'da39a3ee5e6b4b0d3255bfef95601890afd80709',                                // SHA-1
  'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',        // SHA-256
  'E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855',        // SHA-256, upper case
  'd41d8cd98f00b204e9800998ecf8427e',                                        // MD5
  '4bf92f3577b34da6a3ce929d0e0e4736',                                        // W3C trace id
  '00f067aa0ba902b7',                                                        // W3C span id
  '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',                 // traceparent
  'V1StGXR8_Z5jdHi6B-myT',                                                   // nanoid
  '01ARZ3NDEKTSV4RRFFQ69G5FAV',                                              // ULID
  'aGVsbG8gd29ybGQ=',                                                        // base64 of "hello world"
  'What is retrieval-augmented generation, and when should I use it?',
  'The bearer of bad news arrived at noon; nobody asked for a token of thanks.',
  'Authorization is the process of deciding what a user may do.',
  'Set max_tokens=1000000 and temperature=0.7 for long answers.',
  'Use the tokenizer to count tokens: 1,234 input tokens and 56 output tokens.',
  'The secret to good prompts is clear instructions.',
  'Passwords should be long; see the password policy document.',
  'https://example.com/docs/guide?page=2&sort=asc#intro',
  'https://user@example.com/path',
  'ssh://git@github.com/org/repo.git',
  'git@github.com:org/repo.git',
  'mailto:someone@example.com',
  'someone@example.com',
  'http://localhost:3000/api/v1/items',
  '2026-11-24T10:00:00.000Z',
  'const ok = a === b && c !== d; // compare',
  'scikit-learn and sk-learn-compatible estimators',
  'task-runner-background-worker-queue-v2',
  'node:20-alpine',
  '/usr/local/lib/node_modules/npm/bin/npm-cli.js',
  'Key: value pairs are separated by a colon.',
  'Note: results may vary.',
  'askew-abcdefghijklmnopqrstuvwxyz',
  'SGML. and JSON. are formats',
]

function redactText(text: string): string {
  return createRedactor().text(text)
}

describe('createRedactor: default value patterns', () => {
  it(`masks every secret of the corpus (${SECRETS.length}) in free text`, () => {
    expect(SECRETS.length).toBeGreaterThanOrEqual(40)
    for (const secret of SECRETS) {
      const out = redactText(secret.text)
      expect({ name: secret.name, out, leaked: out.includes(secret.leak) }).toEqual({ name: secret.name, out, leaked: false })
      expect(out).toContain(REDACTED)
      if (secret.redacted !== undefined) expect(out).toBe(secret.redacted)
    }
  })

  it('masks the corpus at depths 1–30, in objects, arrays and prose, under every root', () => {
    const redactor = createRedactor()
    SECRETS.forEach((secret, i) => {
      const depth = 1 + (i % 30)
      const root = ROOTS[i % ROOTS.length] as string
      const value = nest({ note: `Here it is: ${secret.text} (do not share)` }, depth)
      const out = JSON.stringify(redactor.value(value, root))
      expect({ name: secret.name, depth, leaked: out.includes(secret.leak) }).toEqual({ name: secret.name, depth, leaked: false })
      expect(out).toContain('Here it is: ')
      if (secret.open !== true) expect(out).toContain(' (do not share)')
    })
  })

  it('masks secrets in captured error records (message and stack)', () => {
    const error = new Error('connect failed: postgres://app:hunter22@db:5432/x')
    const record = capture(error).value
    const out = JSON.stringify(createRedactor().value(record, 'error'))
    expect(out).not.toContain('hunter22')
    expect(out).toContain('postgres://app:[REDACTED]@db:5432/x')
  })

  it('leaves non-secrets alone: same string, same object', () => {
    const redactor = createRedactor()
    expect(NOT_SECRETS.length).toBeGreaterThanOrEqual(30)
    for (const text of NOT_SECRETS) expect(redactor.text(text)).toBe(text)
    const value = deepFreeze({ ids: [...NOT_SECRETS], nested: nest({ list: [...NOT_SECRETS] }, 12) })
    expect(redactor.value(value, 'output')).toBe(value)
  })

  it('keeps the context around a secret', () => {
    expect(redactText('first sk-proj-Ab12Cd34Ef56Gh78Ij90Kl12 then ghp_16C7e42F292c6912E7710c838347Ae178B4a last'))
      .toBe('first [REDACTED] then [REDACTED] last')
    expect(redactText('max_tokens=sk-abcdEFGH1234ijklMNOPqrst')).toBe('max_tokens=[REDACTED]')
  })

  it('is idempotent', () => {
    for (const secret of SECRETS) {
      const once = redactText(secret.text)
      expect(redactText(once)).toBe(once)
    }
  })
})

describe('createRedactor: key names', () => {
  it(`replaces the value of every secret key (${SECRET_KEYS.length}), whatever it is, at any depth`, () => {
    const redactor = createRedactor()
    SECRET_KEYS.forEach((key, i) => {
      const depth = 1 + (i % 30)
      for (const secret of ['plain-value', 12345, { nested: 'object' }, ['a'], true] as JsonValue[]) {
        const out = redactor.value(nest({ [key]: secret, keep: 'me' }, depth), 'metadata')
        expect(JSON.stringify(out)).toBe(JSON.stringify(nest({ [key]: REDACTED, keep: 'me' }, depth)))
      }
    })
  })

  it('keeps token counts and ordinary keys (same reference)', () => {
    const redactor = createRedactor()
    const value = deepFreeze(Object.fromEntries(PLAIN_KEYS.map((key, i) => [key, i % 2 === 0 ? i : `value ${i}`])))
    expect(redactor.value(value, 'output')).toBe(value)
    const usage = deepFreeze({ usage: { input_tokens: 12, output_tokens: 34, total_tokens: 46 }, max_tokens: 256 })
    expect(redactor.value(usage, 'output')).toBe(usage)
  })

  it('isRedactedKey follows the same rules', () => {
    for (const key of SECRET_KEYS) expect({ key, secret: isRedactedKey(key) }).toEqual({ key, secret: true })
    for (const key of PLAIN_KEYS) expect({ key, secret: isRedactedKey(key) }).toEqual({ key, secret: false })
  })

  it('uses the censor option', () => {
    expect(createRedactor({ censor: '***' }).value({ password: 'x', note: 'Bearer abc123def456' }, 'input'))
      .toEqual({ password: '***', note: 'Bearer ***' })
  })
})

describe('createRedactor: user options', () => {
  it('adds key names (any case or separator) and RegExps', () => {
    const redactor = createRedactor({ keys: ['ssn', /^card/i] })
    expect(redactor.value({ ssn: 1, SSN: 2, s_s_n: 3, cardNumber: '4111', CardCvc: 123, other: 4 }, 'input'))
      .toEqual({ ssn: REDACTED, SSN: REDACTED, s_s_n: REDACTED, cardNumber: REDACTED, CardCvc: REDACTED, other: 4 })
  })

  it('redacts paths relative to the field root, with [n], [*] and * wildcards', () => {
    const redactor = createRedactor({ paths: ['input[0].user.ssn', 'output.items[*].email', 'metadata.customer', '*.ssn', 'input[1]["odd key"]'] })
    const input: JsonValue = [{ user: { ssn: '1', name: 'a' } }, { 'odd key': 'x', keep: 1 }]
    expect(redactor.value(input, 'input')).toEqual([{ user: { ssn: REDACTED, name: 'a' } }, { 'odd key': REDACTED, keep: 1 }])
    expect(redactor.value({ items: [{ email: 'a@x.io', id: 1 }, { email: 'b@x.io', id: 2 }] }, 'output'))
      .toEqual({ items: [{ email: REDACTED, id: 1 }, { email: REDACTED, id: 2 }] })
    expect(redactor.value({ customer: { name: 'Ada' }, plan: 'pro' }, 'metadata')).toEqual({ customer: REDACTED, plan: 'pro' })
    expect(redactor.value({ ssn: '123', deeper: { ssn: '456' } }, 'error')).toEqual({ ssn: REDACTED, deeper: { ssn: '456' } })
    // a path for another root does not apply
    expect(redactor.value({ customer: 'kept' }, 'output')).toEqual({ customer: 'kept' })
  })

  it('a path naming the whole field replaces it', () => {
    expect(createRedactor({ paths: ['metadata'] }).value({ a: 1 }, 'metadata')).toBe(REDACTED)
  })

  it('applies extra patterns to string values and to text', () => {
    const redactor = createRedactor({ patterns: [/\b\d{3}-\d{2}-\d{4}\b/] })
    expect(redactor.value({ note: 'ssn 123-45-6789 and 987-65-4321' }, 'input')).toEqual({ note: `ssn ${REDACTED} and ${REDACTED}` })
    expect(redactor.text('call 123-45-6789')).toBe(`call ${REDACTED}`)
  })

  it('calls mask on every remaining string leaf with its path, after the rules', () => {
    const seen: Array<[JsonValue, string]> = []
    const redactor = createRedactor({
      mask: (value, path) => {
        seen.push([value, path])
        return path === 'input[0].email' ? 'masked@example.com' : value
      },
    })
    const out = redactor.value([{ email: 'ada@example.com', token: 't', note: 'Bearer abc123def456', 'a b': 'x', n: 1 }], 'input')
    expect(out).toEqual([{ email: 'masked@example.com', token: REDACTED, note: `Bearer ${REDACTED}`, 'a b': 'x', n: 1 }])
    expect(seen).toEqual([['ada@example.com', 'input[0].email'], [`Bearer ${REDACTED}`, 'input[0].note'], ['x', 'input[0]["a b"]']])
  })

  it('with defaults: false, only the user rules apply', () => {
    const redactor = createRedactor({ defaults: false, keys: ['ssn'] })
    expect(redactor.value({ password: 'p', ssn: 's', note: 'sk-proj-Ab12Cd34Ef56Gh78Ij90Kl12' }, 'input'))
      .toEqual({ password: 'p', ssn: REDACTED, note: 'sk-proj-Ab12Cd34Ef56Gh78Ij90Kl12' })
  })
})

describe('createRedactor: failure and safety', () => {
  it('fails closed when the mask hook throws', () => {
    const redactor = createRedactor({ mask: () => { throw new Error('mask bug') } })
    for (const root of ROOTS) expect(redactor.value({ a: ['x'] }, root)).toBe(REDACTION_FAILED)
    expect(redactor.value({ n: 1 }, 'input')).toEqual({ n: 1 })   // no string leaf, mask never runs
  })

  it('fails closed when the mask hook returns something that is not JSON', () => {
    const redactor = createRedactor({ mask: () => (() => 1) as unknown as JsonValue })
    expect(redactor.value(['x'], 'output')).toBe(REDACTION_FAILED)
  })

  it('never passes through values nested deeper than 64 levels', () => {
    const value = nest('sk-proj-Ab12Cd34Ef56Gh78Ij90Kl12', 100)
    const out = JSON.stringify(createRedactor().value(value, 'input'))
    expect(out).toContain(REDACTED_TOO_DEEP)
    expect(out).not.toContain('Ab12Cd34')
  })

  it('never mutates its input and shares untouched subtrees', () => {
    const untouched = { list: [1, 2, 3], text: 'hello' }
    const value = deepFreeze({ untouched, login: { password: 'p' }, items: ['a', 'Bearer abc123def456'] })
    const out = createRedactor().value(value, 'input') as typeof value
    expect(out).not.toBe(value)
    expect(out.untouched).toBe(untouched)
    expect(out).toEqual({ untouched, login: { password: REDACTED }, items: ['a', `Bearer ${REDACTED}`] })
    expect(value.login.password).toBe('p')
  })

  it('keeps __proto__ / constructor / prototype keys as data without polluting prototypes', () => {
    const parsed = JSON.parse('{"__proto__":{"polluted":1,"apiKey":"x"},"constructor":{"prototype":{"polluted":2}},"password":"p"}') as JsonValue
    const out = createRedactor().value(parsed, 'input')
    expect(({} as Record<string, unknown>).polluted).toBeUndefined()
    expect(Object.getPrototypeOf(out)).toBe(Object.prototype)
    expect(JSON.stringify(out)).toBe('{"__proto__":{"polluted":1,"apiKey":"[REDACTED]"},"constructor":{"prototype":{"polluted":2}},"password":"[REDACTED]"}')
  })

  it('text() returns non-strings untouched and never throws', () => {
    const redactor = createRedactor()
    expect(redactor.text(undefined as unknown as string)).toBeUndefined()
    expect(redactor.text('')).toBe('')
  })

  it('caps the text it scans, so a huge string costs bounded work', () => {
    const huge = `${'a'.repeat(2 ** 21)} sk-proj-Ab12Cd34Ef56Gh78Ij90Kl12`
    const out = createRedactor().text(huge)
    expect(out.length).toBeLessThan(2 ** 21)
    expect(out).not.toContain('Ab12Cd34')
    expect(out).toMatch(/\.\.\.\[truncated \d+ chars\]$/)
  })
})

describe('createRedactor: option validation', () => {
  const invalid: ReadonlyArray<[string, unknown, RegExp]> = [
    ['options null', null, /`redact`/],
    ['keys not an array', { keys: 'password' }, /redact\.keys/],
    ['a key that is a number', { keys: [1] }, /redact\.keys/],
    ['an empty key', { keys: [''] }, /redact\.keys/],
    ['paths not an array', { paths: 'a.b' }, /redact\.paths/],
    ['a path that is not a string', { paths: [1] }, /redact\.paths/],
    ['an empty path', { paths: [''] }, /redact\.paths/],
    ['an empty segment', { paths: ['input..a'] }, /redact\.paths/],
    ['a trailing dot', { paths: ['input.'] }, /redact\.paths/],
    ['an unclosed bracket', { paths: ['input[0'] }, /redact\.paths/],
    ['a bad bracket', { paths: ['input[x]'] }, /redact\.paths/],
    ['an unterminated quote', { paths: ['input["a]'] }, /redact\.paths/],
    ['a pattern that is a string', { patterns: ['sk-'] }, /redact\.patterns/],
    ['an empty pattern', { patterns: [/(?:)/] }, /redact\.patterns/],
    ['a censor that is not a string', { censor: 1 }, /redact\.censor/],
    ['a mask that is not a function', { mask: 'x' }, /redact\.mask/],
    ['defaults that is not a boolean', { defaults: 'yes' }, /redact\.defaults/],
  ]
  for (const [name, options, message] of invalid) {
    it(`throws a TypeError for ${name}`, () => {
      expect(() => createRedactor(options as RedactOptions)).toThrow(TypeError)
      expect(() => createRedactor(options as RedactOptions)).toThrow(message)
    })
  }

  it('accepts valid options', () => {
    expect(() => createRedactor({ keys: ['a', /b/g], paths: ['*', 'input[*]', "output['k'].x[2]"], patterns: [/x/y], censor: '', mask: (v) => v, defaults: false })).not.toThrow()
  })

  it('does not call the mask hook at configure time', () => {
    const mask = jest.fn((v: JsonValue) => v)
    createRedactor({ mask })
    expect(mask).not.toHaveBeenCalled()
  })
})

describe('createRedactor string memo', () => {
  it('gives the same answer for a repeated string, and keeps each redactor\'s own censor', async () => {
    const { createRedactor } = await import('../../src/serialization/redact.js')
    const secret = 'key sk-proj-abcdefghijklmnopqrstuvwxyz0123456789 here'
    const a = createRedactor({ censor: '[A]' })
    const b = createRedactor({ censor: '[B]' })
    expect(a.text(secret)).toBe('key [A] here')
    expect(a.text(secret)).toBe('key [A] here')
    expect(b.text(secret)).toBe('key [B] here')
    for (let i = 0; i < 2000; i++) a.text(`filler ${i}`)   // past the memo's bound: cleared, still right
    expect(a.text(secret)).toBe('key [A] here')
  })
})
