// The trace page's Messages view: a chronological transcript of the trace's llm steps (not built yet).
import type { Skeleton } from '../api.js'

export function MessagesView(props: { traceId: string; skeleton: Skeleton; onSelect: (stepId: string) => void }) {
  const count = props.skeleton.columns.kind.filter((kind) => kind === 'llm').length
  return <p class="muted">{`${count} llm step(s); the transcript view is not built yet.`}</p>
}
