import { describe, expect, it } from '@jest/globals'
import { readFileSync } from 'node:fs'
import { SDK_VERSION } from '../../src/core/version.js'

describe('sdk version', () => {
  it('matches package.json', () => {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }
    expect(SDK_VERSION).toBe(pkg.version)
  })
})
