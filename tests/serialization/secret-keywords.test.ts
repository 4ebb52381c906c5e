// The keyword scan that decides which of secretlint's rules run on a string
// (docs/reliability.md#redaction-what-a-leaked-credential-scanner-would-catch): one pass must find
// exactly the keywords that testing each keyword on its own finds, overlapping ones included.
import { describe, expect, it } from '@jest/globals'
import fc from 'fast-check'
import { keywordsIn } from '../../src/serialization/secret-patterns.js'
import { UPSTREAM_RULES } from '../../src/serialization/secret-rules.js'

const KEYWORDS = [...new Set(UPSTREAM_RULES.flatMap((rule) => rule.keywords))]

function byIncludes(lower: string): string[] {
  return KEYWORDS.filter((keyword) => lower.includes(keyword)).sort()
}

function byScan(lower: string): string[] {
  return [...(keywordsIn(lower) ?? [])].sort()
}

describe('keywordsIn', () => {
  it('finds keywords that start at the same place, overlap or repeat', () => {
    const cases = ['xoxbxoxp', 'postgresql://', 'ghp_ghs_ghr', 'sk-ant-api0', 'throughput', 'hvs.hvb.hvr.', 'https://hooks.slack.com/services/t0', 'mysqlmongodb', 'figd_dckr_pat_']
    for (const text of cases) expect(byScan(text)).toEqual(byIncludes(text))
    expect(keywordsIn('plain prose about nothing in particular')).toBeUndefined()
  })

  it('agrees with one includes() per keyword on text made of keywords, their pieces and noise', () => {
    const piece = fc.oneof(
      fc.constantFrom(...KEYWORDS),
      fc.constantFrom(...KEYWORDS).chain((keyword) => fc.nat(keyword.length).map((cut) => keyword.slice(0, cut))),
      fc.constantFrom(...KEYWORDS).chain((keyword) => fc.nat(keyword.length).map((cut) => keyword.slice(cut))),
      fc.string({ maxLength: 4 }),
    )
    fc.assert(fc.property(fc.array(piece, { maxLength: 12 }), (pieces) => {
      const lower = pieces.join('').toLowerCase()
      expect(byScan(lower)).toEqual(byIncludes(lower))
    }), { numRuns: 2000 })
  })
})
