// The documentation compiles: every ```ts block of README.md and docs/*.md, and every `@example` of the
// TSDoc in src/, is written out as its own module under tests/docs/.generated/ and type-checked with the
// compiler options of tsconfig.json. Examples import the package by its name ('tracellm',
// 'tracellm/fp'), which resolves through the `exports` of package.json to dist/*.d.ts, exactly as it
// does for a user: `npm test` builds first; on its own, run `npm run build` before this file.
// The same file checks that every relative link between the documentation pages points at a file
// (and, for `#anchors` into Markdown pages, at a heading) that exists.
import { beforeAll, describe, expect, it } from '@jest/globals'
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { dirname, join, relative, resolve, sep } from 'node:path'
import { fileURLToPath } from 'node:url'
import ts from 'typescript'

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..')
// A dot directory: TypeScript's `include` globs skip it, so `npm run typecheck` never sees these files.
const GENERATED = join(ROOT, 'tests', 'docs', '.generated')
const COMPILED_LANGUAGES = new Set(['ts', 'typescript'])

/** One example: where it comes from, and its code. */
interface Example {
  /** Path of the file it was taken from, relative to the project root, with `/` separators. */
  readonly source: string
  /** 1-based line, in `source`, of the example's first line of code. */
  readonly line: number
  readonly code: string
  /** The module it is written to. */
  readonly file: string
}

/** A fenced block of a Markdown file. */
interface Fence {
  readonly language: string
  /** 1-based line of the first line inside the fence. */
  readonly line: number
  readonly lines: ReadonlyArray<string>
}

// --- collecting ---

function posixPath(path: string): string {
  return path.split(sep).join('/')
}

function markdownFiles(): string[] {
  const docs = join(ROOT, 'docs')
  const pages = existsSync(docs) ? readdirSync(docs).filter((name) => name.endsWith('.md')).sort().map((name) => join(docs, name)) : []
  return [join(ROOT, 'README.md'), ...pages].filter((file) => existsSync(file))
}

function sourceFiles(directory: string = join(ROOT, 'src')): string[] {
  const files: string[] = []
  for (const entry of readdirSync(directory, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
    const path = join(directory, entry.name)
    if (entry.isDirectory()) files.push(...sourceFiles(path))
    else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts')) files.push(path)
  }
  return files
}

/** The fenced blocks of a Markdown text (``` or ~~~, possibly indented inside a list item). */
function fences(text: string): Fence[] {
  const lines = text.split('\n')
  const found: Fence[] = []
  for (let index = 0; index < lines.length; index++) {
    const open = /^( {0,3}|\t)(`{3,}|~{3,})\s*([^\s`]*)/.exec(lines[index] ?? '')
    if (open === null) continue
    const indent = (open[1] ?? '').length
    const marker = open[2] ?? '```'
    const body: string[] = []
    let end = index + 1
    while (end < lines.length && !new RegExp(`^\\s*${marker[0] === '`' ? '`' : '~'}{${marker.length},}\\s*$`).test(lines[end] ?? '')) {
      const line = lines[end] ?? ''
      body.push(line.slice(Math.min(indent, line.length - line.trimStart().length)))
      end++
    }
    found.push({ language: (open[3] ?? '').toLowerCase(), line: index + 2, lines: body })
    index = end
  }
  return found
}

/** The `@example` blocks of the TSDoc comments of a source file: the ` * ` prefix stripped, fences unwrapped. */
function tsdocExamples(text: string): Array<{ readonly line: number; readonly code: string }> {
  const examples: Array<{ readonly line: number; readonly code: string }> = []
  for (const comment of text.matchAll(/\/\*\*[\s\S]*?\*\//g)) {
    const firstLine = text.slice(0, comment.index).split('\n').length
    const lines = comment[0].split('\n').map((line) => line.replace(/^\s*\/\*\*\s?/, '').replace(/\s*\*\/\s*$/, '').replace(/^\s*\*(?: |$)/, ''))
    for (let index = 0; index < lines.length; index++) {
      if (!/^\s*@example\b/.test(lines[index] ?? '')) continue
      let end = index + 1
      while (end < lines.length && !/^\s*@[A-Za-z]/.test(lines[end] ?? '')) end++
      let body = lines.slice(index + 1, end)
      let start = firstLine + index + 1
      const fenceAt = body.findIndex((line) => /^\s*```/.test(line))
      if (fenceAt !== -1) {
        const closeAt = body.findIndex((line, at) => at > fenceAt && /^\s*```/.test(line))
        body = body.slice(fenceAt + 1, closeAt === -1 ? undefined : closeAt)
        start += fenceAt + 1
      }
      while (body.length > 0 && (body[0] ?? '').trim() === '') {
        body = body.slice(1)
        start++
      }
      while (body.length > 0 && (body.at(-1) ?? '').trim() === '') body = body.slice(0, -1)
      if (body.length > 0) examples.push({ line: start, code: body.join('\n') })
      index = end - 1
    }
  }
  return examples
}

/**
 * A relative import in a TSDoc example names a module next to the documented one: point it at that
 * file from the generated module. Imports in README/docs are never rewritten: a user cannot write them.
 */
function resolveRelativeImports(code: string, sourceFile: string, generatedFile: string): string {
  return code.replace(/(\bfrom\s*|\bimport\s*\(\s*|\bimport\s+)(['"])(\.{1,2}\/[^'"]+)\2/g, (_all, lead: string, quote: string, specifier: string) => {
    let target = posixPath(relative(dirname(generatedFile), resolve(dirname(sourceFile), specifier)))
    if (!target.startsWith('.')) target = `./${target}`
    return `${lead}${quote}${target}${quote}`
  })
}

function fileNameFor(source: string, line: number): string {
  return join(GENERATED, `${source.replace(/[^A-Za-z0-9]+/g, '-')}-L${line}.ts`)
}

function collectExamples(): Example[] {
  const examples: Example[] = []
  for (const path of markdownFiles()) {
    const source = posixPath(relative(ROOT, path))
    for (const fence of fences(readFileSync(path, 'utf8'))) {
      if (!COMPILED_LANGUAGES.has(fence.language)) continue
      examples.push({ source, line: fence.line, code: fence.lines.join('\n'), file: fileNameFor(source, fence.line) })
    }
  }
  for (const path of sourceFiles()) {
    const source = posixPath(relative(ROOT, path))
    for (const example of tsdocExamples(readFileSync(path, 'utf8'))) {
      const file = fileNameFor(source, example.line)
      examples.push({ source, line: example.line, code: resolveRelativeImports(example.code, path, file), file })
    }
  }
  return examples
}

function writeExamples(examples: ReadonlyArray<Example>): void {
  mkdirSync(GENERATED, { recursive: true })
  for (const entry of readdirSync(GENERATED)) {
    if (entry !== '.gitignore') rmSync(join(GENERATED, entry), { recursive: true, force: true })
  }
  writeFileSync(join(GENERATED, '.gitignore'), '# written by tests/docs/examples.test.ts\n*\n!.gitignore\n')
  for (const example of examples) {
    const header = `// ${example.source}:${example.line} (generated by tests/docs/examples.test.ts)\n`
    // line 2 of the module is the example's first line; `export {}` makes every block a module (top-level await)
    writeFileSync(example.file, `${header}${example.code}\nexport {}\n`)
  }
}

// --- compiling ---

function compilerOptions(): ts.CompilerOptions {
  const configPath = join(ROOT, 'tsconfig.json')
  const read = ts.readConfigFile(configPath, (path) => ts.sys.readFile(path))
  if (read.error !== undefined) throw new Error(`tsconfig.json: ${ts.flattenDiagnosticMessageText(read.error.messageText, '\n')}`)
  const parsed = ts.parseJsonConfigFileContent(read.config, ts.sys, ROOT, undefined, configPath)
  return { ...parsed.options, noEmit: true, incremental: false, composite: false }
}

/** Type-checks all examples as one program; returns the messages per generated file (and '' for global ones). */
function typeCheck(examples: ReadonlyArray<Example>): Map<string, string[]> {
  const program = ts.createProgram({ rootNames: examples.map((example) => example.file), options: compilerOptions() })
  const byFile = new Map<string, Example>(examples.map((example) => [resolve(example.file), example]))
  const messages = new Map<string, string[]>()
  const add = (key: string, message: string): void => {
    const list = messages.get(key)
    if (list === undefined) messages.set(key, [message])
    else list.push(message)
  }
  for (const diagnostic of ts.getPreEmitDiagnostics(program)) {
    const text = ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n')
    const file = diagnostic.file
    const example = file === undefined ? undefined : byFile.get(resolve(file.fileName))
    if (file === undefined || diagnostic.start === undefined || example === undefined) {
      add('', `${file === undefined ? '(global)' : posixPath(relative(ROOT, file.fileName))}: TS${diagnostic.code}: ${text}`)
      continue
    }
    const { line } = file.getLineAndCharacterOfPosition(diagnostic.start)
    const code = (file.text.split('\n')[line] ?? '').trim()
    // module line 1 is the header, line 2 the example's first line
    add(resolve(example.file), `${example.source}:${example.line + line - 1}: TS${diagnostic.code}: ${text}\n    > ${code}`)
  }
  return messages
}

// --- links ---

/** GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens, duplicates numbered. */
function anchorsOf(markdown: string): Set<string> {
  const anchors = new Set<string>()
  const counts = new Map<string, number>()
  let inFence = false
  for (const line of markdown.split('\n')) {
    if (/^\s*(`{3,}|~{3,})/.test(line)) inFence = !inFence
    if (inFence) continue
    const heading = /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line)
    if (heading === null) continue
    const base = (heading[1] ?? '')
      .replace(/\[([^\]]*)\]\([^)]*\)/g, '$1')
      .toLowerCase()
      .replace(/[^\p{L}\p{M}\p{N}\p{Pc}\- ]/gu, '')
      .replace(/ /g, '-')
    const seen = counts.get(base) ?? 0
    counts.set(base, seen + 1)
    anchors.add(seen === 0 ? base : `${base}-${seen}`)
  }
  return anchors
}

/** The link targets of a Markdown text, outside code fences and inline code. */
function linksOf(markdown: string): Array<{ readonly line: number; readonly target: string }> {
  const links: Array<{ readonly line: number; readonly target: string }> = []
  let inFence = false
  markdown.split('\n').forEach((raw, index) => {
    if (/^\s*(`{3,}|~{3,})/.test(raw)) {
      inFence = !inFence
      return
    }
    if (inFence) return
    const line = raw.replace(/`[^`]*`/g, '')
    for (const match of line.matchAll(/\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)) links.push({ line: index + 1, target: match[1] ?? '' })
    const reference = /^\s*\[[^\]]+\]:\s*<?(\S+?)>?(?:\s+"[^"]*")?\s*$/.exec(line)
    if (reference !== null) links.push({ line: index + 1, target: reference[1] ?? '' })
  })
  return links
}

function brokenLinks(path: string): string[] {
  const source = posixPath(relative(ROOT, path))
  const text = readFileSync(path, 'utf8')
  const broken: string[] = []
  for (const { line, target } of linksOf(text)) {
    if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue   // http:, https:, mailto: …
    const [filePart = '', anchor] = target.split('#', 2)
    const targetPath = filePart === '' ? path : resolve(dirname(path), decodeURIComponent(filePart))
    if (!existsSync(targetPath)) {
      broken.push(`${source}:${line}: ${target} (no such file: ${posixPath(relative(ROOT, targetPath))})`)
      continue
    }
    if (anchor !== undefined && anchor !== '' && targetPath.endsWith('.md') && !anchorsOf(readFileSync(targetPath, 'utf8')).has(anchor)) {
      broken.push(`${source}:${line}: ${target} (no heading with the anchor #${anchor})`)
    }
  }
  return broken
}

// --- the tests ---

const examples = collectExamples()

describe('documentation examples', () => {
  let diagnostics = new Map<string, string[]>()

  beforeAll(() => {
    if (!existsSync(join(ROOT, 'dist', 'index.d.ts'))) {
      throw new Error('dist/index.d.ts is missing: the examples import the built package. Run `npm run build` first.')
    }
    writeExamples(examples)
    diagnostics = typeCheck(examples)
  }, 180_000)

  it('finds examples in README.md, in docs/ and in the TSDoc of src/ (the extractors work)', () => {
    const count = (prefix: string): number => examples.filter((example) => example.source.startsWith(prefix)).length
    expect({ readme: count('README.md') > 0, docs: count('docs/') > 0, src: count('src/') > 0 }).toEqual({ readme: true, docs: true, src: true })
  })

  it('gives every fenced block a language, so no TypeScript block escapes the compiler', () => {
    const bare: string[] = []
    for (const path of markdownFiles()) {
      for (const fence of fences(readFileSync(path, 'utf8'))) {
        if (fence.language === '') bare.push(`${posixPath(relative(ROOT, path))}:${fence.line - 1}: a fence without a language (use ts, bash, text, json …)`)
      }
    }
    expect(bare).toEqual([])
  })

  it('compiles with valid compiler options', () => {
    expect(diagnostics.get('') ?? []).toEqual([])
  })

  for (const example of examples) {
    it(`${example.source}:${example.line} compiles`, () => {
      const messages = diagnostics.get(resolve(example.file)) ?? []
      if (messages.length > 0) throw new Error(`The example at ${example.source}:${example.line} does not compile (module ${posixPath(relative(ROOT, example.file))}):\n\n${messages.join('\n\n')}`)
      expect(messages).toEqual([])
    })
  }
})

describe('documentation links', () => {
  for (const path of markdownFiles()) {
    it(`every relative link of ${posixPath(relative(ROOT, path))} resolves`, () => {
      expect(brokenLinks(path)).toEqual([])
    })
  }
})
