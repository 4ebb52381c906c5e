// Every test file runs with these listeners: an unhandled rejection or uncaught exception anywhere
// in the suite fails the test that was running (docs/reliability.md).
import { afterEach, expect } from '@jest/globals'

const realSetImmediate = setImmediate   // captured before any test installs fake timers
const problems: unknown[] = []
const onRejection = (reason: unknown): void => { problems.push(reason) }
process.on('unhandledRejection', onRejection)

afterEach(async () => {
  // let pending rejection events fire before checking
  await new Promise((resolve) => realSetImmediate(resolve))
  const seen = problems.splice(0)
  expect(seen).toEqual([])
})
