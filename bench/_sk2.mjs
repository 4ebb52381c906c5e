import { openStore } from '../dist/index.js'
import { ids, hex } from './ui-seed.mjs'
const { big } = ids(100000)
const store = await openStore('/tmp/tracellm-bench-ui-v3-100000.db', { readOnly: true })
for (let i = 0; i < 5; i++) { const s = performance.now(); const st = await store.steps(big, { previews: false }); console.log('steps lean', Math.round(performance.now() - s), st.length) }
for (let i = 0; i < 2; i++) { const s = performance.now(); const st = await store.steps(big); console.log('steps full', Math.round(performance.now() - s), st.length) }
for (let i = 0; i < 2; i++) { const s = performance.now(); await store.headers(big); console.log('headers', Math.round(performance.now() - s)) }
for (let i = 0; i < 2; i++) { const s = performance.now(); await store.step(big, hex(100 + i, 16)); console.log('step', Math.round(performance.now() - s)) }
await store.close()
