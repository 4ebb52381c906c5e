// Checks shared by the capture tests.
import { Buffer } from 'node:buffer'

type WellFormed = string & { isWellFormed(): boolean }

/** Strings (keys included) PostgreSQL jsonb would reject: a NUL or a lone surrogate. */
export function dirtyStrings(value: unknown): string[] {
  const dirty: string[] = []
  const visit = (v: unknown): void => {
    if (typeof v === 'string') {
      if (v.includes('\u0000') || !(v as WellFormed).isWellFormed()) dirty.push(v)
    } else if (typeof v === 'object' && v !== null) {
      for (const [k, child] of Object.entries(v)) {
        visit(k)
        visit(child)
      }
    }
  }
  visit(value)
  return dirty
}

/** The UTF-8 size of a value's JSON. */
export function jsonBytes(value: unknown): number {
  return Buffer.byteLength(JSON.stringify(value), 'utf8')
}
