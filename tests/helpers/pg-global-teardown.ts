// Jest globalTeardown: stops the throwaway PostgreSQL cluster that pg-global-setup.ts started, if any,
// and removes its directory. (Self-contained: Jest loads this file on its own, without a module mapper.)
import { execFile } from 'node:child_process'
import { rm } from 'node:fs/promises'
import { join } from 'node:path'
import { promisify } from 'node:util'

const run = promisify(execFile)

export default async function globalTeardown(): Promise<void> {
  const given = process.env.TRACELLM_TEST_PG_CLUSTER
  if (!given) return
  delete process.env.TRACELLM_TEST_PG_CLUSTER
  const cluster = JSON.parse(given) as { readonly dir: string; readonly bin: string; readonly asUser: string | undefined }
  const pgCtl = join(cluster.bin, 'pg_ctl')
  const args = ['-D', join(cluster.dir, 'data'), '-m', 'immediate', '-w', 'stop']
  const [file, argv] = cluster.asUser === undefined ? [pgCtl, args] : ['runuser', ['-u', cluster.asUser, '--', pgCtl, ...args]]
  await run(file, argv, { timeout: 30_000 }).catch(() => undefined)
  await rm(cluster.dir, { recursive: true, force: true })
}
