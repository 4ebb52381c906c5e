// Realistic LLM payloads for the bench: OpenAI-style chat requests of about 4 KiB (a system prompt,
// a user turn carrying retrieved documents, an earlier answer, a follow-up question) and their
// completions (about 1 KiB), every string of every call different, made from a seeded generator so
// every run gets the same text. Prose, markdown, numbers, dates, URLs and ids, as a RAG service
// sends them; no secrets (so redaction scans everything and replaces nothing, the common case).

const WORDS = (
  'the a of to and in is that for it as with on be by this are from or at an which model answer document ' +
  'retrieval context question query index vector embedding score rank rerank chunk passage source cite ' +
  'customer order invoice refund shipping policy account plan billing renewal contract clause period notice ' +
  'latency throughput cache region cluster replica shard request response error timeout retry budget ' +
  'summary report quarter revenue growth margin forecast team project release feature roadmap milestone ' +
  'should must may can will would could not only also more most less each every other same different ' +
  'first second third last next previous new old large small high low fast slow clear short long ' +
  'explain compare describe list include exclude return update create delete check verify confirm ' +
  'user agent tool step trace span field value key name type status result output input prompt token'
).split(' ')
const TITLES = ['Refund policy', 'Shipping times', 'Enterprise plan', 'Data retention', 'Incident report', 'Release notes', 'Onboarding guide', 'Pricing FAQ', 'Security overview', 'API limits']
const HOSTS = ['docs.example.com', 'support.example.org', 'kb.example.net', 'wiki.internal.example']

/** mulberry32: a small seeded generator, so the payloads are the same in every run. */
function generator(seed) {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

function prose(next, chars, serial) {
  const parts = []
  let length = 0
  let sentence = 0
  while (length < chars) {
    const words = []
    const count = 8 + Math.floor(next() * 14)
    for (let i = 0; i < count; i++) words.push(WORDS[Math.floor(next() * WORDS.length)])
    if (sentence % 4 === 1) words.splice(3, 0, String(Math.floor(next() * 100000)))
    if (sentence % 7 === 3) words.push(`(ref ${serial}-${sentence})`)
    const text = `${words[0][0].toUpperCase()}${words[0].slice(1)} ${words.slice(1).join(' ')}.`
    parts.push(text)
    length += text.length + 1
    sentence++
  }
  return parts.join(' ').slice(0, chars)
}

/**
 * The request and response of call number `serial`: ~4 KiB and ~1 KiB of JSON. Different serials
 * share no string longer than a word.
 */
export function chatPayload(serial, seed = 0x5eed) {
  const next = generator(seed ^ Math.imul(serial + 1, 0x9e3779b1))
  const day = 1 + (serial % 28)
  const docs = []
  for (let i = 0; i < 3; i++) {
    const title = TITLES[Math.floor(next() * TITLES.length)]
    const host = HOSTS[Math.floor(next() * HOSTS.length)]
    docs.push(`[${i + 1}] ${title} (https://${host}/articles/${serial}-${i}, updated 2026-03-${String(day).padStart(2, '0')})\n${prose(next, 720, serial)}`)
  }
  const request = {
    model: 'gpt-4o-mini',
    temperature: 0.2,
    max_tokens: 512,
    user: `user-${serial}`,
    messages: [
      { role: 'system', content: `You are the support assistant of Example Corp. Today is 2026-03-${String(day).padStart(2, '0')}; conversation ${serial}. Answer only from the documents given, cite them as [n], and say so when they do not answer the question. ${prose(next, 460, serial)}` },
      { role: 'user', content: `Documents:\n\n${docs.join('\n\n')}\n\nQuestion: ${prose(next, 160, serial)}?` },
      { role: 'assistant', content: prose(next, 420, serial) },
      { role: 'user', content: `Follow-up: ${prose(next, 140, serial)}?` },
    ],
  }
  const answer = prose(next, 700, serial)
  const response = {
    id: `chatcmpl-${serial.toString(36)}${Math.floor(next() * 1e9).toString(36)}`,
    object: 'chat.completion',
    created: 1_774_000_000 + serial,
    model: 'gpt-4o-mini-2024-07-18',
    choices: [{ index: 0, message: { role: 'assistant', content: `${answer} [1][3]`, refusal: null }, logprobs: null, finish_reason: 'stop' }],
    usage: { prompt_tokens: 900 + (serial % 97), completion_tokens: 160 + (serial % 31), total_tokens: 1060 + (serial % 97) + (serial % 31) },
    system_fingerprint: 'fp_0ba0d124f1',
  }
  return { request, response }
}

/** `count` distinct payloads, numbered from `first`. */
export function chatPayloads(count, first = 0) {
  return Array.from({ length: count }, (_, index) => chatPayload(first + index))
}
