// The `tracellm/fp` barrel: every export named, nothing re-exported wholesale.
export { traceTE, traceToolTE, traceRTE, traceToolRTE } from './te.js'
export type { TraceEnv } from './te.js'
