// The top-10 tables of the store overview (docs/ui.md#store-overview). Names come from traces and are
// rendered as text; a name the traces list can filter by links to that list.
import type { ComponentChildren } from 'preact'
import { Link } from '../router.js'

export interface Column<Row> {
  readonly title: string
  readonly numeric?: boolean
  readonly value: (row: Row) => string
  /** The traces list this cell's name stands for (`/?prompt=…`), when the list can filter by it. */
  readonly href?: (row: Row) => string
}

export function TopTable<Row>(props: { id: string; title: string; hint?: string; rows: ReadonlyArray<Row>; columns: ReadonlyArray<Column<Row>>; empty: ComponentChildren }) {
  return (
    <section class="top-table">
      <h3>{props.title}</h3>
      {props.hint !== undefined && <p class="muted hint">{props.hint}</p>}
      {props.rows.length === 0 ? <p class="muted">{props.empty}</p> : (
        <table class="store-table" data-table={props.id}>
          <thead><tr>{props.columns.map((column) => <th class={column.numeric === true ? 'num' : undefined}>{column.title}</th>)}</tr></thead>
          <tbody>
            {props.rows.map((row) => (
              <tr>{props.columns.map((column) => {
                const text = column.value(row)
                return <td class={column.numeric === true ? 'num' : 'name'} title={column.numeric === true ? undefined : text}>{column.href === undefined ? text : <Link href={column.href(row)}>{text}</Link>}</td>
              })}</tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  )
}
