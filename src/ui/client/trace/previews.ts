// The steps' input and output previews come apart from the skeleton (docs/ui.md#trace-page-in-detail), so
// that it stays small; `previewOf` pairs them back. Pure, without DOM or preact, for tests/ui/trace-model.test.ts.
import type { Previews, Skeleton } from '../api.js'

/** Step `i`'s previews, when `previews` holds them for the same step (the store may have changed between the two requests). */
export function previewOf(previews: Previews | null | undefined, skeleton: Skeleton, i: number): { input: string | null; output: string | null } | null {
  if (previews == null || previews.columns.stepId[i] !== skeleton.columns.stepId[i]) return null
  return { input: previews.columns.inputPreview[i] ?? null, output: previews.columns.outputPreview[i] ?? null }
}
