// Command-line flags shared by the bench scripts: --json, --only=PARTS, --help, and positive numeric
// flags such as --rounds=N, --scale=F, --rate=N. A bad flag prints one line and exits with 2.

/**
 * @param argv       process.argv.slice(2)
 * @param parts      the names --only accepts (all of them by default)
 * @param numbers    numeric flags and their defaults, e.g. { rounds: 7, scale: 1 }; `scale` may be fractional
 * @param usage      the line --help prints
 */
export function parseArgs(argv, { parts, numbers, usage }) {
  const parsed = { json: false, only: new Set(parts), ...numbers }
  for (const arg of argv) {
    const numeric = /^--([a-z]+)=(.*)$/.exec(arg)
    if (arg === '--json') parsed.json = true
    else if (numeric !== null && numeric[1] in numbers) {
      const value = numeric[1] === 'scale' ? Number.parseFloat(numeric[2]) : Number.parseInt(numeric[2], 10)
      if (!Number.isFinite(value) || value <= 0) fail(`${arg} needs a positive number`)
      parsed[numeric[1]] = value
    } else if (arg.startsWith('--only=')) {
      parsed.only = new Set(arg.slice(7).split(',').filter((part) => part !== ''))
      const unknown = [...parsed.only].filter((part) => !parts.includes(part))
      if (unknown.length > 0 || parsed.only.size === 0) fail(`--only takes a comma-separated list of ${parts.join(', ')}`)
    } else if (arg === '--help' || arg === '-h') {
      process.stdout.write(`usage: ${usage}\n`)
      process.exit(0)
    } else fail(`unknown argument ${arg}`)
  }
  return parsed
}

function fail(message) {
  process.stderr.write(`bench: ${message}\n`)
  process.exit(2)
}
