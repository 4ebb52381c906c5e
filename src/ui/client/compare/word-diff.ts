// The word diff's entry point, loaded lazily with import() so that esbuild puts jsdiff into its own
// chunk (dist/ui/client/chunks/) and the initial bundle stays small (docs/ui.md#compare).
export { diffWords } from 'diff'
