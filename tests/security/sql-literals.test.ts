// docs/stores.md: every value reaches SQL as a bound parameter. A template literal that holds SQL and
// a `${` substitution is how values get spliced into queries, so none may exist in src/.
import { describe, expect, it } from '@jest/globals'
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

const SRC = fileURLToPath(new URL('../../src', import.meta.url))
const SQL = /\b(SELECT|INSERT|UPDATE|DELETE|CREATE|DROP|ALTER|PRAGMA|WHERE|FROM|VALUES|pragma)\b/

/** Template literals (top level, nested ones included in their parent) that contain SQL and a substitution. */
export function sqlTemplates(source: string): string[] {
  const found: string[] = []
  const literal = /`(?:\\[\s\S]|[^`\\])*`/g
  for (const match of source.matchAll(literal)) {
    const text = match[0]
    if (text.includes('${') && SQL.test(text)) found.push(text.length > 120 ? `${text.slice(0, 120)}…` : text)
  }
  return found
}

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? files(join(dir, entry.name)) : entry.name.endsWith('.ts') ? [join(dir, entry.name)] : [])
}

describe('SQL in src/', () => {
  it('finds a SQL template literal with a substitution (the check itself works)', () => {
    expect(sqlTemplates('db.query(`SELECT * FROM traces WHERE id = ${id}`)')).toHaveLength(1)
    expect(sqlTemplates("db.prepare('SELECT * FROM traces WHERE id = ?')")).toEqual([])
    expect(sqlTemplates('warn(`cannot open the store ${path}`)')).toEqual([])
  })

  it('has no template literal that splices values into SQL', () => {
    const offenders = files(SRC).flatMap((file) => sqlTemplates(readFileSync(file, 'utf8')).map((text) => `${file}: ${text}`))

    expect(offenders).toEqual([])
  })
})
