/**
 * The `configure({ prices })` table: validated once at configure time, turned into a pricer that
 * `seal` asks for each step's cost in US dollars.
 */
import type { JsonValue, Usage } from '../document/document.js'

/**
 * What one model costs, in US dollars per million tokens.
 * @category configuration
 */
export interface ModelPrice {
  readonly inputPerMillion: number
  readonly outputPerMillion: number
  /** The rate of cached prompt tokens (metadata `cached_input_tokens`); without it they cost `inputPerMillion`. */
  readonly cachedInputPerMillion?: number
}

/**
 * Prices by model name. A step's model matches a key exactly, or is a snapshot of it: the key
 * followed by a date or version suffix, `-2024-08-06`, `-20250514`, `-0613`, `-001` or `-latest`
 * (`gpt-4o` prices `gpt-4o-2024-08-06`, not `gpt-4o-mini`, which needs its own key).
 * @category configuration
 */
export type Prices = { readonly [model: string]: ModelPrice }

/** @internal Dollars for one step, or undefined when its model is not priced. */
export type Pricer = (model: string, usage: Usage, metadata: { readonly [key: string]: JsonValue } | undefined) => number | undefined

const PRICE_KEYS: ReadonlyArray<string> = ['inputPerMillion', 'outputPerMillion', 'cachedInputPerMillion']

/**
 * The suffix of a model snapshot: a date (OpenAI `-2024-08-06`, Anthropic `-20250514`), a short date
 * or version number (`gpt-4-0613`, Mistral `-2411`, Gemini `-001`), or the `-latest` alias. One or two
 * digits are a model version instead (`claude-sonnet-4-5` is not a snapshot of `claude-sonnet-4`).
 */
const SNAPSHOT = /-(?:\d{4}-\d{2}-\d{2}|\d{3,8}|latest)$/

/** @internal Throws a `TypeError` naming the model and field of the first invalid entry. */
export function validatePrices(prices: unknown): void {
  if (typeof prices !== 'object' || prices === null || Array.isArray(prices)) {
    throw new TypeError('Expected `prices` to be an object of model prices.')
  }
  for (const [model, price] of Object.entries(prices as Record<string, unknown>)) {
    if (model === '') throw new TypeError('Expected the model names of `prices` to be non-empty strings.')
    if (typeof price !== 'object' || price === null || Array.isArray(price)) {
      throw new TypeError(`Expected \`prices["${model}"]\` to be an object with \`inputPerMillion\` and \`outputPerMillion\`.`)
    }
    for (const key of Object.keys(price)) {
      if (!PRICE_KEYS.includes(key)) throw new TypeError(`Unknown field \`${key}\` in \`prices["${model}"]\`. Known fields: ${PRICE_KEYS.join(', ')}.`)
    }
    for (const key of PRICE_KEYS) {
      const value = (price as Record<string, unknown>)[key]
      if (value === undefined && key === 'cachedInputPerMillion') continue
      if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
        throw new TypeError(`Expected \`prices["${model}"].${key}\` to be a finite number ≥ 0, got ${describe(value)}.`)
      }
    }
  }
}

/** @internal A pricer over a validated table (copied, so later changes to the caller's object do not count), or undefined when it is empty. */
export function createPricer(prices: Prices | undefined): Pricer | undefined {
  if (prices === undefined) return undefined
  const table = new Map<string, ModelPrice>()
  for (const [model, price] of Object.entries(prices)) {
    table.set(model, {
      inputPerMillion: price.inputPerMillion,
      outputPerMillion: price.outputPerMillion,
      ...(price.cachedInputPerMillion === undefined ? {} : { cachedInputPerMillion: price.cachedInputPerMillion }),
    })
  }
  if (table.size === 0) return undefined
  const resolved = new Map<string, ModelPrice | null>()
  const lookup = (model: string): ModelPrice | undefined => {
    let price = resolved.get(model)
    if (price === undefined) {
      price = table.get(model) ?? null
      if (price === null) {
        // another model that shares the key's first letters (gpt-4o-mini, gpt-4-turbo) has prices of its own
        const snapshot = SNAPSHOT.exec(model)
        if (snapshot !== null && snapshot.index > 0) price = table.get(model.slice(0, snapshot.index)) ?? null
      }
      // bounded: a process sees few distinct model names, but a bug upstream must not grow this forever
      if (resolved.size < 1024) resolved.set(model, price)
    }
    return price ?? undefined
  }
  return (model, usage, metadata) => {
    const price = lookup(model)
    if (price === undefined) return undefined
    const inputTokens = nonNegative(usage.inputTokens)
    const outputTokens = nonNegative(usage.outputTokens)
    let cached = 0
    if (price.cachedInputPerMillion !== undefined && metadata !== undefined) {
      const value = metadata.cached_input_tokens
      if (typeof value === 'number') cached = Math.min(nonNegative(value), inputTokens)
    }
    const cost = ((inputTokens - cached) * price.inputPerMillion + cached * (price.cachedInputPerMillion ?? 0) + outputTokens * price.outputPerMillion) / 1e6
    return roundCost(cost)
  }
}

/** @internal Rounds dollars to 1e-9, which removes the float noise of sums and products. */
export function roundCost(dollars: number): number {
  return Math.round(dollars * 1e9) / 1e9
}

function nonNegative(value: number): number {
  return Number.isFinite(value) && value > 0 ? value : 0
}

function describe(value: unknown): string {
  return typeof value === 'string' ? JSON.stringify(value) : String(value)
}
