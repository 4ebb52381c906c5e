/**
 * The wrapper shell shared by `trace` and `traceTool`: keeps `name`, `length` and `this`, and makes
 * the implicit call and `.reader` the same call, differing only in where the context comes from.
 */
import { current, type TraceContext } from '../core/context.js'
import { warnOnce } from '../core/guard.js'
import type { AnyFunction } from './options.js'

/** @internal `parent` is the context read from AsyncLocalStorage, or the one given to `.reader`. */
export type Call = (thisArg: unknown, args: unknown[], parent: TraceContext | undefined) => unknown

/** @internal */
export function wrap<F extends AnyFunction>(fn: F, call: Call): F {
  const wrapper = function (this: unknown, ...args: unknown[]): unknown {
    return call(this, args, current())
  }
  Object.defineProperty(wrapper, 'name', { value: fn.name, configurable: true })
  Object.defineProperty(wrapper, 'length', { value: fn.length, configurable: true })
  Object.defineProperty(wrapper, 'reader', {
    value: (...args: unknown[]) => (ctx: TraceContext) => call(undefined, args, checkContext(ctx)),
    enumerable: false,
  })
  return wrapper as unknown as F
}

function checkContext(ctx: unknown): TraceContext | undefined {
  if (typeof ctx === 'object' && ctx !== null && typeof (ctx as { recorder?: unknown }).recorder === 'object') return ctx as TraceContext
  warnOnce('reader-context', 'tracellm: .reader(...) was given something that is not a TraceContext; the call ran untraced. Pass the value of currentTrace() or the `trace` of a traceRTE environment.')
  return undefined
}
