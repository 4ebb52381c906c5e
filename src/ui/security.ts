/**
 * The viewer's security rules as plain functions (docs/ui.md#security): which `Host` headers are
 * accepted, which binds count as loopback, the launch and CSRF tokens, and the response headers.
 * No HTTP framework here, so the rules are tested on their own and `server.ts` only wires them.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto'
import { networkInterfaces, hostname } from 'node:os'

/** @internal The Content-Security-Policy of every response. */
export const CONTENT_SECURITY_POLICY =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"

/** @internal The cookie that carries a `--token` session. */
export const SESSION_COOKIE = 'tracellm_session'

/** @internal The header mutations and `/api/session` carry their token in. */
export const TOKEN_HEADER = 'X-Tracellm-Token'

/** @internal A fresh 32-byte random token, base64url. */
export function newToken(): string {
  return randomBytes(32).toString('base64url')
}

/** @internal Compares a presented token with the expected one in constant time. */
export function sameToken(presented: string | undefined | null, expected: string): boolean {
  if (typeof presented !== 'string') return false
  const a = Buffer.from(presented, 'utf8')
  const b = Buffer.from(expected, 'utf8')
  return a.length === b.length && timingSafeEqual(a, b)
}

/** @internal Whether binding `host` listens on the loopback interface only. */
export function isLoopback(host: string): boolean {
  const bare = host.replace(/^\[|\]$/g, '').toLowerCase()
  return bare === 'localhost' || bare === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(bare)
}

/** @internal `host` as it appears in a URL: IPv6 in brackets. */
export function urlHost(host: string): string {
  const bare = host.replace(/^\[|\]$/g, '')
  return bare.includes(':') ? `[${bare}]` : bare
}

/**
 * @internal The `Host` headers accepted (lowercase), against DNS rebinding: the loopback names with
 * the port, plus, for a non-loopback bind (`--allow-remote`), the bound address, or for a wildcard
 * bind every address of this machine and its host name.
 */
export function allowedHosts(host: string, port: number): ReadonlySet<string> {
  const names = new Set<string>(['127.0.0.1', 'localhost', '[::1]'])
  if (!isLoopback(host)) {
    const bare = host.replace(/^\[|\]$/g, '')
    if (bare === '0.0.0.0' || bare === '::') {
      for (const list of Object.values(networkInterfaces())) {
        for (const info of list ?? []) names.add(urlHost(info.address))
      }
      names.add(hostname())
    } else {
      names.add(urlHost(bare))
    }
  } else if (host !== 'localhost') {
    names.add(urlHost(host))
  }
  return new Set([...names].map((name) => `${name.toLowerCase()}:${port}`))
}

/** @internal Whether a request's `Host` header is on the allow-list (an absent header is not). */
export function isAllowedHost(header: string | undefined | null, allowed: ReadonlySet<string>): boolean {
  return typeof header === 'string' && allowed.has(header.trim().toLowerCase())
}

/** @internal Whether an `Origin` header is this server's own origin, as reached through `host` (already allow-listed). */
export function isSameOrigin(origin: string | undefined | null, host: string): boolean {
  return typeof origin === 'string' && origin.toLowerCase() === `http://${host.trim().toLowerCase()}`
}

/** @internal Whether a `Content-Type` header is JSON (`application/json`, any parameters). */
export function isJsonContentType(header: string | undefined | null): boolean {
  return typeof header === 'string' && /^application\/json\s*(;|$)/i.test(header.trim())
}

/** @internal Reads one cookie from a `Cookie` header. */
export function cookieValue(header: string | undefined | null, name: string): string | undefined {
  if (typeof header !== 'string') return undefined
  for (const part of header.split(';')) {
    const index = part.indexOf('=')
    if (index > 0 && part.slice(0, index).trim() === name) return part.slice(index + 1).trim()
  }
  return undefined
}
