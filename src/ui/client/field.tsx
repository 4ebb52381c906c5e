// One captured field in the step pane: inline JSON, or a preview with a raw link when the server gated it.
import type { Gated } from './api.js'
import { pretty } from './format.js'

export function Field(props: { label: string; field: Gated | undefined }) {
  const field = props.field
  if (field === undefined) return null
  return (
    <section>
      <h4>{props.label}</h4>
      {field.inline ? (
        <pre class="json">{pretty(field.value)}</pre>
      ) : (
        <div>
          <p class="muted">
            {`Preview of ${field.bytes.toLocaleString()} bytes. `}
            <a href={field.rawUrl} target="_blank" rel="noopener noreferrer">Open the whole value (raw JSON)</a>
          </p>
          <pre class="json">{field.preview}</pre>
        </div>
      )}
    </section>
  )
}
