import { afterEach, jest } from '@jest/globals'
import { configure, memorySink, type ConfigureOptions, type TraceDocument } from '../../src/index.js'
import { resetWarnings } from '../../src/core/guard.js'

/** memorySink() + configure({ sinks: [sink] }); the setup is replaced after each test. */
export function useMemorySink(options: Omit<ConfigureOptions, 'sinks'> = {}): ReturnType<typeof memorySink> {
  const sink = memorySink()
  configure({ ...options, sinks: [sink], queue: { scheduleDelayMs: 0, ...options.queue } })
  resetWarnings()
  return sink
}

afterEach(() => {
  configure({ sinks: [] })
})

/** The step tree as paths: ['retrieve', 'retrieve > rerank'], in seq order. */
export function shape(doc: TraceDocument): string[] {
  const byId = new Map(doc.steps.map((step) => [step.stepId, step]))
  const pathOf = (stepId: string): string => {
    const step = byId.get(stepId as never)
    if (step === undefined) throw new Error(`unknown step ${stepId}`)
    return step.parentStepId === null ? step.name : `${pathOf(step.parentStepId)} > ${step.name}`
  }
  return [...doc.steps].sort((a, b) => a.seq - b.seq).map((step) => pathOf(step.stepId))
}

/** Records the messages tracellm passes to process.emitWarning (synchronously, unlike the 'warning' event). */
export function spyWarnings(): { readonly messages: () => string[]; readonly restore: () => void } {
  const spy = jest.spyOn(process, 'emitWarning').mockImplementation(() => undefined)
  let kept: string[] | undefined
  const read = (): string[] => spy.mock.calls.map((call) => String(call[0]))
  return {
    // mockRestore() also clears the recorded calls: keep them first
    messages: () => kept ?? read(),
    restore: () => { kept = read(); spy.mockRestore() },
  }
}
