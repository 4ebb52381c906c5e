// Jest globalSetup: gives the PostgreSQL tests (*.int.test.ts) a server. With TRACELLM_TEST_PG_URL set
// (a role that may CREATE DATABASE), that server is used. Otherwise a throwaway cluster is created
// with the local PostgreSQL binaries (initdb, pg_ctl: Debian's /usr/lib/postgresql/<n>/bin, or
// TRACELLM_TEST_PG_BIN), listening on 127.0.0.1 only, trust authentication, fsync off; its URL is put
// in TRACELLM_TEST_PG_URL, which the workers inherit. initdb refuses to run as root, so as root the
// cluster belongs to the `postgres` user. When no server can be had, the reason is put in
// TRACELLM_TEST_PG_ERROR and every PostgreSQL test fails with it (TRACELLM_TEST_PG=skip skips them).
// pg-global-teardown.ts stops the cluster; a watchdog stops it too if Jest itself is killed.
import { execFile, spawn } from 'node:child_process'
import { existsSync, readdirSync } from 'node:fs'
import { chown, mkdtemp, readFile, rm } from 'node:fs/promises'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'

const run = promisify(execFile)

/** What globalTeardown needs to stop the cluster (a `Cluster` as JSON), passed through the environment. */
const CLUSTER_ENV = 'TRACELLM_TEST_PG_CLUSTER'

export default async function globalSetup(): Promise<void> {
  if (process.env.TRACELLM_TEST_PG === 'skip' || process.env.TRACELLM_TEST_PG_URL) return
  try {
    const cluster = await startCluster()
    process.env.TRACELLM_TEST_PG_URL = cluster.url
    process.env[CLUSTER_ENV] = JSON.stringify(cluster)
  } catch (error) {
    process.env.TRACELLM_TEST_PG_ERROR = error instanceof Error ? error.message : String(error)
  }
}

interface Cluster {
  readonly url: string
  readonly dir: string
  readonly bin: string
  readonly asUser: string | undefined
}

async function startCluster(): Promise<Cluster> {
  const bin = findBinaries()
  const asUser = process.getuid?.() === 0 ? 'postgres' : undefined
  const dir = await mkdtemp(join(tmpdir(), 'tracellm-pg-'))
  try {
    if (asUser !== undefined) {
      const uid = Number((await run('id', ['-u', asUser])).stdout.trim())
      const gid = Number((await run('id', ['-g', asUser])).stdout.trim())
      await chown(dir, uid, gid)
    }
    const data = join(dir, 'data')
    await runAs(asUser, join(bin, 'initdb'), ['-D', data, '-A', 'trust', '-U', 'postgres', '-E', 'UTF8', '--locale=C', '--no-sync', '--no-instructions'])
    let lastError: unknown
    // the free port may be taken between finding it and the server binding it: try a few
    for (let attempt = 0; attempt < 3; attempt++) {
      const port = await freePort()
      const settings = [
        '-c listen_addresses=127.0.0.1', '-p ' + port, '-c unix_socket_directories=' + dir,
        '-c fsync=off', '-c synchronous_commit=off', '-c full_page_writes=off', '-c max_connections=200',
      ].join(' ')
      try {
        await runAs(asUser, join(bin, 'pg_ctl'), ['-D', data, '-l', join(dir, 'server.log'), '-w', '-t', '30', '-o', settings, 'start'])
        const cluster: Cluster = { url: 'postgres://postgres@127.0.0.1:' + port + '/postgres', dir, bin, asUser }
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
    throw new Error('Could not start a PostgreSQL cluster for the tests (set TRACELLM_TEST_PG_URL to use a running server, or TRACELLM_TEST_PG=skip): ' + describe(error))
  }
}

function findBinaries(): string {
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

async function runAs(user: string | undefined, command: string, args: ReadonlyArray<string>): Promise<void> {
  const [file, argv] = user === undefined ? [command, args] : ['runuser', ['-u', user, '--', command, ...args]]
  try {
    // pg_ctl's server inherits no pipe of ours: otherwise the call would wait for the server to exit
    await run(file, [...argv], { timeout: 60_000, env: { ...process.env, LC_ALL: 'C' } })
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr ?? ''
    throw new Error(command + ' failed: ' + describe(error) + (stderr ? '\n' + stderr.slice(-2000) : ''))
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      server.close(() => (typeof address === 'object' && address !== null ? resolve(address.port) : reject(new Error('no port'))))
    })
  })
}

/** A detached shell that stops the cluster once this (Jest's) process is gone, however it ended. */
function startWatchdog(cluster: Cluster): void {
  const stop = (cluster.asUser === undefined ? '' : 'runuser -u ' + cluster.asUser + ' -- ') + '"$2/pg_ctl" -D "$3/data" -m immediate stop'
  const script = 'while kill -0 "$1" 2>/dev/null; do sleep 2; done; if [ -d "$3" ]; then ' + stop + ' >/dev/null 2>&1; rm -rf "$3"; fi'
  const child = spawn('sh', ['-c', script, 'watchdog', String(process.pid), cluster.bin, cluster.dir], { detached: true, stdio: 'ignore' })
  child.unref()
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}
