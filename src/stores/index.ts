// The `tracellm/store` barrel: reading stored traces back, every export named. The root barrel
// (`tracellm`) exports the same names, and the sinks that write the stores.

// opening a store
export { openImportedStore, openStore } from './open-store.js'
export type { OpenStoreOptions } from './open-store.js'

// reading it
export type {
  FacetCount,
  FacetField,
  FailingStepRow,
  ListQuery,
  ListSort,
  OverviewQuery,
  PruneOptions,
  ReadOptions,
  RetriedStepRow,
  SlowStepRow,
  StepField,
  StepSkeleton,
  StepsOptions,
  StoreOverview,
  StoreStats,
  TextScope,
  TraceHeader,
  TracePage,
  TraceStore,
  TraceSummary,
  UsageRow,
  VacuumResult,
} from './types.js'
