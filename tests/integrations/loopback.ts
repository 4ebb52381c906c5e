import { afterAll, beforeAll } from '@jest/globals'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'

/** How the loopback server answers one request: the parsed JSON body and the response to write. */
export type Handler = (body: Record<string, unknown>, res: ServerResponse) => void

/** A loopback HTTP server that speaks a vendor's wire format; each test sets `handler`. */
export interface Loopback {
  /** Set once the server listens, in `beforeAll`. */
  readonly url: string
  handler: Handler
  /** The parsed body of every request so far, oldest first. */
  readonly requests: ReadonlyArray<Record<string, unknown>>
}

/** A loopback server for the test file: it listens before the file's tests and closes after them. */
export function useLoopback(): Loopback {
  const requests: Array<Record<string, unknown>> = []
  const loopback: { -readonly [K in keyof Loopback]: Loopback[K] } = {
    url: '',
    handler: (_body, res) => res.end(),
    requests,
  }
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    let raw = ''
    req.on('data', (chunk: Buffer) => { raw += chunk.toString() })
    req.on('end', () => {
      const body = JSON.parse(raw === '' ? '{}' : raw) as Record<string, unknown>
      requests.push(body)
      loopback.handler(body, res)
    })
  })
  beforeAll(async () => {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    loopback.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  })
  afterAll(async () => {
    server.closeAllConnections()
    await new Promise((resolve) => server.close(resolve))
  })
  return loopback
}

export function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json', 'x-request-id': 'req_123', 'request-id': 'req_123' })
  res.end(JSON.stringify(body))
}

export interface SseOptions {
  /** Prefix each event with `event: <type>` (Anthropic, OpenAI Responses). */
  readonly named?: boolean
  /** End with `data: [DONE]` (OpenAI chat completions). */
  readonly done?: boolean
  /** Keep the connection open after the events, as a model still generating does. */
  readonly hold?: boolean
  /** Destroy the connection after the events, as a network failure mid-stream does. */
  readonly cut?: boolean
}

export function sse(res: ServerResponse, events: ReadonlyArray<unknown>, options: SseOptions = {}): void {
  res.writeHead(200, { 'content-type': 'text/event-stream', 'x-request-id': 'req_123', 'request-id': 'req_123' })
  for (const event of events) {
    const type = (event as { type?: unknown }).type
    res.write(`${options.named === true ? `event: ${String(type)}\n` : ''}data: ${JSON.stringify(event)}\n\n`)
  }
  if (options.hold === true) return
  if (options.cut === true) {
    // after a moment, so that the client has read the events before the connection dies
    setTimeout(() => res.socket?.destroy(), 10)
    return
  }
  if (options.done === true) res.write('data: [DONE]\n\n')
  res.end()
}

/**
 * Lets two macrotasks pass, so that a rejection left unhandled by what the test just ran is reported
 * while the test still runs: jest then fails that test with it. (Jest takes over the process's
 * `unhandledRejection` event, so a test cannot listen for one itself.)
 */
export async function surfaceUnhandledRejections(): Promise<void> {
  await new Promise((resolve) => setImmediate(resolve))
  await new Promise((resolve) => setImmediate(resolve))
}
