/**
 * HTML reduced to text for rules and tokens, and the link targets collected on the way, in
 * one linear pass. Deliberately simpler than a browser: no DOM, no CSS; what a spam rule needs
 * is the visible words and where the links go. (mailparser's html-to-text is thorough but
 * several times slower than parsing the whole message, which would sink batch speed.)
 */

const NAMED_ENTITIES: Readonly<Record<string, string>> = {
  amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: ' ', copy: '©', reg: '®', trade: '™',
  euro: '€', pound: '£', yen: '¥', cent: '¢', dollar: '$', hellip: '…', mdash: '—', ndash: '–',
  lsquo: '‘', rsquo: '’', ldquo: '“', rdquo: '”', laquo: '«', raquo: '»', bull: '•', middot: '·',
  deg: '°', times: '×', divide: '÷', shy: '', zwj: '', zwnj: '', iexcl: '¡', iquest: '¿', sect: '§',
  para: '¶', eacute: 'é', egrave: 'è', ecirc: 'ê', aacute: 'á', agrave: 'à', acirc: 'â', auml: 'ä',
  ouml: 'ö', uuml: 'ü', szlig: 'ß', ccedil: 'ç', ntilde: 'ñ', oacute: 'ó', iacute: 'í', uacute: 'ú',
  Auml: 'Ä', Ouml: 'Ö', Uuml: 'Ü', Eacute: 'É',
};

const ENTITY = /&(#[xX][0-9a-fA-F]{1,6}|#[0-9]{1,7}|[a-zA-Z][a-zA-Z0-9]{1,31});?/g;

export function decodeEntities(text: string): string {
  if (text.indexOf('&') < 0) return text;
  return text.replace(ENTITY, (whole, body: string) => {
    if (body.charCodeAt(0) === 0x23) {
      const code = body[1] === 'x' || body[1] === 'X' ? parseInt(body.slice(2), 16) : parseInt(body.slice(1), 10);
      if (!Number.isFinite(code) || code <= 0 || code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff)) return '\ufffd';
      return String.fromCodePoint(code);
    }
    const named = NAMED_ENTITIES[body];
    return named ?? whole;
  });
}

/** Tags whose content is never shown (`head` is not: an unclosed one would hide the body). */
const HIDDEN = new Set(['script', 'style', 'title', 'noscript', 'template', 'xml']);
/** Tags that break a line. */
const BLOCK = new Set([
  'p', 'div', 'br', 'tr', 'li', 'ul', 'ol', 'table', 'h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'blockquote',
  'pre', 'hr', 'section', 'article', 'header', 'footer', 'center', 'form', 'dd', 'dt', 'dl', 'body', 'html',
]);
const HIDDEN_CLOSE = new Map([...HIDDEN].map((t) => [t, new RegExp(`</${t}\\s*>`, 'gi')]));
const HREF = /\bhref\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))/i;

export interface HtmlText {
  readonly text: string;
  readonly hrefs: string[];
}

/** At most this many distinct structure tokens a document (bounded on hostile input). */
const MAX_STRUCTURE = 100;
const WHITE = /#fff\b|#ffffff|\bwhite\b/;
const WHITE_STYLE = /(?:^|[^-])color\s*:\s*(?:#fff\b|#ffffff|white)/;
const ATTRIBUTE = /\s([a-zA-Z][a-zA-Z-]{0,20})\s*=\s*("[^"]*"|'[^']*'|[^\s>]*)/g;

/**
 * Tokens of an HTML document's make-up for the classifier: 'ht:' + each tag name, 'ha:' + tag
 * and attribute name ("ha:font.color"), 'hf:' + a few facts (comments, hidden or white text,
 * big fonts: size 4 or more or +2 or more, how many images). Added to `into` as the tags are read.
 */
function structureTokens(name: string, tag: string, into: Set<string>): void {
  if (into.size >= MAX_STRUCTURE) return;
  into.add('ht:' + name.slice(0, 20));
  if (tag.indexOf('=') < 0) return;
  ATTRIBUTE.lastIndex = 0;
  for (let m = ATTRIBUTE.exec(tag); m; m = ATTRIBUTE.exec(tag)) {
    const attr = m[1]!.toLowerCase();
    into.add('ha:' + name.slice(0, 20) + '.' + attr);
    const value = m[2]!.toLowerCase();
    if (attr === 'style' && /display\s*:\s*none|visibility\s*:\s*hidden/.test(value)) into.add('hf:hidden');
    if ((attr === 'color' && WHITE.test(value)) || (attr === 'style' && WHITE_STYLE.test(value))) into.add('hf:white');
    if (name === 'font' && attr === 'size' && /^["']?(?:\+[2-7]|[4-7])/.test(value)) into.add('hf:bigfont');
  }
}

/**
 * Visible text of an HTML document and the `href` targets of its links (`a`, `area`, `link`
 * are all followed: a URL is a URL to a rule). Input longer than `maxLength` characters is cut.
 * With `structure`, the document's make-up tokens are added to it on the way (structureTokens).
 */
export function htmlToText(html: string, maxLength = 2 * 1024 * 1024, structure?: Set<string>): HtmlText {
  const src = html.length > maxLength ? html.slice(0, maxLength) : html;
  const out: string[] = [];
  const hrefs: string[] = [];
  let images = 0;
  let i = 0;
  const n = src.length;
  while (i < n) {
    const lt = src.indexOf('<', i);
    if (lt < 0) {
      out.push(src.slice(i));
      break;
    }
    if (lt > i) out.push(src.slice(i, lt));
    // Comments and declarations.
    if (src.startsWith('<!--', lt)) {
      structure?.add('hf:comment');
      const end = src.indexOf('-->', lt + 4);
      i = end < 0 ? n : end + 3;
      continue;
    }
    const gt = src.indexOf('>', lt + 1);
    if (gt < 0) {
      out.push(src.slice(lt));
      break;
    }
    const tag = src.slice(lt + 1, gt);
    i = gt + 1;
    const m = /^\/?\s*([a-zA-Z][a-zA-Z0-9:-]*)/.exec(tag);
    if (!m) {
      if (tag.startsWith('!') || tag.startsWith('?')) continue;
      out.push(src.slice(lt, gt + 1)); // "a < b > c" in text
      continue;
    }
    const name = m[1]!.toLowerCase();
    const closing = tag.charCodeAt(0) === 0x2f;
    if (structure && !closing) {
      structureTokens(name, tag, structure);
      if (name === 'img') images++;
    }
    if (!closing && HIDDEN.has(name)) {
      const re = HIDDEN_CLOSE.get(name)!;
      re.lastIndex = i;
      const close = re.exec(src);
      // Unclosed: treat the tag as empty rather than hide the rest of the document.
      if (close) i = close.index + close[0].length;
      if (name === 'title') out.push(' ');
      continue;
    }
    if (!closing && (name === 'a' || name === 'area' || name === 'link' || name === 'base')) {
      const h = HREF.exec(tag);
      if (h) {
        const target = decodeEntities((h[1] ?? h[2] ?? h[3] ?? '').trim());
        if (target.length > 0 && target.length < 4096) hrefs.push(target);
      }
    }
    if (BLOCK.has(name)) out.push('\n');
    else if (name === 'td' || name === 'th' || name === 'img') out.push(' ');
  }
  const text = decodeEntities(out.join(''))
    .replace(/[ \t\r\f\v\u00a0]+/g, ' ')
    .replace(/ *\n[ \n]*/g, '\n')
    .trim();
  if (structure) {
    structure.add(images === 0 ? 'hf:img:0' : images < 3 ? 'hf:img:1' : images < 10 ? 'hf:img:3' : 'hf:img:10');
    // Little text around the images: an image-only message.
    if (images > 0) structure.add(text.length < 200 ? 'hf:text:<200' : text.length < 1000 ? 'hf:text:<1000' : 'hf:text:1000+');
  }
  return { text, hrefs };
}
