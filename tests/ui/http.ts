// Raw HTTP requests to the viewer with node:http, which (unlike fetch) sends any Host, Origin or
// Sec-Fetch-Site header a test forges.
import { request as httpRequest } from 'node:http'

export interface Reply {
  readonly status: number
  readonly headers: Record<string, string | string[] | undefined>
  readonly body: string
  json<T = any>(): T
}

export interface RequestOptions {
  readonly method?: string
  readonly headers?: Record<string, string>
  readonly body?: string
}

/** Sends one request to 127.0.0.1:`port`; `Host` defaults to `127.0.0.1:<port>`. */
export function request(port: number, path: string, options: RequestOptions = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, path, method: options.method ?? 'GET', headers: { host: `127.0.0.1:${port}`, ...options.headers } }, (res) => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (chunk: string) => { body += chunk })
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body, json: () => JSON.parse(body) }))
    })
    req.on('error', reject)
    if (options.body !== undefined) req.write(options.body)
    req.end()
  })
}

/** Opens an SSE stream and collects its events until `until` returns true or `timeoutMs` passes. */
export function events(port: number, headers: Record<string, string>, until: (text: string) => boolean, timeoutMs: number): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, path: '/api/events', headers: { host: `127.0.0.1:${port}`, ...headers } }, (res) => {
      let text = ''
      const done = (): void => { clearTimeout(timer); req.destroy(); resolve({ status: res.statusCode ?? 0, text }) }
      const timer = setTimeout(done, timeoutMs)
      res.setEncoding('utf8')
      res.on('data', (chunk: string) => { text += chunk; if (until(text)) done() })
      res.on('end', done)
    })
    req.on('error', reject)
    req.end()
  })
}
