// The redaction corpora (docs/reliability.md#redaction-what-a-leaked-credential-scanner-would-catch):
// realistic secrets of many providers' formats, and ordinary values that must pass untouched.
//
// Every secret is built at run time from its provider's prefix and seeded random characters, so this
// repository holds nothing that looks like a real credential (push protection and secret scanners
// would rightly flag it). `random` lists the parts that must never reach a sink, not even 8 characters
// of them.

/** mulberry32: the same corpus on every run. */
function prng(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

const random = prng(0x5eed)

const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789'
const CHARSETS = {
  A: ALNUM,
  U: `${ALNUM}_-`,
  H: '0123456789abcdef',
  L: 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz',
  D: '0123456789',
  C: 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789',
  B: `${ALNUM}+/`,
} as const

type Charset = keyof typeof CHARSETS

/** n random characters of a charset; the first is a letter where the charset has letters, so no run looks like a number. */
function chars(set: Charset, n: number): string {
  const alphabet = CHARSETS[set]
  let out = ''
  for (let i = 0; i < n; i++) out += alphabet[Math.floor(random() * alphabet.length)]
  return out
}

export interface CorpusSecret {
  readonly provider: string
  readonly name: string
  /** The credential as it is written: `sk-proj-…`, a connection string, a PEM block. */
  readonly secret: string
  /** Parts no sink may show, not even 8 characters of them. */
  readonly random: ReadonlyArray<string>
  /**
   * Unset: recognizable alone (a prefix, a URL with a password, a PEM block). Set: the secret has no
   * shape of its own (a 40-character key of Cohere, a password), so it is recognizable only by the
   * name it is stored under, as a scanner sees it: this name.
   */
  readonly name_?: string
}

interface Part {
  readonly text: string
  readonly random: boolean
}

const r = (set: Charset, n: number): Part => ({ text: chars(set, n), random: true })
const t = (text: string): Part => ({ text, random: false })
/** Random, but not secret: an id beside the secret (a webhook id, a key id). */
const f = (set: Charset, n: number): Part => ({ text: chars(set, n), random: false })

function secret(provider: string, name: string, parts: ReadonlyArray<Part | string>, name_?: string): CorpusSecret {
  const all = parts.map((p) => (typeof p === 'string' ? t(p) : p))
  return {
    provider,
    name,
    secret: all.map((p) => p.text).join(''),
    random: all.filter((p) => p.random).map((p) => p.text),
    ...(name_ === undefined ? {} : { name_ }),
  }
}

function pem(kind: string): Part[] {
  const lines: Part[] = [t(`-----BEGIN ${kind}PRIVATE KEY-----\n`)]
  for (let i = 0; i < 6; i++) lines.push(r('B', 64), t('\n'))
  lines.push(t(`-----END ${kind}PRIVATE KEY-----`))
  return lines
}

export const SECRETS: ReadonlyArray<CorpusSecret> = [
  secret('OpenAI', 'project key', ['sk-proj-', r('U', 74), 'T3BlbkFJ', r('U', 74)]),
  secret('OpenAI', 'legacy user key', ['sk-', r('A', 20), 'T3BlbkFJ', r('A', 20)]),
  secret('OpenAI', 'service account key', ['sk-svcacct-', r('U', 74), 'T3BlbkFJ', r('U', 74)]),
  secret('OpenAI', 'admin key', ['sk-admin-', r('U', 58), 'T3BlbkFJ', r('U', 58)]),
  secret('Anthropic', 'API key', ['sk-ant-api03-', r('U', 93), 'AA']),
  secret('Anthropic', 'admin key', ['sk-ant-admin01-', r('U', 93), 'AA']),
  secret('AWS', 'access key id', ['AKIA', r('C', 16)]),
  secret('AWS', 'temporary access key id', ['ASIA', r('C', 16)]),
  secret('AWS', 'secret access key', [r('B', 40)], 'AWS_SECRET_ACCESS_KEY'),
  secret('GitHub', 'classic PAT', ['ghp_', r('A', 36)]),
  secret('GitHub', 'OAuth token', ['gho_', r('A', 36)]),
  secret('GitHub', 'user-to-server token', ['ghu_', r('A', 36)]),
  secret('GitHub', 'installation token', ['ghs_', r('A', 36)]),
  secret('GitHub', 'refresh token', ['ghr_', r('A', 36)]),
  secret('GitHub', 'fine-grained PAT', ['github_pat_', r('A', 22), '_', r('A', 59)]),
  secret('GitLab', 'personal access token', ['glpat-', r('U', 20)]),
  secret('GitLab', 'runner token', ['glrt-', r('U', 20)]),
  secret('Slack', 'bot token', ['xoxb-', r('D', 13), '-', r('D', 13), '-', r('A', 24)]),
  secret('Slack', 'user token', ['xoxp-', r('D', 13), '-', r('D', 13), '-', r('D', 13), '-', r('H', 32)]),
  secret('Slack', 'app-level token', ['xapp-1-', r('C', 11), '-', r('D', 13), '-', r('H', 64)]),
  secret('Slack', 'incoming webhook', ['https://hooks.slack.com/services/T', r('C', 10), '/B', r('C', 10), '/', r('A', 24)]),
  secret('Stripe', 'live secret key', ['sk_live_', r('A', 99)]),
  secret('Stripe', 'test secret key', ['sk_test_', r('A', 99)]),
  secret('Stripe', 'restricted key', ['rk_live_', r('A', 99)]),
  secret('Stripe', 'webhook signing secret', ['whsec_', r('A', 32)]),
  secret('Twilio', 'API key SID', ['SK', r('H', 32)]),
  secret('Twilio', 'auth token', [r('H', 32)], 'TWILIO_AUTH_TOKEN'),
  secret('SendGrid', 'API key', ['SG.', r('U', 22), '.', r('U', 43)]),
  secret('Mailgun', 'legacy API key', ['key-', r('H', 32)]),
  secret('Mailgun', 'API key', [r('H', 32), '-', r('H', 8), '-', r('H', 8)], 'MAILGUN_API_KEY'),
  secret('Google', 'API key', ['AIza', r('U', 35)]),
  secret('Google', 'OAuth access token', ['ya29.', r('U', 120)]),
  secret('GCP', 'service account key file', ['{"type": "service_account", "project_id": "acme-prod", "private_key_id": "', f('H', 40), '", "private_key": "-----BEGIN PRIVATE KEY-----\\n', r('B', 64), '\\n', r('B', 64), '\\n', r('B', 40), '\\n-----END PRIVATE KEY-----\\n", "client_email": "ci@acme-prod.iam.gserviceaccount.com"}']),
  secret('Azure', 'storage connection string', ['DefaultEndpointsProtocol=https;AccountName=acmestore;AccountKey=', r('B', 86), '==;EndpointSuffix=core.windows.net']),
  secret('Azure', 'Service Bus connection string', ['Endpoint=sb://acme.servicebus.windows.net/;SharedAccessKeyName=RootManageSharedAccessKey;SharedAccessKey=', r('B', 43), '=']),
  secret('Azure', 'client secret', [r('U', 6), '~', r('U', 33)], 'AZURE_CLIENT_SECRET'),
  secret('Hugging Face', 'user access token', ['hf_', r('L', 34)]),
  secret('npm', 'access token', ['npm_', r('A', 36)]),
  secret('PyPI', 'API token', ['pypi-AgEIcHlwaS5vcmc', r('U', 60)]),
  secret('Discord', 'bot token', ['M', r('A', 25), '.', r('U', 6), '.', r('U', 38)]),
  secret('Discord', 'webhook URL', ['https://discord.com/api/webhooks/', f('D', 18), '/', r('U', 68)]),
  secret('Telegram', 'bot token', [r('D', 10), ':AA', r('U', 33)]),
  secret('Shopify', 'admin API access token', ['shpat_', r('H', 32)]),
  secret('Shopify', 'shared secret', ['shpss_', r('H', 32)]),
  secret('DigitalOcean', 'personal access token', ['dop_v1_', r('H', 64)]),
  secret('DigitalOcean', 'OAuth token', ['doo_v1_', r('H', 64)]),
  secret('Heroku', 'API key', ['HRKU-AA', r('U', 58)]),
  secret('Heroku', 'legacy API key', [r('H', 8), '-', r('H', 4), '-', r('H', 4), '-', r('H', 4), '-', r('H', 12)], 'HEROKU_API_KEY'),
  secret('Datadog', 'API key', [r('H', 32)], 'DD_API_KEY'),
  secret('Datadog', 'application key', [r('H', 40)], 'DD_APP_KEY'),
  secret('New Relic', 'user API key', ['NRAK-', r('C', 27)]),
  secret('New Relic', 'browser API key', ['NRJS-', r('H', 20)]),
  secret('Sentry', 'DSN', ['https://', r('H', 32), '@o', f('D', 6), '.ingest.sentry.io/', f('D', 7)]),
  secret('Databricks', 'access token', ['dapi', r('H', 32)]),
  secret('Doppler', 'personal token', ['dp.pt.', r('A', 43)]),
  secret('Doppler', 'service account token', ['dp.sa.', r('A', 43)]),
  secret('Linear', 'API key', ['lin_api_', r('A', 40)]),
  secret('Notion', 'integration secret', ['secret_', r('A', 43)]),
  secret('Notion', 'integration token', ['ntn_', r('D', 11), r('A', 35)]),
  secret('Postman', 'API key', ['PMAK-', r('H', 24), '-', r('H', 34)]),
  secret('PlanetScale', 'service token', ['pscale_tkn_', r('U', 43)]),
  secret('PlanetScale', 'password', ['pscale_pw_', r('U', 43)]),
  secret('Supabase', 'access token', ['sbp_', r('H', 40)]),
  secret('Supabase', 'secret key', ['sb_secret_', r('U', 31)]),
  secret('Vercel', 'access token', ['vcp_', r('A', 56)]),
  secret('Vercel', 'legacy token', [r('A', 24)], 'VERCEL_TOKEN'),
  secret('Cloudflare', 'API token', [r('U', 40)], 'CLOUDFLARE_API_TOKEN'),
  secret('Cloudflare', 'global API key', [r('H', 37)], 'CF_API_KEY'),
  secret('Groq', 'API key', ['gsk_', r('A', 52)]),
  secret('Replicate', 'API token', ['r8_', r('A', 37)]),
  secret('Cohere', 'API key', [r('A', 40)], 'CO_API_KEY'),
  secret('Mistral', 'API key', [r('A', 32)], 'MISTRAL_API_KEY'),
  secret('Perplexity', 'API key', ['pplx-', r('A', 48)]),
  secret('xAI', 'API key', ['xai-', r('A', 80)]),
  secret('Tavily', 'API key', ['tvly-dev-', r('A', 32)]),
  secret('LangSmith', 'personal access token', ['lsv2_pt_', r('H', 32), '_', r('H', 10)]),
  secret('LangSmith', 'service key', ['lsv2_sk_', r('H', 32), '_', r('H', 10)]),
  secret('Grafana', 'cloud API token', ['glc_', r('A', 60)]),
  secret('Grafana', 'service account token', ['glsa_', r('A', 32), '_', r('H', 8)]),
  secret('HashiCorp Vault', 'service token', ['hvs.', r('U', 91)]),
  secret('Docker', 'personal access token', ['dckr_pat_', r('U', 27)]),
  secret('Figma', 'personal access token', ['figd_', r('U', 40)]),
  secret('1Password', 'service account token', ['ops_eyJ', r('A', 120), 'fQ==']),
  secret('JWT', 'signed token', ['eyJ', r('U', 30), '.eyJ', r('U', 60), '.', r('U', 43)]),
  secret('PEM', 'RSA private key', pem('RSA ')),
  secret('PEM', 'OpenSSH private key', pem('OPENSSH ')),
  secret('PEM', 'EC private key', pem('EC ')),
  secret('URL', 'basic auth in an https URL', ['https://deploy:', r('A', 20), '@git.example.com/org/repo.git']),
  secret('URL', 'PostgreSQL URL password', ['postgres://app:', r('A', 16), '@db.internal:5432/prod']),
  secret('URL', 'MongoDB URL password', ['mongodb+srv://admin:', r('A', 18), '@cluster0.abcd.mongodb.net/app']),
  secret('URL', 'Redis URL password', ['redis://:', r('A', 24), '@cache.internal:6379']),
  secret('HTTP', 'Bearer token', ['Bearer ', r('U', 40)]),
  secret('ADO.NET', 'password in a connection string', ['Server=db.internal;Database=app;User Id=sa;Password=', r('A', 16), ';']),
  secret('generic', 'password', [r('A', 14)], 'password'),
  secret('generic', 'database password', [r('A', 14)], 'DB_PASSWORD'),
  secret('generic', 'session id', [r('A', 32)], 'sessionid'),
]

/** Text carrying a secret the way it would be written: the secret alone, or `NAME=secret`. */
export function written(entry: CorpusSecret): string {
  return entry.name_ === undefined ? entry.secret : `${entry.name_}=${entry.secret}`
}

const UUID = (): string => `${chars('H', 8)}-${chars('H', 4)}-4${chars('H', 3)}-a${chars('H', 3)}-${chars('H', 12)}`

/** Values that are not secrets: ids, hashes and prose that mentions passwords, tokens and authorization. */
export const ORDINARY_VALUES: ReadonlyArray<string> = [
  ...Array.from({ length: 8 }, UUID),
  ...Array.from({ length: 6 }, () => chars('H', 40)),                      // git SHAs
  ...Array.from({ length: 6 }, () => chars('H', 64)),                      // sha256
  ...Array.from({ length: 4 }, () => chars('H', 32)),                      // W3C trace ids, md5
  ...Array.from({ length: 4 }, () => chars('H', 16)),                      // span ids
  ...Array.from({ length: 6 }, () => chars('U', 21)),                      // nanoid
  ...Array.from({ length: 4 }, () => `${chars('A', 22)}==`),               // base64 ids
  ...Array.from({ length: 3 }, () => `00-${chars('H', 32)}-${chars('H', 16)}-01`),   // traceparent
  ...Array.from({ length: 3 }, () => `01${chars('C', 24)}`),               // ULID
  'chatcmpl-' + chars('A', 29),                                           // an OpenAI completion id
  'msg_' + chars('A', 24),                                                // an Anthropic message id
  'req_' + chars('A', 24),                                                // a request id
  'cus_' + chars('A', 14),                                                // a Stripe customer id
  'Authorization: pending manager review',
  'Authorization: required before the refund is issued',
  'Authorization is the process of deciding what a user may do.',
  'The password policy requires 12 characters and a symbol.',
  'Reset your password from the account settings page.',
  'Tokens are counted per request: 1,234 input tokens and 56 output tokens.',
  'The tokenizer splits text into tokens before the model sees it.',
  'Set max_tokens=1024 and temperature=0.2 for short answers.',
  'The secretary filed the minutes of the meeting.',
  'Our secret sauce is a well-written system prompt.',
  'Cookie consent was given on the landing page.',
  'The bearer of bad news arrived at noon.',
  'Use an API key from the dashboard; never paste it into a chat.',
  'Credentials are rotated every 90 days by the platform team.',
  'Session expired; please sign in again.',
  'The private key never leaves the hardware module.',
  'password reset link sent to the user',
  'Your access token expires in 3600 seconds.',
  'What is retrieval-augmented generation, and when should I use it?',
  'Summarize the quarterly report in three bullet points.',
  'https://example.com/docs/guide?page=2&sort=asc#intro',
  'https://user@example.com/path',
  'ssh://git@github.com/org/repo.git',
  'git@github.com:org/repo.git',
  'mongodb://localhost:27017/app',
  'postgres://db.internal:5432/prod',
  'http://localhost:3000/api/v1/items?limit=20',
  'someone@example.com',
  '2026-11-24T10:00:00.000Z',
  '/usr/local/lib/node_modules/npm/bin/npm-cli.js',
  'node:20-alpine',
  'scikit-learn and sk-learn-compatible estimators',
  'task-runner-background-worker-queue-v2',
  'gpt-4o-mini-2024-07-18',
  'claude-3-5-sonnet-20241022',
  'text-embedding-3-large',
  'key: value pairs are separated by a colon',
  'Note: results may vary between runs.',
  'ERROR 1045 (28000): Access denied for user',
  'status=200 duration_ms=153 route=/v1/chat',
  'temperature=0.7',
  'token_count=5120',
]

/** Key names that are not secrets: each is stored with an ordinary value, which must stay. */
export const ORDINARY_KEYS: ReadonlyArray<string> = [
  'secretary', 'passwordPolicy', 'password_policy', 'passwordHint', 'passwordLength', 'passwordRequired', 'cookieConsent',
  'cookie_consent', 'tokenizer', 'max_tokens', 'maxTokens', 'input_tokens', 'output_tokens', 'total_tokens',
  'prompt_tokens', 'completion_tokens', 'token_count', 'tokenLimit', 'tokenUsage', 'tokenType', 'token_type',
  'accessKeyId', 'apiKeyName', 'secretName', 'tokenExpires', 'hasPassword', 'isSecret', 'authUrl', 'author',
  'session', 'passage', 'keyboard', 'monkey', 'credentialsProvider', 'authorizationUrl',
]
