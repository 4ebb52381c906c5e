// The compare page, `/compare?a=<id>&b=<id>` (docs/ui.md#pages): not built yet.

export function ComparePage(props: { url: URL }) {
  return <main><p class="muted">{`Compare ${props.url.searchParams.get('a') ?? ''} with ${props.url.searchParams.get('b') ?? ''}: not built yet.`}</p></main>
}
