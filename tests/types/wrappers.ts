// Compiled by `tsc --noEmit` (part of `npm test`), never run: each `@ts-expect-error` must stay an error.
import type { Reader } from 'fp-ts/Reader'
import * as TE from 'fp-ts/TaskEither'
import { trace, traceTool, type TraceContext } from '../../src/index.js'
import { traceToolTE } from '../../src/fp/index.js'

type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends (<T>() => T extends B ? 1 : 2) ? true : false
const assertType = <T extends true>(_proof?: T): void => undefined

// parameters and return types are preserved
const add = traceTool({ name: 'add' })((a: number, b: number) => a + b)
assertType<Equal<ReturnType<typeof add>, number>>()
assertType<Equal<Parameters<typeof add>, [a: number, b: number]>>()
// @ts-expect-error wrong argument type
add('1', 2)
// @ts-expect-error missing argument
add(1)

const search = traceTool({ kind: 'retriever' })(async (q: string) => [q])
assertType<Equal<ReturnType<typeof search>, Promise<string[]>>>()

// a sync tool that retries may return a Promise, and its type says so
const retried = traceTool({ maxRetries: 2 })((n: number) => n * 2)
assertType<Equal<ReturnType<typeof retried>, number | Promise<number>>>()
const notRetried = traceTool({ maxRetries: 0 })((n: number) => n * 2)
assertType<Equal<ReturnType<typeof notRetried>, number>>()
const asyncRetried = traceTool({ maxRetries: 2 })(async (n: number) => n * 2)
assertType<Equal<ReturnType<typeof asyncRetried>, Promise<number>>>()

// `this` is kept
const withThis = trace({ prompt: 'this' })(function (this: { base: number }, n: number) { return this.base + n })
const holder = { base: 1, withThis }
assertType<Equal<ReturnType<typeof holder.withThis>, number>>()
// @ts-expect-error `this` must be { base: number }
withThis(1)

// .reader gives a Reader over the context
const reader = add.reader(1, 2)
assertType<Equal<typeof reader, Reader<TraceContext, number>>>()
// @ts-expect-error reader checks its arguments too
add.reader('x', 2)

// a custom thenable comes back as a Promise
interface ApiPromise<T> extends PromiseLike<T> { withResponse(): void }
declare const apiCall: (q: string) => ApiPromise<string>
const wrappedApi = traceTool()(apiCall)
assertType<Equal<ReturnType<typeof wrappedApi>, Promise<string>>>()

// options are typed
// @ts-expect-error unknown option
traceTool({ maxRetry: 2 })
// @ts-expect-error wrong option type
trace({ tags: 'a' })

// fp: the TaskEither type is kept
const te = traceToolTE({ name: 'te' })((q: string) => TE.right<Error, number>(q.length))
assertType<Equal<ReturnType<typeof te>, TE.TaskEither<Error, number>>>()
