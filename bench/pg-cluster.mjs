// A throwaway PostgreSQL cluster, for bench/stores.mjs and for the tests (tests/helpers/pg-global-setup.ts
// imports it): plain ESM, so the bench needs neither Jest nor a TypeScript loader. Types: pg-cluster.d.mts.
// initdb with the local binaries (Debian's /usr/lib/postgresql/<n>/bin, or TRACELLM_TEST_PG_BIN),
// listening on 127.0.0.1 only, trust authentication, fsync off. initdb refuses to run as root, so as
// root the cluster belongs to the `postgres` user. A detached watchdog stops and removes the cluster
// if this process dies without calling stopCluster() (killed, crashed).
import { execFile, spawn } from 'node:child_process'
import { existsSync, readdirSync } from 'node:fs'
import { chown, mkdtemp, readFile, rm } from 'node:fs/promises'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'

const run = promisify(execFile)

/**
 * Starts a cluster; resolves `{ url, dir, bin, asUser }` or rejects with the reason.
 * `options.prefix` names its temporary directory, `options.maxConnections` its connection limit.
 */
export async function startCluster(options = {}) {
  const bin = findBinaries()
  const asUser = process.getuid?.() === 0 ? 'postgres' : undefined
  const dir = await mkdtemp(join(tmpdir(), options.prefix ?? 'tracellm-pg-'))
  try {
    if (asUser !== undefined) {
      const uid = Number((await run('id', ['-u', asUser])).stdout.trim())
      const gid = Number((await run('id', ['-g', asUser])).stdout.trim())
      await chown(dir, uid, gid)
    }
    const data = join(dir, 'data')
    await runAs(asUser, join(bin, 'initdb'), ['-D', data, '-A', 'trust', '-U', 'postgres', '-E', 'UTF8', '--locale=C', '--no-sync', '--no-instructions'])
    let lastError
    // the free port may be taken between finding it and the server binding it: try a few
    for (let attempt = 0; attempt < 3; attempt++) {
      const port = await freePort()
      const settings = [
        '-c listen_addresses=127.0.0.1', '-p ' + port, '-c unix_socket_directories=' + dir,
        '-c fsync=off', '-c synchronous_commit=off', '-c full_page_writes=off', '-c max_connections=' + (options.maxConnections ?? 50),
      ].join(' ')
      try {
        await runAs(asUser, join(bin, 'pg_ctl'), ['-D', data, '-l', join(dir, 'server.log'), '-w', '-t', '30', '-o', settings, 'start'])
        const cluster = { url: 'postgres://postgres@127.0.0.1:' + port + '/postgres', dir, bin, asUser }
        startWatchdog(cluster)
        return cluster
      } catch (error) {
        lastError = error
      }
    }
    const log = await readFile(join(dir, 'server.log'), 'utf8').catch(() => '')
    throw new Error('pg_ctl start failed: ' + describe(lastError) + '\n' + log.slice(-2000))
  } catch (error) {
    await rm(dir, { recursive: true, force: true })
    throw error
  }
}

/** Stops the cluster (immediate mode) and removes its directory. Never rejects. */
export async function stopCluster(cluster) {
  const pgCtl = join(cluster.bin, 'pg_ctl')
  const args = ['-D', join(cluster.dir, 'data'), '-m', 'immediate', '-w', 'stop']
  const [file, argv] = cluster.asUser === undefined ? [pgCtl, args] : ['runuser', ['-u', cluster.asUser, '--', pgCtl, ...args]]
  await run(file, argv, { timeout: 30_000 }).catch(() => undefined)
  await rm(cluster.dir, { recursive: true, force: true }).catch(() => undefined)
}

function findBinaries() {
  const given = process.env.TRACELLM_TEST_PG_BIN
  if (given) {
    if (!existsSync(join(given, 'initdb'))) throw new Error('TRACELLM_TEST_PG_BIN=' + given + ' has no initdb.')
    return given
  }
  const root = '/usr/lib/postgresql'
  const versions = existsSync(root) ? readdirSync(root).filter((name) => /^\d+$/.test(name)).sort((a, b) => Number(b) - Number(a)) : []
  for (const version of versions) {
    const bin = join(root, version, 'bin')
    if (existsSync(join(bin, 'initdb')) && existsSync(join(bin, 'pg_ctl'))) return bin
  }
  for (const directory of (process.env.PATH ?? '').split(':')) {
    if (directory && existsSync(join(directory, 'initdb')) && existsSync(join(directory, 'pg_ctl'))) return directory
  }
  throw new Error('no PostgreSQL server binaries (initdb, pg_ctl) found in /usr/lib/postgresql/<version>/bin or on the PATH')
}

async function runAs(user, command, args) {
  const [file, argv] = user === undefined ? [command, args] : ['runuser', ['-u', user, '--', command, ...args]]
  try {
    // pg_ctl's server inherits no pipe of ours: otherwise the call would wait for the server to exit
    await run(file, [...argv], { timeout: 60_000, env: { ...process.env, LC_ALL: 'C' } })
  } catch (error) {
    const stderr = error?.stderr ?? ''
    throw new Error(command + ' failed: ' + describe(error) + (stderr ? '\n' + stderr.slice(-2000) : ''))
  }
}

function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      server.close(() => (typeof address === 'object' && address !== null ? resolve(address.port) : reject(new Error('no port'))))
    })
  })
}

/** A detached shell that stops the cluster once this process is gone, however it ended. */
function startWatchdog(cluster) {
  const stop = (cluster.asUser === undefined ? '' : 'runuser -u ' + cluster.asUser + ' -- ') + '"$2/pg_ctl" -D "$3/data" -m immediate stop'
  const script = 'while kill -0 "$1" 2>/dev/null; do sleep 2; done; if [ -d "$3" ]; then ' + stop + ' >/dev/null 2>&1; rm -rf "$3"; fi'
  const child = spawn('sh', ['-c', script, 'watchdog', String(process.pid), cluster.bin, cluster.dir], { detached: true, stdio: 'ignore' })
  child.unref()
}

function describe(error) {
  return error instanceof Error ? error.message : String(error)
}
