/**
 * The `redact.paths` option (docs/capture-and-redaction.md): dotted and bracket paths, with `*`,
 * compiled into a trie that redaction walks alongside the value.
 */

// ---------------------------------------------------------------------------------------------------
// Paths

/** @internal */
export interface PathNode {
  readonly children: Map<string, PathNode>
  star: PathNode | undefined
  end: boolean
}

const STAR: unique symbol = Symbol('*')
type Segment = string | typeof STAR

function newNode(): PathNode {
  return { children: new Map(), star: undefined, end: false }
}

/** @internal */
export function isEnd(node: PathNode): boolean {
  return node.end
}

/** The trie nodes reached from `nodes` through `key`, or undefined when no path continues. @internal */
export function step(nodes: ReadonlyArray<PathNode>, key: string): ReadonlyArray<PathNode> | undefined {
  let next: PathNode[] | undefined
  for (const node of nodes) {
    const exact = node.children.get(key)
    if (exact !== undefined) (next ??= []).push(exact)
    if (node.star !== undefined) (next ??= []).push(node.star)
  }
  return next
}

function parsePath(path: string): Segment[] {
  const fail = (why: string): never => {
    throw new TypeError(`Expected \`redact.paths\` entries to be paths like "input[0].user.ssn": ${JSON.stringify(path)} ${why}.`)
  }
  const segments: Segment[] = []
  let i = 0
  const ident = (): void => {
    const start = i
    while (i < path.length && path[i] !== '.' && path[i] !== '[' && path[i] !== ']') i++
    if (i === start) fail(`has an empty segment at ${start}`)
    const name = path.slice(start, i)
    segments.push(name === '*' ? STAR : name)
  }
  const bracket = (): void => {
    i++   // [
    const close = (): void => {
      if (path[i] !== ']') fail(`has an unclosed [ at ${i}`)
      i++
    }
    const c = path[i]
    if (c === '*') {
      i++
      segments.push(STAR)
      close()
    } else if (c === '"' || c === "'") {
      const end = path.indexOf(c, i + 1)
      if (end === -1) fail('has an unterminated quote')
      segments.push(path.slice(i + 1, end))
      i = end + 1
      close()
    } else {
      const start = i
      while (i < path.length && path.charCodeAt(i) >= 48 && path.charCodeAt(i) <= 57) i++
      if (i === start) fail(`needs an index, * or a quoted key inside [ ] at ${start}`)
      segments.push(String(Number(path.slice(start, i))))
      close()
    }
  }
  if (path.length === 0) fail('is empty')
  if (path[0] === '[') bracket()
  else ident()
  while (i < path.length) {
    const c = path[i]
    if (c === '.') {
      i++
      ident()
    } else if (c === '[') bracket()
    else fail(`has an unexpected ${JSON.stringify(c)} at ${i}`)
  }
  return segments
}

/** @internal */
export function compilePaths(paths: ReadonlyArray<string>): PathNode | undefined {
  if (paths.length === 0) return undefined
  const root = newNode()
  for (const path of paths) {
    let node = root
    for (const segment of parsePath(path)) {
      if (segment === STAR) node = node.star ??= newNode()
      else {
        let child = node.children.get(segment)
        if (child === undefined) node.children.set(segment, child = newNode())
        node = child
      }
    }
    node.end = true
  }
  return root
}

