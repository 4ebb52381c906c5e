// The `tracellm/fp` barrel: every export named, nothing re-exported wholesale.
// Every entry point brings the wiring: the runtime of the defaults (the SQLite store) when nothing is configured.
import '../configure.js'
export { traceTE, traceToolTE, traceRTE, traceToolRTE } from './te.js'
export type { TraceEnv } from './te.js'
