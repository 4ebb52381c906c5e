// The lazy markdown chunk (docs/ui.md#content-rendering), loaded with import() only when a reader picks
// Markdown for a field: marked turns the text into HTML, DOMPurify sanitizes it into a fragment of an
// inert document, and only that fragment is appended. HTML in the markdown itself stays text. No script, style, iframe, form or inline style
// survives; links open in a new tab with rel="noopener noreferrer" and only for http(s) and mailto;
// images are never loaded: each becomes a chip with its alt text and address, as text.
import DOMPurify from 'dompurify'
import { Marked } from 'marked'
import { INVISIBLE, symbolOf } from './visible.js'

const SAFE_LINK = /^(?:https?:|mailto:)/i
const ESCAPES: Readonly<Record<string, string>> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }

// HTML written inside the markdown is shown as the text it is: only markdown makes markup. (Parsing a
// stored `style=` attribute, even in DOMPurify's inert document, is a CSP violation report.)
const markdown = new Marked({ gfm: true, async: false, renderer: { html: (token) => token.text.replace(/[&<>"']/g, (char) => ESCAPES[char]!) } })

let hooked = false
function hook(): void {
  if (hooked) return
  hooked = true
  // an image is replaced by a text chip before it is dropped (img is a forbidden tag): nothing is fetched
  DOMPurify.addHook('uponSanitizeElement', (node, data) => {
    if (data.tagName !== 'img' || !(node instanceof Element) || node.parentNode === null) return
    const chip = node.ownerDocument.createElement('span')
    chip.className = 'chip image-chip'
    const alt = node.getAttribute('alt') ?? ''
    const src = node.getAttribute('src') ?? ''
    chip.textContent = `image${alt === '' ? '' : ` “${alt}”`}${src === '' ? '' : `: ${src.startsWith('data:') ? `${src.slice(0, 40)}…` : src}`} (not loaded)`
    node.parentNode.insertBefore(chip, node)
  })
  DOMPurify.addHook('afterSanitizeAttributes', (node) => {
    if (node.tagName !== 'A') return
    const href = node.getAttribute('href') ?? ''
    if (!SAFE_LINK.test(href.trim())) { node.removeAttribute('href'); return }
    node.setAttribute('target', '_blank')
    node.setAttribute('rel', 'noopener noreferrer')
    node.setAttribute('title', href)
  })
}

/** `text` as sanitized markdown: a DocumentFragment to append, with invisible characters made visible. */
export function renderMarkdown(text: string): DocumentFragment {
  hook()
  const html = markdown.parse(text, { async: false })
  const fragment = DOMPurify.sanitize(html, {
    RETURN_DOM_FRAGMENT: true,
    USE_PROFILES: { html: true },
    FORBID_TAGS: ['img', 'style', 'script', 'iframe', 'form', 'input', 'button', 'textarea', 'select', 'object', 'embed', 'video', 'audio', 'source', 'picture', 'link', 'meta', 'base', 'svg', 'math', 'frame', 'frameset'],
    FORBID_ATTR: ['style', 'srcset', 'src', 'background', 'poster', 'formaction', 'action', 'ping'],
    ALLOWED_URI_REGEXP: /^(?:https?:|mailto:)/i,
  })
  showInvisible(fragment)
  return fragment
}

function showInvisible(root: DocumentFragment): void {
  const walker = root.ownerDocument.createTreeWalker(root, NodeFilter.SHOW_TEXT)
  const texts: Text[] = []
  for (let node = walker.nextNode(); node !== null; node = walker.nextNode()) {
    INVISIBLE.lastIndex = 0
    if (INVISIBLE.test((node as Text).data)) texts.push(node as Text)
  }
  INVISIBLE.lastIndex = 0
  for (const node of texts) {
    const parts = node.data.split(new RegExp(`(${INVISIBLE.source})`))
    const replacement = parts.map((part, index) => {
      if (index % 2 === 0) return node.ownerDocument.createTextNode(part)
      const span = node.ownerDocument.createElement('span')
      span.className = 'invisible-char'
      span.textContent = symbolOf(part)
      return span
    })
    node.replaceWith(...replacement)
  }
}
