// Jest globalSetup: gives the PostgreSQL tests (*.int.test.ts) a server. With TRACELLM_TEST_PG_URL set
// (a role that may CREATE DATABASE), that server is used. Otherwise a throwaway cluster is created
// with the local PostgreSQL binaries (initdb, pg_ctl: Debian's /usr/lib/postgresql/<n>/bin, or
// TRACELLM_TEST_PG_BIN), listening on 127.0.0.1 only, trust authentication, fsync off; its URL is put
// in TRACELLM_TEST_PG_URL, which the workers inherit. initdb refuses to run as root, so as root the
// cluster belongs to the `postgres` user. When no server can be had, the reason is put in
// TRACELLM_TEST_PG_ERROR and every PostgreSQL test fails with it (TRACELLM_TEST_PG=skip skips them).
// The cluster itself is bench/pg-cluster.mjs (shared with the bench). pg-global-teardown.ts stops it; a
// watchdog stops it too if Jest itself is killed.
import { startCluster } from '../../bench/pg-cluster.mjs'

/** What globalTeardown needs to stop the cluster (a `Cluster` as JSON), passed through the environment. */
const CLUSTER_ENV = 'TRACELLM_TEST_PG_CLUSTER'

export default async function globalSetup(): Promise<void> {
  if (process.env.TRACELLM_TEST_PG === 'skip' || process.env.TRACELLM_TEST_PG_URL) return
  try {
    const cluster = await startCluster({ prefix: 'tracellm-pg-', maxConnections: 200 })
    process.env.TRACELLM_TEST_PG_URL = cluster.url
    process.env[CLUSTER_ENV] = JSON.stringify(cluster)
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error)
    process.env.TRACELLM_TEST_PG_ERROR =
      'Could not start a PostgreSQL cluster for the tests (set TRACELLM_TEST_PG_URL to use a running server, or TRACELLM_TEST_PG=skip): ' + reason
  }
}
