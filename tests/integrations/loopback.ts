import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'

/** How the loopback server answers one request: the parsed JSON body and the response to write. */
export type Handler = (body: Record<string, unknown>, res: ServerResponse) => void

/** A loopback HTTP server that speaks a vendor's wire format; each test sets `handler`. */
export interface Loopback {
  readonly url: string
  handler: Handler
  readonly close: () => Promise<void>
}

export async function startLoopback(): Promise<Loopback> {
  const loopback: { -readonly [K in keyof Loopback]: Loopback[K] } = {
    url: '',
    handler: (_body, res) => res.end(),
    close: async () => {
      server.closeAllConnections()
      await new Promise((resolve) => server.close(resolve))
    },
  }
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    let raw = ''
    req.on('data', (chunk: Buffer) => { raw += chunk.toString() })
    req.on('end', () => {
      loopback.handler(JSON.parse(raw === '' ? '{}' : raw) as Record<string, unknown>, res)
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  loopback.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
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
}

export function sse(res: ServerResponse, events: ReadonlyArray<unknown>, options: SseOptions = {}): void {
  res.writeHead(200, { 'content-type': 'text/event-stream', 'x-request-id': 'req_123', 'request-id': 'req_123' })
  for (const event of events) {
    const type = (event as { type?: unknown }).type
    res.write(`${options.named === true ? `event: ${String(type)}\n` : ''}data: ${JSON.stringify(event)}\n\n`)
  }
  if (options.hold === true) return
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
