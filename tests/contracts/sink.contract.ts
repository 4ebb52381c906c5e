// The one suite every sink passes: call runSinkContract from the sink's own test file.
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals'
import type { TraceDocument } from '../../src/document/document.js'
import type { Sink } from '../../src/export/queue.js'
import { deepFreeze, makeAwkwardDocument, makeDocument, makeDocuments } from '../helpers/documents.js'

/** A fresh sink plus a way to read back what it stored, as camelCase documents in storage order. */
export interface SinkHarness {
  readonly sink: Sink
  readonly readBack: () => Promise<TraceDocument[]>
  readonly cleanup: () => Promise<void> | void
}

export function runSinkContract(name: string, makeSink: () => Promise<SinkHarness>): void {
  describe(`${name} (sink contract)`, () => {
    let harness: SinkHarness

    beforeEach(async () => {
      harness = await makeSink()
    })

    afterEach(async () => {
      await harness.cleanup()
    })

    const write = async (batch: ReadonlyArray<TraceDocument>): Promise<void> => {
      await harness.sink.write(Object.freeze([...batch]))
    }

    it('has a non-empty string name', () => {
      expect(typeof harness.sink.name).toBe('string')
      expect(harness.sink.name.length).toBeGreaterThan(0)
    })

    it('stores a batch and reads back equal documents', async () => {
      const batch = makeDocuments(3)

      await write(batch)

      expect(await harness.readBack()).toEqual(batch)
    })

    it('keeps unicode text and odd keys (__proto__, constructor, "", dots) as data', async () => {
      const doc = makeAwkwardDocument()

      await write([doc])
      const [back] = await harness.readBack()

      expect(back).toEqual(doc)
      expect(Object.prototype.hasOwnProperty.call(back?.metadata, '__proto__')).toBe(true)
      expect(({} as Record<string, unknown>).polluted).toBeUndefined()
    })

    it('keeps documents with an error, no input or output, and optional fields', async () => {
      const failed = makeDocument({
        status: 'error',
        error: { type: 'TypeError', message: 'boom', stack: 'TypeError: boom\n    at x', cause: { type: 'Error', message: 'root' } },
        input: undefined,
        output: undefined,
        modelName: 'gpt-4o',
        retryCount: 2,
        usage: { inputTokens: 10, outputTokens: 20 },
      })
      const { input: _input, output: _output, ...withoutCapture } = failed

      await write([withoutCapture as TraceDocument])

      expect(await harness.readBack()).toEqual([withoutCapture])
    })

    it('accepts an empty batch', async () => {
      await write([])

      expect(await harness.readBack()).toEqual([])
    })

    it('does not mutate the frozen batch or its documents', async () => {
      const batch = [makeDocument(), makeAwkwardDocument()]
      const before = JSON.stringify(batch)
      const frozen = deepFreeze(batch)

      await harness.sink.write(frozen)

      expect(JSON.stringify(frozen)).toBe(before)
      expect(await harness.readBack()).toHaveLength(2)
    })

    it('preserves order across batches', async () => {
      const docs = makeDocuments(7)

      await write(docs.slice(0, 3))
      await write(docs.slice(3, 4))
      await write(docs.slice(4))

      expect((await harness.readBack()).map((doc) => doc.prompt)).toEqual(docs.map((doc) => doc.prompt))
    })

    it('runs its optional flush() and close() without error', async () => {
      await write(makeDocuments(1))

      await harness.sink.flush?.()
      await harness.sink.close?.()

      expect(await harness.readBack()).toHaveLength(1)
    })
  })
}
