import { describe, expect, it } from '@jest/globals'
import { mkdtemp, readFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { configure, flush, jsonlSink, memorySink, trace, traceTool } from '../../src/index.js'

const OPENAI_KEY = 'sk-proj-abcdefghijklmnopqrstuvwxyz0123456789ABCD'
const BEARER = 'Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U'

describe('redaction on the finished record', () => {
  it('masks secrets in inputs, outputs, metadata, names, error messages and stacks, in every sink', async () => {
    const memory = memorySink()
    const dir = await mkdtemp(join(tmpdir(), 'tracellm-redact-'))
    const path = join(dir, 'traces.jsonl')
    configure({ sinks: [memory, jsonlSink({ path })], redact: { keys: ['ssn'] } })

    const call = traceTool({ name: `call ${OPENAI_KEY}` })(async (request: { headers: Record<string, string>; url: string }) => {
      if (request.url.includes('fail')) throw new Error(`401 for key ${OPENAI_KEY}`)
      return { ok: true, echo: `auth was ${request.headers.Authorization}`, deep: { a: { b: { c: { apiKey: 'plain-value-123' } } } } }
    })
    const run = trace({ prompt: 'redaction', metadata: { dbPassword: 'hunter22', customer: { ssn: '123-45-6789' } } })(async (url: string) => {
      await call({ headers: { Authorization: BEARER, 'x-api-key': 'abc123456' }, url: `postgres://app:s3cretpw@db.internal:5432/prod?x=${url}` })
      await call({ headers: {}, url: 'fail' }).catch(() => undefined)
      return 'done'
    })

    expect(await run('ok')).toBe('done')
    await flush()

    const stored = await readFile(path, 'utf8')
    for (const text of [JSON.stringify(memory.traces[0]), stored]) {
      for (const secret of [OPENAI_KEY, 'eyJhbGciOiJIUzI1NiJ9', 'abc123456', 's3cretpw', 'hunter22', '123-45-6789', 'plain-value-123']) {
        expect(text).not.toContain(secret)
      }
      expect(text).toContain('[REDACTED]')
      expect(text).toContain('db.internal')   // only the password of the URL is masked
    }
    const failed = memory.traces[0]!.steps[1]!
    expect(failed.error?.message).toBe('401 for key [REDACTED]')
    expect(failed.error?.stack ?? '').not.toContain(OPENAI_KEY)
  })
})
