// Small number helpers shared by the bench scripts.

/** The median of `values` (the mean of the middle two for an even count). */
export function median(values) {
  const sorted = [...values].sort((a, b) => a - b)
  const middle = Math.floor(sorted.length / 2)
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
}

/** `value` rounded to `digits` decimals. */
export function round(value, digits = 0) {
  const factor = 10 ** digits
  return Math.round(value * factor) / factor
}
