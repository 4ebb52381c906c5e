// Jest globalTeardown: stops the throwaway PostgreSQL cluster that pg-global-setup.ts started, if any,
// and removes its directory.
import { stopCluster, type Cluster } from '../../bench/pg-cluster.mjs'

export default async function globalTeardown(): Promise<void> {
  const given = process.env.TRACELLM_TEST_PG_CLUSTER
  if (!given) return
  delete process.env.TRACELLM_TEST_PG_CLUSTER
  await stopCluster(JSON.parse(given) as Cluster)
}
