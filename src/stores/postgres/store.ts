/**
 * The PostgreSQL store opened for reading and pruning (`openStore()` of a `postgres://` URL): the
 * shared `TraceStore` of `sql/store.ts` over a pool, after checking the tables are there and current.
 */
import { sqlStore, type SqlTraceStore } from '../sql/store.js'
import { connection, type Connection } from './driver.js'
import { migrator, MIGRATIONS, type Migrator } from './migrations.js'
import { checkOptions, SINK_OPTION_KEYS, type PostgresSinkOptions, type Settings } from './options.js'
import { postgresReads } from './reads.js'

/** @internal The options of `openPostgresStore`: the sink's (the schema, from the URL's `?schema=` too), and `readOnly`. */
export type PostgresStoreOptions = Omit<PostgresSinkOptions, 'connectionString'> & { readonly readOnly?: boolean }

/**
 * @internal Opens the PostgreSQL store at `url` for reading and pruning. Rejects when the database
 * cannot be reached or holds no tracellm tables (unless `migrate` is set, which creates them).
 */
export async function openPostgresStore(url: string, options: PostgresStoreOptions = {}): Promise<SqlTraceStore> {
  if (typeof options !== 'object' || options === null) throw new TypeError('Expected the store options to be an object.')
  const { readOnly = false, ...rest } = options
  if (typeof readOnly !== 'boolean') throw new TypeError('Expected `readOnly` to be a boolean.')
  const settings = { ...checkOptions({ ...rest, connectionString: url }, 'openStore', SINK_OPTION_KEYS, { migrate: false, poolSize: 4 }), readOnly }
  const db = connection(settings)
  try {
    await open(db, settings, migrator(db, settings.schema))
  } catch (error) {
    await db.close()
    throw error
  }
  return sqlStore('postgres', readOnly, { ...postgresReads(db), close: () => db.close() })
}

/** Connects and checks (or, with `migrate`, creates) the tables; a writable store upgrades older ones. */
async function open(db: Connection, settings: Settings, schema: Migrator): Promise<void> {
  const migrate = async (): Promise<void> => {
    try {
      await schema.migrate()
    } catch (error) {
      throw db.safeError(error, 'migrating')
    }
  }
  if (settings.migrate) return migrate()
  const present = await db.read('opening', async (query, names) => {
    const [row] = await query('SELECT to_regclass($1) IS NOT NULL AND to_regclass($2) IS NOT NULL AS present', [names.traces, names.steps])
    return row?.present === 't'
  })
  if (!present) {
    throw new Error('No trace store in ' + db.shownUrl + (settings.schema === undefined ? '' : ' (schema ' + settings.schema + ')') + ': its tables do not exist yet. A postgresSink creates them on its first write.')
  }
  // tables of an older version: a writable store upgrades them (under the advisory lock), a read-only one cannot
  const version = await db.read('opening', async () => schema.appliedVersion())
  if (version >= MIGRATIONS.length) return
  if (settings.readOnly === true) {
    throw new Error(
      'The trace store in ' + db.shownUrl + ' has schema version ' + String(version) + ' and this tracellm reads version ' + String(MIGRATIONS.length) +
        ': open it once without readOnly (e.g. `tracellm stats --db <url>`, or let a postgresSink write) to upgrade it, then again.',
    )
  }
  return migrate()
}
