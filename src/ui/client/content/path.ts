// JSON paths of the viewer's trees (docs/ui.md#content-rendering): `$.messages[3].content`, odd keys
// in brackets (`$['content-type']`, `$['it\'s']`), as `copy JSON path` copies them and `&path=` holds
// them. Pure: no DOM.

/** One step of a path: an object key or an array index. */
export type PathKey = string | number

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/

/** The JSON path of `keys` from the root `$`. */
export function jsonPath(keys: ReadonlyArray<PathKey>): string {
  let out = '$'
  for (const key of keys) {
    if (typeof key === 'number') out += `[${key}]`
    else if (IDENTIFIER.test(key)) out += `.${key}`
    else out += `['${quote(key)}']`
  }
  return out
}

/** The keys of a path `jsonPath` wrote, or null when `path` is not one. */
export function parsePath(path: string): PathKey[] | null {
  if (!path.startsWith('$')) return null
  const keys: PathKey[] = []
  let at = 1
  while (at < path.length) {
    const char = path[at]
    if (char === '.') {
      const match = /^[A-Za-z_$][A-Za-z0-9_$]*/.exec(path.slice(at + 1))
      if (match === null) return null
      keys.push(match[0])
      at += 1 + match[0].length
    } else if (char === '[' && path[at + 1] === "'") {
      let key = ''
      let i = at + 2
      for (; i < path.length && path[i] !== "'"; i++) {
        if (path[i] !== '\\') { key += path[i]; continue }
        const next = path[i + 1]
        if (next === 'u') { key += String.fromCharCode(parseInt(path.slice(i + 2, i + 6), 16)); i += 5 }
        else { key += next === 'n' ? '\n' : next === 't' ? '\t' : next === 'r' ? '\r' : (next ?? ''); i += 1 }
      }
      if (path[i] !== "'" || path[i + 1] !== ']') return null
      keys.push(key)
      at = i + 2
    } else if (char === '[') {
      const match = /^\[(\d+)\]/.exec(path.slice(at))
      if (match === null) return null
      keys.push(Number(match[1]))
      at += match[0].length
    } else return null
  }
  return keys
}

/** The path with every index as `[*]`: the key a per-field choice (Text / Markdown / JSON) is kept under. */
export const pathPattern = (keys: ReadonlyArray<PathKey>): string => jsonPath(keys.map((key) => (typeof key === 'number' ? -1 : key))).replace(/\[-1\]/g, '[*]')

/** Whether `prefix` is `keys` or one of its ancestors. */
export const isPrefix = (prefix: ReadonlyArray<PathKey>, keys: ReadonlyArray<PathKey>): boolean =>
  prefix.length <= keys.length && prefix.every((key, index) => key === keys[index])

function quote(key: string): string {
  return key.replace(/[\\'\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g, (char) => {
    if (char === '\\' || char === "'") return `\\${char}`
    if (char === '\n') return '\\n'
    if (char === '\t') return '\\t'
    if (char === '\r') return '\\r'
    return `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`
  })
}
