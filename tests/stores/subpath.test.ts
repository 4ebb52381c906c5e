// The `tracellm/store` subpath (package.json `exports` → dist/stores/index.js): the store's reading
// API on its own. `npm test` builds first; on its own, run `npm run build` before this file.
import { describe, expect, it } from '@jest/globals'
import { fileURLToPath } from 'node:url'
import { runNodeFile } from '../helpers/child.js'

describe("import 'tracellm/store'", () => {
  it('exports openStore and openImportedStore, the same functions as tracellm', async () => {
    const child = await runNodeFile(fileURLToPath(new URL('../fixtures/store-subpath.mjs', import.meta.url)), {}, 15_000)

    expect(child.stderr).toBe('')
    expect(JSON.parse(child.stdout)).toEqual({ exports: ['openImportedStore', 'openStore'], same: true, kind: 'sqlite', count: 0 })
  })
})
