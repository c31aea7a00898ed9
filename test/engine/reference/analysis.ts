// Frozen copy of the text analysis as it was before the hot-path work (commit fb49e5e), kept as
// the oracle for test/engine/analysis-equivalence.test.ts: the fast paths must give exactly
// what this straightforward version gives. Do not optimise this file.
/**
 * One pass of text analysis shared by the rules and the classifier: the folded text, its words
 * in "skeleton" form (leetspeak undone, s.p.a.c.e.d letters joined), URLs, phone numbers, money
 * amounts and a few properties. Computed once per message; the rarely used parts lazily.
 */
import { foldText, isLatinLetter } from './fold.js';
import { extractUrls, type UrlInfo } from './urls.js';

export type Script =
  | 'latin' | 'cyrillic' | 'greek' | 'arabic' | 'hebrew' | 'devanagari' | 'thai' | 'han'
  | 'kana' | 'hangul' | 'other' | 'none';

export const SCRIPTS: readonly Script[] = [
  'latin', 'cyrillic', 'greek', 'arabic', 'hebrew', 'devanagari', 'thai', 'han', 'kana', 'hangul', 'other', 'none',
];

export interface TextAnalysis {
  readonly original: string;
  /** NFKC, lower case, invisibles removed, look-alikes mapped: what regexes see. */
  readonly folded: string;
  /** Words of the folded text outside URLs, in skeleton form: what keywords match. */
  readonly words: readonly string[];
  readonly urls: readonly UrlInfo[];
  /** Digit strings of 5 to 15 digits (phone numbers and short codes), leading + kept. */
  readonly phoneNumbers: readonly string[];
  /** Money amounts as written, e.g. `£1000`, `500 pounds`. */
  readonly moneyAmounts: readonly string[];
  /** Length in code points. */
  readonly length: number;
  /** Upper-case letters as a share of letters, 0 when there are no letters. */
  readonly capsRatio: number;
  /** Script with most letters. */
  readonly script: Script;
  /** Look-alike and invisible characters undone, plus leet words and spaced runs repaired. */
  readonly obfuscations: number;
}

// ---- character classes -------------------------------------------------------------------

const WORD_CHAR_CACHE = new Uint8Array(65536); // 0 unknown, 1 word, 2 not a word character
const UNICODE_WORD = /[\p{L}\p{N}\p{M}]/u;

function isWordChar(c: number): boolean {
  if (c < 0x80) return (c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a);
  if (c >= 0xd800 && c <= 0xdfff) return false; // astral: emoji and rare scripts act as separators
  let k = WORD_CHAR_CACHE[c]!;
  if (k === 0) {
    k = UNICODE_WORD.test(String.fromCharCode(c)) ? 1 : 2;
    WORD_CHAR_CACHE[c] = k;
  }
  return k === 1;
}

/** Symbols that stand for letters inside a word: v!agra, c@sh, fr€€. */
function isLeetSymbol(c: number): boolean {
  return c === 0x40 || c === 0x24 || c === 0x21 || c === 0x7c || c === 0x20ac || c === 0xa3;
}

function isApostrophe(c: number): boolean {
  return c === 0x27 || c === 0x2019;
}

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

function scriptOf(c: number): Script {
  if (c < 0x250) return 'latin';
  if (c >= 0x400 && c < 0x530) return 'cyrillic';
  if (c >= 0x370 && c < 0x400) return 'greek';
  if ((c >= 0x600 && c < 0x700) || (c >= 0x750 && c < 0x780) || (c >= 0xfb50 && c < 0xfe00)) return 'arabic';
  if (c >= 0x590 && c < 0x600) return 'hebrew';
  if (c >= 0x900 && c < 0x980) return 'devanagari';
  if (c >= 0xe00 && c < 0xe80) return 'thai';
  if (c >= 0x4e00 && c < 0xa000) return 'han';
  if (c >= 0x3040 && c < 0x3100) return 'kana';
  if (c >= 0xac00 && c < 0xd7b0) return 'hangul';
  if (c >= 0x1e00 && c < 0x1f00) return 'latin';
  return 'other';
}

interface CaseAndScript {
  /** Every code unit is printable ASCII, tab or newline. */
  ascii: boolean;
  digits: number;
  letters: number;
  /** Latin letters among them. */
  latin: number;
  upper: number;
  script: Script;
  codePoints: number;
}

/** Counts letters, capitals and the dominant script of the original text. */
function measure(text: string): CaseAndScript {
  let letters = 0;
  let upper = 0;
  let digits = 0;
  let ascii = true;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 0x61 && c <= 0x7a) {
      letters++;
    } else if (c >= 0x41 && c <= 0x5a) {
      letters++;
      upper++;
    } else if (c >= 0x30 && c <= 0x39) {
      digits++;
    } else if (c >= 0x7f || (c < 0x20 && c !== 0x09 && c !== 0x0a)) {
      ascii = false;
      break;
    }
  }
  if (ascii) return { ascii, digits, letters, latin: letters, upper, script: letters > 0 ? 'latin' : 'none', codePoints: text.length };

  letters = 0;
  upper = 0;
  digits = 0;
  let codePoints = 0;
  const counts = new Map<Script, number>();
  for (const ch of text) {
    codePoints++;
    const c = ch.codePointAt(0)!;
    if (c >= 0x30 && c <= 0x39) digits++;
    if (!/\p{L}/u.test(ch)) continue;
    letters++;
    if (ch !== ch.toLowerCase()) upper++;
    const s = c > 0xffff ? 'other' : scriptOf(c);
    counts.set(s, (counts.get(s) ?? 0) + 1);
  }
  let script: Script = 'none';
  let best = 0;
  for (const [s, n] of counts) {
    if (n > best) {
      best = n;
      script = s;
    }
  }
  return { ascii: false, digits, letters, latin: counts.get('latin') ?? 0, upper, script, codePoints };
}

// ---- leetspeak ---------------------------------------------------------------------------

const LEET: Readonly<Record<string, string>> = {
  '0': 'o', '1': 'i', '3': 'e', '4': 'a', '5': 's', '7': 't', '8': 'b', '@': 'a', '$': 's',
  '!': 'i', '|': 'l', '€': 'e', '£': 'l',
};

/** Number followed by a unit or ordinal: 10am, 21st, 150p, 2nite. Not leetspeak. */
const NUMBER_WITH_UNIT = /^\d+(?:st|nd|rd|th|am|pm|p|ppm|pw|pmin|k|m|mb|gb|kb|x|s|min|mins|hr|hrs|yr|yrs|u|nite|day|days|wk|wks|morrow|ur|mths?)$/;

/** Undo leetspeak in a token that mixes letters with digits or symbols: fr33 → free, v1agra → viagra. */
function unleet(token: string): string {
  let hasLetter = false;
  let hasLeet = false;
  for (let i = 0; i < token.length; i++) {
    const c = token.charCodeAt(i);
    if (isDigit(c) || isLeetSymbol(c)) hasLeet = true;
    else hasLetter = true;
  }
  if (!hasLetter || !hasLeet || NUMBER_WITH_UNIT.test(token)) return token;
  let out = '';
  for (let i = 0; i < token.length; i++) out += LEET[token[i]!] ?? token[i];
  return out;
}

/**
 * SMS-speak puts digits at the ends of words (2nite, every1, up4); obfuscation puts them inside
 * (fr33, v1agra, c@sh). Only the latter counts as an obfuscation; both are mapped for matching.
 */
function looksDeliberate(token: string): boolean {
  let leet = 0;
  let inside = false;
  for (let i = 0; i < token.length; i++) {
    const c = token.charCodeAt(i);
    if (isDigit(c) || isLeetSymbol(c)) {
      leet++;
      if (i > 0 && i < token.length - 1) inside = true;
    }
  }
  return inside || leet >= 2;
}

// ---- tokenizer ---------------------------------------------------------------------------

/** Scratch buffers for token positions, grown on demand and reused: no allocation per token. */
let starts = new Int32Array(256);
let ends = new Int32Array(256);
/** Per token: bit 1 mixes letters and digits/symbols, bit 2 holds a ’. */
let flags = new Uint8Array(256);

function ensureCapacity(n: number): void {
  if (n < starts.length) return;
  const size = Math.max(n + 1, starts.length * 2);
  const s = new Int32Array(size);
  const e = new Int32Array(size);
  const f = new Uint8Array(size);
  s.set(starts);
  e.set(ends);
  f.set(flags);
  starts = s;
  ends = e;
  flags = f;
}

/**
 * A gap between two single letters that spammers use to split a word: one or two of the same
 * ". - _ * , / ~ + ·" or space. Returns a code identifying the gap (0: not such a gap), so a run
 * keeps one kind of gap throughout; code & 1 set means the gap is made of spaces.
 */
function gapCode(text: string, from: number, to: number): number {
  const len = to - from;
  if (len < 1 || len > 2) return 0;
  const c = text.charCodeAt(from);
  if (len === 2 && text.charCodeAt(from + 1) !== c) return 0;
  if (c === 0x20) return (len << 1) | 1;
  if (c === 0x2e || c === 0x2d || c === 0x5f || c === 0x2a || c === 0x2c || c === 0x2f || c === 0x7e || c === 0x2b || c === 0xb7) {
    return (c << 3) | (len << 1);
  }
  return 0;
}

export interface Tokens {
  readonly words: string[];
  /** Words rewritten from leetspeak or joined from spaced letters. */
  readonly repaired: number;
}

/**
 * Split folded text into skeleton words. `skip` holds [start, end) pairs (URLs) to leave out.
 * Runs of single characters split by one kind of separator are joined when they are long
 * enough to be deliberate: 3 with punctuation (f.r.e.e), 4 with spaces (f r e e).
 */
export function tokenize(text: string, skip: readonly number[] = []): Tokens {
  let count = 0;
  let skipAt = 0;
  let i = 0;
  const n = text.length;
  while (i < n) {
    if (skipAt < skip.length && i >= skip[skipAt]!) {
      i = Math.max(i, skip[skipAt + 1]!);
      skipAt += 2;
      continue;
    }
    const c = text.charCodeAt(i);
    if (!isWordChar(c)) {
      i++;
      continue;
    }
    const start = i;
    // Whether the token mixes letters with digits or leet symbols (only then can it be
    // leetspeak) and whether it holds a typographic apostrophe: tracked here so plain words
    // are sliced once and never looked at again.
    let mixed = 0;
    let curly = false;
    mixed |= isDigit(c) ? 2 : 1;
    i++;
    while (i < n) {
      const d = text.charCodeAt(i);
      if (isWordChar(d)) {
        mixed |= isDigit(d) ? 2 : 1;
        i++;
      } else if ((isLeetSymbol(d) || isApostrophe(d)) && i + 1 < n && isWordChar(text.charCodeAt(i + 1))) {
        if (isLeetSymbol(d)) mixed |= 2;
        else if (d === 0x2019) curly = true;
        i += 2;
        mixed |= isDigit(text.charCodeAt(i - 1)) ? 2 : 1;
      } else {
        break;
      }
    }
    ensureCapacity(count);
    starts[count] = start;
    ends[count] = i;
    flags[count] = (mixed === 3 ? 1 : 0) | (curly ? 2 : 0);
    count++;
  }

  const words: string[] = [];
  let repaired = 0;
  let t = 0;
  while (t < count) {
    // Look for a run of single-character tokens with consistent one-character gaps.
    if (ends[t]! - starts[t]! === 1) {
      let u = t;
      let gap = -1;
      while (u + 1 < count && ends[u + 1]! - starts[u + 1]! === 1) {
        const g = gapCode(text, ends[u]!, starts[u + 1]!);
        if (g === 0 || (gap >= 0 && g !== gap)) break;
        gap = g;
        u++;
      }
      const runLength = u - t + 1;
      if (runLength >= ((gap & 1) === 1 ? 4 : 3)) {
        let joined = '';
        for (let k = t; k <= u; k++) joined += text[starts[k]!];
        words.push(unleet(joined));
        repaired++;
        t = u + 1;
        continue;
      }
    }
    const raw = text.slice(starts[t]!, ends[t]!);
    const f = flags[t]!;
    let word = raw;
    if ((f & 1) !== 0) {
      word = unleet(raw);
      if (word !== raw && looksDeliberate(raw)) repaired++;
    }
    words.push((f & 2) !== 0 ? word.replace(/’/g, "'") : word);
    t++;
  }
  return { words, repaired };
}

/** Fold and tokenize a keyword or phrase exactly as message text is, so both sides agree. */
export function phraseWords(phrase: string): string[] {
  return tokenize(foldText(phrase).text).words;
}

// ---- the analysis ------------------------------------------------------------------------

const PHONE = /(?:\+|\b)\d[\d \-.()]{3,18}\d\b/g;
const MONEY =
  /(?:[£$€¥₹₦]\s?\d[\d,]*(?:\.\d+)?(?:\s?(?:k|m|million|thousand))?|\b\d[\d,]*(?:\.\d+)?\s?(?:pounds?|dollars?|euros?|gbp|usd|eur|quid|naira|rupees?|ksh)\b)/g;

class Analysis implements TextAnalysis {
  readonly original: string;
  readonly folded: string;
  readonly words: readonly string[];
  readonly urls: readonly UrlInfo[];
  readonly length: number;
  readonly capsRatio: number;
  readonly script: Script;
  readonly obfuscations: number;
  private phones: string[] | undefined;
  private money: string[] | undefined;

  constructor(text: string) {
    this.original = text;
    const m = measure(text);
    // Look-alikes are mapped in every word when Latin is a large share of the letters: an
    // all-Cyrillic "Рау" inside an English sentence is disguise, inside Russian it is Russian.
    const fold = m.ascii
      ? { text: text.toLowerCase(), confusables: 0, invisibles: 0 }
      : foldText(text, m.letters === 0 || m.latin * 5 >= m.letters * 2);
    this.folded = fold.text;
    const urls = extractUrls(fold.text);
    let skip: number[] = [];
    if (urls.length > 0) {
      skip = [];
      for (const u of urls) skip.push(u.start, u.end);
    }
    const tokens = tokenize(fold.text, skip);
    this.words = tokens.words;
    this.urls = urls;
    this.length = m.codePoints;
    this.capsRatio = m.letters === 0 ? 0 : m.upper / m.letters;
    this.script = m.script;
    this.obfuscations = fold.confusables + fold.invisibles + tokens.repaired;
  }

  get phoneNumbers(): readonly string[] {
    if (this.phones === undefined) {
      const found: string[] = [];
      if ((this.folded.match(/\d/g) ?? []).length < 5) return (this.phones = found); // no room for a 5-digit number (fullwidth digits fold to ASCII ones)
      PHONE.lastIndex = 0;
      for (let m = PHONE.exec(this.folded); m !== null; m = PHONE.exec(this.folded)) {
        const digits = m[0].replace(/[^\d]/g, '');
        if (digits.length >= 5 && digits.length <= 15) found.push(m[0].startsWith('+') ? '+' + digits : digits);
      }
      this.phones = found;
    }
    return this.phones;
  }

  get moneyAmounts(): readonly string[] {
    if (this.money === undefined) {
      const found: string[] = [];
      MONEY.lastIndex = 0;
      for (let m = MONEY.exec(this.folded); m !== null; m = MONEY.exec(this.folded)) found.push(m[0]);
      this.money = found;
    }
    return this.money;
  }
}

/** Analyse a text once; the result is shared by every rule and the classifier. */
export function analyseText(text: string): TextAnalysis {
  return new Analysis(text);
}
