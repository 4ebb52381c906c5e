// Formatting for display: every function returns text, never markup.

export const short = (id: string): string => id.slice(0, 8)
export const time = (iso: string): string => {
  const date = new Date(iso)
  return Number.isNaN(date.getTime()) ? iso : date.toLocaleString()
}
export const duration = (ms: number | null | undefined): string =>
  ms == null ? '' : ms < 1000 ? `${Math.round(ms * 10) / 10} ms` : `${(ms / 1000).toFixed(2)} s`
export const cost = (usd: number | null): string => (usd == null ? '' : `$${usd.toFixed(4)}`)
export const pretty = (value: unknown): string => {
  if (value === undefined) return ''
  if (typeof value === 'string') return value
  try { return JSON.stringify(value, null, 2) } catch { return String(value) }
}
