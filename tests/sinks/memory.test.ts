import { describe, expect, it } from '@jest/globals'
import { memorySink } from '../../src/sinks/memory.js'
import { runSinkContract } from '../contracts/sink.contract.js'
import { makeDocuments } from '../helpers/documents.js'

runSinkContract('memorySink', async () => {
  const sink = memorySink()
  return { sink, readBack: async () => [...sink.traces], cleanup: () => undefined }
})

describe('memorySink', () => {
  it('keeps the documents themselves, in arrival order', () => {
    const sink = memorySink()
    const docs = makeDocuments(3)

    sink.write(Object.freeze(docs.slice(0, 2)))
    sink.write(Object.freeze(docs.slice(2)))

    expect(sink.traces).toHaveLength(3)
    sink.traces.forEach((doc, index) => expect(doc).toBe(docs[index]))
  })

  it('keeps only the newest `limit` documents', () => {
    const sink = memorySink({ limit: 3 })
    const docs = makeDocuments(5)

    sink.write(Object.freeze(docs.slice(0, 2)))
    sink.write(Object.freeze(docs.slice(2)))

    expect(sink.traces.map((doc) => doc.prompt)).toEqual(['doc-2', 'doc-3', 'doc-4'])
  })

  it('keeps the newest `limit` documents of a batch larger than the limit', () => {
    const sink = memorySink({ limit: 2 })

    sink.write(Object.freeze(makeDocuments(5)))

    expect(sink.traces.map((doc) => doc.prompt)).toEqual(['doc-3', 'doc-4'])
  })

  it('keeps 10 000 documents by default', () => {
    const sink = memorySink()
    const docs = makeDocuments(10_001)

    for (let index = 0; index < docs.length; index += 100) sink.write(Object.freeze(docs.slice(index, index + 100)))

    expect(sink.traces).toHaveLength(10_000)
    expect(sink.traces[0]?.prompt).toBe('doc-1')
  })

  it('empties on clear()', () => {
    const sink = memorySink()
    sink.write(Object.freeze(makeDocuments(2)))

    sink.clear()

    expect(sink.traces).toEqual([])
  })

  it.each([0, -1, 1.5, Number.NaN, '10'])('throws a TypeError for limit %p', (limit) => {
    expect(() => memorySink({ limit: limit as number })).toThrow(new TypeError(`Expected \`limit\` to be a positive integer, got ${String(limit)}.`))
  })

  it('is named "memory"', () => {
    expect(memorySink().name).toBe('memory')
  })
})
