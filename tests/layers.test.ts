// The layering of src/ (docs/architecture.md): every relative import of every module of src/ (but the
// browser client, src/ui/client, a program of its own), read with the TypeScript parser, goes from a
// layer to a lower one, or stays in its layer; `sinks/` and `stores/` are imported only from the
// wiring layer and above; `core/` imports no sink and no store; the layers import each other in no
// circle, and no module imports itself back through others when the program runs.
import { describe, expect, it } from '@jest/globals'
import { readdirSync, readFileSync } from 'node:fs'
import { join, posix, relative, sep } from 'node:path'
import { fileURLToPath } from 'node:url'
import ts from 'typescript'

const ROOT = fileURLToPath(new URL('..', import.meta.url))
const SRC = join(ROOT, 'src')

/**
 * The rank of each layer, lowest first: a module imports from a lower rank or from its own layer, and
 * from `diag` (the diagnostics channel) wherever it is. Layers of one rank do not import each other.
 * `entry` is the package's entry points (the barrels package.json `exports` names).
 */
export const RANKS: Readonly<Record<string, number>> = {
  document: 0,
  serialization: 1,
  diag: 2,
  export: 3,
  core: 4,
  sinks: 4,
  stores: 4,
  engine: 5,
  combinators: 6,
  integrations: 6,
  fp: 7,
  configure: 8,
  replay: 8,
  entry: 9,
  ui: 10,
  cli: 11,
}

/** Layers that see only documents and that only the wiring layer and those above it import. */
const WIRED_FROM_TOP: ReadonlySet<string> = new Set(['sinks', 'stores'])
/** The lowest rank that may import a sink or a store. */
const TOP = RANKS.configure as number

/** Imports between layers the rules forbid, allowed one by one, each with its reason. */
export const ALLOWED: ReadonlyArray<{ readonly from: string; readonly to: string; readonly why: string }> = [
  { from: 'ui', to: 'cli', why: "ui/api.ts renders a diff with cli/render.ts's diffToJson, as `tracellm diff --json` does" },
]

/** One relative import of a module. */
interface Import {
  readonly target: string
  readonly line: number
  /** Erased by the compiler: `import type`, `export type`, or only `type` names. */
  readonly typeOnly: boolean
}

/** The relative imports of one module's text, resolved to paths relative to src/ (posix). */
export function importsOf(path: string, text: string): Import[] {
  const source = ts.createSourceFile(path, text, ts.ScriptTarget.Latest, true)
  const found: Import[] = []
  const add = (specifier: ts.Expression | undefined, typeOnly: boolean): void => {
    if (specifier === undefined || !ts.isStringLiteral(specifier) || !specifier.text.startsWith('.')) return
    const target = posix.normalize(posix.join(posix.dirname(path), specifier.text)).replace(/\.js$/, '.ts')
    found.push({ target, typeOnly, line: source.getLineAndCharacterOfPosition(specifier.getStart()).line + 1 })
  }
  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node)) {
      const clause = node.importClause
      const names = clause?.namedBindings
      const onlyTypes = clause !== undefined && (clause.isTypeOnly ||
        (clause.name === undefined && names !== undefined && ts.isNamedImports(names) && names.elements.length > 0 && names.elements.every((element) => element.isTypeOnly)))
      add(node.moduleSpecifier, onlyTypes)
    } else if (ts.isExportDeclaration(node)) {
      const names = node.exportClause
      add(node.moduleSpecifier, node.isTypeOnly || (names !== undefined && ts.isNamedExports(names) && names.elements.length > 0 && names.elements.every((element) => element.isTypeOnly)))
    } else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) {
      add(node.arguments[0], false)
    } else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument)) {
      add(node.argument.literal as ts.Expression, true)
    }
    ts.forEachChild(node, visit)
  }
  visit(source)
  return found
}

/** The layer of a module: an entry point, a top-level file by its name (`configure`), else its top-level folder. */
export function layerOf(path: string, entries: ReadonlySet<string>): string {
  if (entries.has(path)) return 'entry'
  const [first = '', ...rest] = path.split('/')
  return rest.length === 0 ? first.replace(/\.ts$/, '') : first
}

/** What breaks the rules in `modules` (path relative to src/ → text): one line per broken rule, empty when none. */
export function checkLayers(modules: ReadonlyMap<string, string>, entries: ReadonlySet<string>): string[] {
  const problems: string[] = []
  const edges = new Map<string, Import[]>()
  const layerEdges = new Map<string, Set<string>>()
  for (const [path, text] of modules) {
    const from = layerOf(path, entries)
    if (RANKS[from] === undefined) problems.push(`${path}: unknown layer ${from}: give it a rank in tests/layers.test.ts and docs/architecture.md`)
    const imports = importsOf(path, text)
    edges.set(path, imports)
    for (const { target, line } of imports) {
      const at = `${path}:${line} imports ${target}`
      if (!modules.has(target)) {
        problems.push(`${at}, which is not a module of src/`)
        continue
      }
      const to = layerOf(target, entries)
      if (from === to) continue
      if (!layerEdges.has(from)) layerEdges.set(from, new Set())
      layerEdges.get(from)?.add(to)
      const allowed = ALLOWED.some((rule) => rule.from === from && rule.to === to)
      const [rankFrom, rankTo] = [RANKS[from], RANKS[to]]
      if (allowed || rankFrom === undefined || rankTo === undefined) continue
      if (WIRED_FROM_TOP.has(to) && rankFrom < TOP) problems.push(`${at}: ${from}/ may not import ${to}/ (only configure.ts and the layers above it do)`)
      else if (to !== 'diag' && rankTo >= rankFrom) problems.push(`${at}: ${from} (rank ${rankFrom}) may not import ${to} (rank ${rankTo})`)
    }
  }
  const allowedCycles = new Set(ALLOWED.map((rule) => [rule.from, rule.to].sort().join(' ')))
  for (const circle of circles(layerEdges)) {
    if (circle.length === 2 && allowedCycles.has([...circle].sort().join(' '))) continue
    problems.push(`the layers ${circle.join(', ')} import each other in a circle`)
  }
  const runtime = new Map([...edges].map(([path, imports]) => [path, new Set(imports.filter((entry) => !entry.typeOnly).map((entry) => entry.target))]))
  for (const circle of circles(runtime)) problems.push(`an import cycle when the program runs: ${circle.join(' → ')}`)
  return problems
}

/** The strongly connected components of more than one node (Tarjan). */
function circles(graph: ReadonlyMap<string, ReadonlySet<string> | ReadonlyArray<string>>): string[][] {
  let next = 0
  const index = new Map<string, number>()
  const low = new Map<string, number>()
  const stack: string[] = []
  const onStack = new Set<string>()
  const found: string[][] = []
  const visit = (node: string): void => {
    index.set(node, next)
    low.set(node, next)
    next++
    stack.push(node)
    onStack.add(node)
    for (const to of graph.get(node) ?? []) {
      if (!index.has(to)) {
        visit(to)
        low.set(node, Math.min(low.get(node) as number, low.get(to) as number))
      } else if (onStack.has(to)) {
        low.set(node, Math.min(low.get(node) as number, index.get(to) as number))
      }
    }
    if (low.get(node) !== index.get(node)) return
    const component: string[] = []
    let member: string | undefined
    do {
      member = stack.pop() as string
      onStack.delete(member)
      component.push(member)
    } while (member !== node)
    if (component.length > 1) found.push(component.sort())
  }
  for (const node of graph.keys()) if (!index.has(node)) visit(node)
  return found
}

/** Every module of src/ but the browser client, by its path relative to src/ (posix). */
function sourceModules(directory: string = SRC): Map<string, string> {
  const modules = new Map<string, string>()
  for (const entry of readdirSync(directory, { withFileTypes: true })) {
    const path = join(directory, entry.name)
    if (entry.isDirectory()) {
      if (path !== join(SRC, 'ui', 'client')) for (const [name, text] of sourceModules(path)) modules.set(name, text)
    } else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts')) {
      modules.set(relative(SRC, path).split(sep).join('/'), readFileSync(path, 'utf8'))
    }
  }
  return modules
}

/** The modules package.json `exports` names (`./dist/fp/index.js` → `fp/index.ts`). */
function entryPoints(): Set<string> {
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { exports: Record<string, string | { import?: string }> }
  const targets = Object.values(pkg.exports).map((value) => (typeof value === 'string' ? value : value.import ?? ''))
  return new Set(targets.filter((target) => target.startsWith('./dist/') && target.endsWith('.js')).map((target) => target.slice('./dist/'.length).replace(/\.js$/, '.ts')))
}

describe('the layers of src/ (docs/architecture.md)', () => {
  const modules = sourceModules()
  const entries = entryPoints()

  it('knows the entry points and every module', () => {
    expect([...entries].sort()).toEqual(expect.arrayContaining(['fp/index.ts', 'index.ts']))
    expect(modules.size).toBeGreaterThan(50)
  })

  it('imports only downwards, with no circle between layers and no import cycle when the program runs', () => {
    expect(checkLayers(modules, entries)).toEqual([])
  })

  it('keeps core/ free of sinks and stores', () => {
    const fromCore = [...modules].filter(([path]) => path.startsWith('core/')).flatMap(([path, text]) => importsOf(path, text).map((entry) => `${path} → ${entry.target}`))

    expect(fromCore.filter((edge) => /→ (sinks|stores)\//.test(edge))).toEqual([])
  })
})

describe('checkLayers (the check itself works)', () => {
  const entries = new Set(['index.ts'])
  const check = (files: Record<string, string>): string[] => checkLayers(new Map(Object.entries(files)), entries)

  it('reports a lower layer importing a higher one, and core importing a store', () => {
    expect(check({ 'core/a.ts': "import { open } from '../stores/b.js'\n", 'stores/b.ts': 'export const open = 1\n' })).toEqual([
      'core/a.ts:1 imports stores/b.ts: core/ may not import stores/ (only configure.ts and the layers above it do)',
    ])
    expect(check({ 'document/a.ts': "export type { B } from '../core/b.js'\n", 'core/b.ts': 'export type B = 1\n' })).toEqual([
      'document/a.ts:1 imports core/b.ts: document (rank 0) may not import core (rank 4)',
    ])
    expect(check({ 'stores/a.ts': "import { x } from '../sinks/b.js'\n", 'sinks/b.ts': 'export const x = 1\n' })).toHaveLength(1)
  })

  it('lets the wiring layer import a store, and every layer import diag', () => {
    expect(check({ 'configure.ts': "import { s } from './stores/b.js'\n", 'stores/b.ts': "import { d } from '../diag.js'\nexport const s = d\n", 'diag.ts': 'export const d = 1\n' })).toEqual([])
  })

  it('reports a runtime import cycle but not one through types only, and an unknown layer', () => {
    expect(check({ 'core/a.ts': "import { b } from './b.js'\nexport const a = b\n", 'core/b.ts': "import { a } from './a.js'\nexport const b = 1\n" })).toEqual([
      'an import cycle when the program runs: core/a.ts → core/b.ts',
    ])
    expect(check({ 'core/a.ts': "import type { B } from './b.js'\nexport type A = B\n", 'core/b.ts': "import { type A } from './a.js'\nexport type B = A\n" })).toEqual([])
    expect(check({ 'elsewhere/a.ts': '' })).toEqual(['elsewhere/a.ts: unknown layer elsewhere: give it a rank in tests/layers.test.ts and docs/architecture.md'])
  })
})
