// A client that goes away cancels the store's read (docs/ui.md#api): the count and the list hand
// the request's signal to the store, which stops a text scan on its worker thread.
import { request as httpRequest } from 'node:http'
import { afterEach, describe, expect, it } from '@jest/globals'
import type { ReadOptions } from '../../src/stores/types.js'
import { startUiServer } from '../../src/ui/server.js'
import type { UiServer } from '../../src/ui/types.js'
import { makeDocument } from '../helpers/documents.js'
import { fakeStore, type FakeStore } from './fake-store.js'

/** A store whose `count` and `list` never answer, and report when their signal fires. */
function hangingStore(): { store: FakeStore; started: Promise<string>; aborted: Promise<string> } {
  let onStart: (what: string) => void = () => undefined
  let onAbort: (what: string) => void = () => undefined
  const started = new Promise<string>((resolve) => { onStart = resolve })
  const aborted = new Promise<string>((resolve) => { onAbort = resolve })
  const hang = (what: string, options: ReadOptions | undefined): Promise<never> => {
    onStart(what)
    return new Promise((_, reject) => {
      options?.signal?.addEventListener('abort', () => {
        onAbort(what)
        reject(Object.assign(new Error('aborted'), { name: 'AbortError' }))
      }, { once: true })
    })
  }
  const base = fakeStore([makeDocument()])
  const store: FakeStore = { ...base, count: (_query, options) => hang('count', options), list: (_query, options) => hang('list', options) }
  return { store, started, aborted }
}

/** Sends a GET and destroys the connection once `started` resolves. */
function abandon(port: number, path: string, started: Promise<unknown>): void {
  const req = httpRequest({ host: '127.0.0.1', port, path, headers: { host: `127.0.0.1:${port}` } })
  req.on('error', () => undefined)
  req.end()
  void started.then(() => req.destroy())
}

const within = <T>(promise: Promise<T>, ms: number): Promise<T | 'still running'> =>
  Promise.race([promise, new Promise<'still running'>((resolve) => setTimeout(() => resolve('still running'), ms).unref())])

describe('cancelling reads', () => {
  let server: UiServer | undefined

  afterEach(async () => {
    await server?.close()
    server = undefined
  })

  it.each([
    ['count', '/api/traces/count?text=needle'],
    ['list', '/api/traces?text=needle'],
  ])('aborts the store\'s %s when the client disconnects', async (what, path) => {
    const { store, started, aborted } = hangingStore()
    server = await startUiServer({ store, storeLabel: 'x.db', port: 0 })

    abandon(server.port, path, started)

    expect(await started).toBe(what)
    expect(await within(aborted, 5000)).toBe(what)
  })
})
