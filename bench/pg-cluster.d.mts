// Types of pg-cluster.mjs, for the TypeScript tests that import it.

/** A running throwaway cluster: what `stopCluster` needs. */
export interface Cluster {
  readonly url: string
  readonly dir: string
  readonly bin: string
  readonly asUser: string | undefined
}

export function startCluster(options?: { readonly prefix?: string; readonly maxConnections?: number }): Promise<Cluster>

export function stopCluster(cluster: Cluster): Promise<void>
