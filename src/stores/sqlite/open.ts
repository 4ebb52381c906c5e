/**
 * Opening the SQLite store's file: created private (folder 0700, file 0600) when asked, in WAL mode,
 * migrated, and its loose modes reported once; or opened `readonly` (docs/stores.md#read-only).
 */
import { chmodSync, closeSync, existsSync, mkdirSync, openSync, statSync } from 'node:fs'
import { basename, dirname } from 'node:path'
import type BetterSqlite3 from 'better-sqlite3'
import { wrap, type SqliteDatabase } from './database.js'
import { loadDriver, setPragma, warn } from './driver.js'
import { migrate, MIGRATIONS } from './migrations.js'

/** @internal */
export interface OpenOptions {
  /** Opens the file `readonly` (no migration, no pragma that writes): every write fails. */
  readonly readOnly?: boolean
  readonly create: boolean
  readonly busyTimeoutMs: number
  readonly maxDatabaseBytes: number | undefined
}

const FILE_MODE = 0o600
const DIRECTORY_MODE = 0o700

/** @internal Opens (with `create`, creates) the store at `file`, migrated; throws what the driver throws. */
export function openDatabase(file: string, options: OpenOptions): SqliteDatabase {
  const Driver = loadDriver()
  if (options.readOnly === true) return openReadOnly(Driver, file, options.busyTimeoutMs)
  if (options.create) prepareFile(file)
  const empty = options.create && isEmptyFile(file)
  const db = new Driver(file, { fileMustExist: !options.create })
  try {
    setPragma(db, 'busy_timeout', options.busyTimeoutMs)
    // a new store frees the pages of pruned traces with `incremental_vacuum` (see vacuumOffThread):
    // SQLite takes the setting only before the first write, and switching to WAL is one
    if (empty) db.pragma('auto_vacuum = INCREMENTAL')
    db.pragma('journal_mode = WAL')
    db.pragma('synchronous = NORMAL')
    db.pragma('foreign_keys = ON')
    migrate(db)
    tightenModes(file)
    if (options.maxDatabaseBytes !== undefined) {
      const pageSize = db.pragma('page_size', { simple: true }) as number
      setPragma(db, 'max_page_count', Math.max(1, Math.floor(options.maxDatabaseBytes / pageSize)))
    }
    return wrap(db, file, options.create)
  } catch (error) {
    db.close()
    throw error
  }
}

/**
 * A read-only connection (docs/stores.md#read-only). It cannot migrate: `openSqliteStore` migrates
 * on a separate, writable connection first; a file still behind (not writable) fails here clearly.
 */
function openReadOnly(Driver: typeof BetterSqlite3, file: string, busyTimeoutMs: number): SqliteDatabase {
  const db = new Driver(file, { readonly: true, fileMustExist: true })
  try {
    setPragma(db, 'busy_timeout', busyTimeoutMs)
    const version = db.pragma('user_version', { simple: true }) as number
    if (version !== MIGRATIONS.length) {
      throw new Error(
        'The trace store ' + file + ' has schema version ' + String(version) + ' and this tracellm reads version ' + String(MIGRATIONS.length) +
          (version < MIGRATIONS.length ? ': it could not be upgraded (is the file writable?). Open it once for writing, e.g. `tracellm stats --db ' + file + '`, then again.' : '; upgrade tracellm.'),
      )
    }
    return wrap(db, file, false)
  } catch (error) {
    db.close()
    throw error
  }
}

function isEmptyFile(file: string): boolean {
  try {
    return statSync(file).size === 0
  } catch {
    return true
  }
}

function prepareFile(file: string): void {
  mkdirSync(dirname(file), { recursive: true, mode: DIRECTORY_MODE })
  if (existsSync(file)) return
  // created here with 0600 (traces hold prompts and personal data); SQLite gives its WAL and shared
  // memory files the same mode as the database file
  closeSync(openSync(file, 'a', FILE_MODE))
  chmodSync(file, FILE_MODE)
}

/** Stores whose loose modes were reported: one warning per store and process. */
const reportedModes = new Set<string>()

/**
 * Keeps the store private (docs/reliability.md#files-exports-and-disk-space). The `-wal` and `-shm`
 * files get 0600 when the database has it (SQLite copies the database's mode when it creates them; one
 * made by an older version or another tool may be looser). Then one warning names what other users
 * can read or write: the database or its companions, and a `.tracellm` folder (the one tracellm
 * makes; an older version made it with the umask's 0755). Nothing is changed behind the owner's back
 * beyond the companions, and nothing here ever fails the open.
 */
function tightenModes(file: string): void {
  if (process.platform === 'win32') return
  try {
    const loose = (path: string): number | undefined => {
      try {
        const mode = statSync(path).mode & 0o777
        return (mode & 0o077) === 0 ? undefined : mode
      } catch {
        return undefined
      }
    }
    const companions = [file + '-wal', file + '-shm']
    if (loose(file) === undefined) {
      for (const companion of companions) {
        if (loose(companion) === undefined) continue
        try {
          chmodSync(companion, FILE_MODE)
        } catch {
          // not ours to change: reported below
        }
      }
    }
    const folder = dirname(file)
    const found: Array<readonly [string, number]> = []
    for (const path of [...(basename(folder) === '.tracellm' ? [folder] : []), file, ...companions]) {
      const mode = loose(path)
      if (mode !== undefined) found.push([path, mode])
    }
    if (found.length === 0 || reportedModes.has(file)) return
    reportedModes.add(file)
    const octal = (mode: number): string => '0' + mode.toString(8).padStart(3, '0')
    const fix = found.map(([path]) => `chmod ${path === folder ? '700' : '600'} ${path}`).join(' && ')
    warn(
      `tracellm: the trace store ${file} can be read or changed by other users (traces hold prompts and personal data): ` +
        found.map(([path, mode]) => `${path} has mode ${octal(mode)}`).join(', ') + `; to fix: ${fix}`,
      'TRACELLM_SQLITE_MODE',
    )
  } catch {
    // a stat or a warning listener that throws must not fail the open
  }
}
