// The store overview, `/store` (docs/ui.md#pages): not built yet.

export function StorePage() {
  return <main><p class="muted">The store overview is not built yet.</p></main>
}
