// "Delete trace" on the trace page, shown only when the viewer runs with --write (`/api/meta` says
// readOnly: false). It asks for confirmation, then posts to /api/traces/:id/delete with the per-launch
// CSRF token in X-Tracellm-Token and a JSON body, as the server requires (docs/ui.md#security).
import { useEffect, useState } from 'preact/hooks'
import { api, messageOf } from '../api.js'

interface Meta { readOnly: boolean; csrfToken?: string }

export function DeleteButton(props: { traceId: string; onDeleted: () => void }) {
  const [meta, setMeta] = useState<Meta | null>(null)
  const [busy, setBusy] = useState(false)
  const [error, setError] = useState<string | null>(null)
  useEffect(() => {
    api<Meta>('/api/meta').then(setMeta, () => setMeta(null))
  }, [])
  if (meta === null || meta.readOnly || meta.csrfToken === undefined) return null
  const token = meta.csrfToken

  const remove = async (): Promise<void> => {
    if (!confirm(`Delete trace ${props.traceId} and all its documents and steps from the store? This cannot be undone.`)) return
    setBusy(true)
    setError(null)
    try {
      const response = await fetch(`/api/traces/${props.traceId}/delete`, {
        method: 'POST',
        credentials: 'same-origin',
        headers: { 'content-type': 'application/json', 'x-tracellm-token': token },
        body: '{}',
      })
      const body = (await response.json().catch(() => ({}))) as { error?: string }
      if (!response.ok) throw new Error(body.error ?? `${response.status} ${response.statusText}`)
      props.onDeleted()
    } catch (caught) {
      setError(messageOf(caught))
    } finally {
      setBusy(false)
    }
  }

  return (
    <span class="delete-trace">
      <button type="button" class="danger" disabled={busy} onClick={() => { void remove() }} data-testid="delete-trace">
        {busy ? 'Deleting…' : 'Delete trace'}
      </button>
      {error !== null && <span class="err" role="alert">{` ${error}`}</span>}
    </span>
  )
}
