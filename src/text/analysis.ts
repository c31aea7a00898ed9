/**
 * One pass of text analysis shared by the rules and the classifier: the folded text, its words
 * in "skeleton" form (leetspeak undone, s.p.a.c.e.d letters joined), URLs, phone numbers, money
 * amounts and a few properties. Computed once per message; the rarely used parts lazily.
 */
import { foldedUnit, foldText } from './fold.js';
import { extractUrls, letterCode, urlSearch, type FoundUrl, type UrlInfo } from './urls.js';

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
  /**
   * `wordHash` of each word (the classifier's token hash): keyword lookups without hashing
   * strings again. Read the first `wordCount`: an analysis made with `WordBuffers` (the
   * engine's) has a longer array.
   */
  readonly wordHashes: readonly number[];
  /** How many words; `words` is built on first read, so hot paths use the accessors below. */
  readonly wordCount: number;
  /** Word `index` (sliced on demand when `words` has not been read). */
  word(index: number): string;
  /** Whether word `index` is `word`, without slicing it. */
  wordIs(index: number, word: string): boolean;
  wordLength(index: number): number;
  /** The first UTF-16 code unit of word `index`. */
  wordCode(index: number): number;
  /** False only when that text certainly holds no ASCII digit (lets rules skip digit regexes). */
  mayHoldDigit(on: 'folded' | 'original'): boolean;
  /**
   * The folded text is the original in lower case (most texts: nothing to map but capitals).
   * Then a test of characters can read the original, ignoring case, and need not build `folded`.
   */
  readonly foldedIsLowerCase: boolean;
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

/**
 * What `measure` needs of a code unit of the original text, computed once per code unit:
 * bit 0 known, bit 1 letter, bit 2 upper case, bit 3 ASCII digit, bits 4–7 the script index.
 */
const MEASURE = new Uint8Array(65536);
const M_LETTER = 2;
const M_UPPER = 4;
const M_DIGIT = 8;
const LETTER = /\p{L}/u;

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

const LATIN = 0;
const OTHER = SCRIPTS.indexOf('other');

function measureClass(c: number): number {
  let k = MEASURE[c]!;
  if (k === 0) {
    const ch = String.fromCharCode(c);
    k = 1;
    if (c >= 0x30 && c <= 0x39) k |= M_DIGIT;
    if (LETTER.test(ch)) {
      k |= M_LETTER | (SCRIPTS.indexOf(scriptOf(c)) << 4);
      if (ch !== ch.toLowerCase()) k |= M_UPPER;
    }
    MEASURE[c] = k;
  }
  return k;
}

/**
 * What the tokenizer needs of a code unit of the folded text: bit 0 known, bit 1 word
 * character (letter, digit or mark; astral characters act as separators), bit 2 ASCII digit,
 * bit 3 leet symbol, bit 4 apostrophe.
 */
const TOKEN = new Uint8Array(65536);
const T_WORD = 2;
const T_DIGIT = 4;
const T_LEET = 8;
const T_APOSTROPHE = 16;
const UNICODE_WORD = /[\p{L}\p{N}\p{M}]/u;

/** Symbols that stand for letters inside a word: v!agra, c@sh, fr€€. */
function isLeetSymbol(c: number): boolean {
  return c === 0x40 || c === 0x24 || c === 0x21 || c === 0x7c || c === 0x20ac || c === 0xa3;
}

function tokenClass(c: number): number {
  let k = TOKEN[c]!;
  if (k === 0) {
    k = 1;
    const ascii = c < 0x80;
    const word = ascii
      ? (c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a)
      : !(c >= 0xd800 && c <= 0xdfff) && UNICODE_WORD.test(String.fromCharCode(c));
    if (word) k |= T_WORD;
    if (c >= 0x30 && c <= 0x39) k |= T_DIGIT;
    if (isLeetSymbol(c)) k |= T_LEET;
    if (c === 0x27 || c === 0x2019) k |= T_APOSTROPHE;
    TOKEN[c] = k;
  }
  return k;
}

for (let c = 0; c < 0x80; c++) {
  measureClass(c);
  tokenClass(c);
}

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

// The dominant-script count for texts that are not all Latin; scratch, reset after use.
const scriptCounts = new Int32Array(SCRIPTS.length);
const scriptFirst = new Int32Array(SCRIPTS.length);

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

/**
 * Counts letters, capitals, digits and the dominant script of the original text in one pass
 * of table lookups (ties between scripts go to the one seen first).
 */
function measure(text: string): CaseAndScript {
  let letters = 0;
  let upper = 0;
  let digits = 0;
  let ascii = true;
  let codePoints = 0;
  let latin = 0;
  let latinFirst = 0;
  let others = false;
  const n = text.length;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    codePoints++;
    if (c < 0x80) {
      const k = MEASURE[c]!;
      if ((k & M_LETTER) !== 0) {
        if (latin === 0) latinFirst = letters;
        letters++;
        latin++;
        if ((k & M_UPPER) !== 0) upper++;
      } else if ((k & M_DIGIT) !== 0) {
        digits++;
      } else if (c === 0x7f || (c < 0x20 && c !== 0x09 && c !== 0x0a)) {
        ascii = false;
      }
      continue;
    }
    ascii = false;
    let k: number;
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < n && (text.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      // An astral code point: letters among them count as script 'other'.
      const ch = text.slice(i, i + 2);
      i++;
      if (!LETTER.test(ch)) continue;
      k = M_LETTER | (OTHER << 4) | (ch !== ch.toLowerCase() ? M_UPPER : 0);
    } else if (c >= 0xd800 && c <= 0xdfff) {
      continue; // a lone surrogate: a code point, not a letter
    } else {
      k = MEASURE[c]!;
      if (k === 0) k = measureClass(c);
      if ((k & M_LETTER) === 0) continue;
    }
    if ((k & M_UPPER) !== 0) upper++;
    const s = k >>> 4;
    if (s === LATIN) {
      if (latin === 0) latinFirst = letters;
      latin++;
    } else {
      if (!others) {
        others = true;
        scriptFirst.fill(0x7fffffff);
      }
      if (scriptCounts[s] === 0) scriptFirst[s] = letters;
      scriptCounts[s]!++;
    }
    letters++;
  }
  let script: Script = letters > 0 ? 'latin' : 'none';
  if (others) {
    let best = latin;
    let bestFirst = latin > 0 ? latinFirst : 0x7fffffff;
    for (let s = 1; s < SCRIPTS.length; s++) {
      const count = scriptCounts[s]!;
      if (count > best || (count === best && count > 0 && scriptFirst[s]! < bestFirst)) {
        best = count;
        bestFirst = scriptFirst[s]!;
        script = SCRIPTS[s]!;
      }
    }
    scriptCounts.fill(0);
  }
  return { ascii, digits, letters, latin, upper, script, codePoints };
}

// ---- leetspeak ---------------------------------------------------------------------------

/** The letter a leet digit or symbol stands for, or 0. */
function leetLetter(c: number): number {
  switch (c) {
    case 0x30: return 0x6f; // 0 o
    case 0x31: return 0x69; // 1 i
    case 0x33: return 0x65; // 3 e
    case 0x34: return 0x61; // 4 a
    case 0x35: return 0x73; // 5 s
    case 0x37: return 0x74; // 7 t
    case 0x38: return 0x62; // 8 b
    case 0x40: return 0x61; // @ a
    case 0x24: return 0x73; // $ s
    case 0x21: return 0x69; // ! i
    case 0x7c: return 0x6c; // | l
    case 0x20ac: return 0x65; // € e
    case 0xa3: return 0x6c; // £ l
    default: return 0;
  }
}

/** Units and ordinals written after a number (10am, 21st, 150p, 2nite: not leetspeak), by letterCode. */
const UNIT_NAMES = 'st nd rd th am pm p ppm pw pmin k m mb gb kb x s min mins hr hrs yr yrs u nite day days wk wks morrow ur mth mths'.split(' ');
const UNITS: ReadonlySet<number> = new Set(UNIT_NAMES.map(letterCode));
const LONGEST_UNIT = Math.max(...UNIT_NAMES.map((u) => u.length));

/**
 * text[start, end) is ASCII digits then one of UNITS (`/^\d+(?:st|nd|…)$/`, read in place: the
 * regex on a slice was a tenth of phase 2). Capitals count as their lower case: the text is
 * folded already, or not yet and then lower-cased for the test.
 */
function isNumberWithUnit(text: string, start: number, end: number): boolean {
  let i = start;
  while (i < end && isDigit(text.charCodeAt(i))) i++;
  if (i === start || i === end || end - i > LONGEST_UNIT) return false;
  let code = 0;
  for (let k = i; k < end; k++) {
    let c = text.charCodeAt(k);
    if (c >= 0x41 && c <= 0x5a) c |= 0x20;
    if (c < 0x61 || c > 0x7a) return false;
    code = code * 27 + (c - 0x60);
  }
  return UNITS.has(code);
}

/** Undo leetspeak in a token that mixes letters with digits or symbols: fr33 → free, v1agra → viagra. */
function unleet(token: string): string {
  return unleetSpan(token, 0, token.length, false) ?? token;
}

/**
 * `unleet` of the token text[start, end), lower-cased first when `lower` (text not folded yet:
 * then its simple characters fold to their lower case), read in place; undefined when that
 * gives the token unchanged (most tokens that mix letters and digits are SMS-speak, 150p, 2nite),
 * so nothing is sliced or compared for them.
 */
function unleetSpan(text: string, start: number, end: number, lower: boolean): string | undefined {
  let hasLetter = false;
  let mapped = false; // a digit or symbol that stands for a letter (2, 6 and 9 stand for none)
  for (let i = start; i < end; i++) {
    const c = text.charCodeAt(i);
    if (isDigit(c) || isLeetSymbol(c)) {
      if (leetLetter(c) !== 0) mapped = true;
    } else {
      hasLetter = true;
    }
  }
  if (!hasLetter || !mapped) return undefined; // no letter to undo them beside, or nothing to undo
  if (isNumberWithUnit(text, start, end)) return undefined; // a number with a unit: SMS-speak
  let out = '';
  for (let i = start; i < end; i++) {
    const c = text.charCodeAt(i);
    const l = leetLetter(c);
    out += String.fromCharCode(l !== 0 ? l : lower ? simpleFold(c) : c);
  }
  return out;
}

/**
 * SMS-speak puts digits at the ends of words (2nite, every1, up4); obfuscation puts them inside
 * (fr33, v1agra, c@sh). Only the latter counts as an obfuscation; both are mapped for matching.
 */
function looksDeliberate(text: string, start: number, end: number): boolean {
  let leet = 0;
  let inside = false;
  for (let i = start; i < end; i++) {
    const c = text.charCodeAt(i);
    if (isDigit(c) || isLeetSymbol(c)) {
      leet++;
      if (i > start && i < end - 1) inside = true;
    }
  }
  return inside || leet >= 2;
}

// ---- tokenizer ---------------------------------------------------------------------------

/** FNV-1a over UTF-16 code units, never 0: the same function as the classifier's token hash. */
export function wordHash(word: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < word.length; i++) {
    h ^= word.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h === 0 ? 1 : h | 0;
}

/**
 * Token positions, flags and hashes, written by the scan (phase 1) and compacted in place into
 * the words' (phase 2): a word's start and end in the text, or, for a word rewritten by repair
 * (a joined spaced run, undone leetspeak, a curly apostrophe), start -1 - k with the word at
 * `fixed[k]`; and its hash. Grown on demand and reused: no allocation per token.
 *
 * An engine keeps one of its own and lends it to the analysis of each message it checks: checks
 * are synchronous and done with their analysis when they return, so an analysis made with an
 * engine's buffers reads its words straight from them, with no copy and no array allocated per
 * message (the word arrays were a quarter of what a check allocated). Such an analysis is valid
 * until the next analysis made with the same buffers. `analyseText` without buffers works in
 * shared ones and copies the words out, so its analysis is the caller's to keep.
 */
export class WordBuffers {
  starts = smallIntegers(256);
  ends = smallIntegers(256);
  /** Per token: bit 1 mixes letters and digits/symbols, bit 2 holds a ’ (read by phase 2 only, so a byte each). */
  flags = new Uint8Array(256);
  /** Per token the hash of the raw token, computed while scanning it; per word its wordHash. */
  hashes = doubles(256);
}

// Positions and hashes in arrays, not typed arrays: an analysis of its own copies its words out,
// and V8 allocates a small array six times faster than a small typed array; both kinds in the
// accessors would make every read polymorphic.
function smallIntegers(n: number): number[] {
  return new Array<number>(n).fill(0);
}

/** Hashes are full 32-bit integers, mostly beyond V8's small integers: an array of doubles holds them without conversion. */
function doubles(n: number): number[] {
  return new Array<number>(n).fill(0.5);
}

/** For analyses that copy their words out, and for `tokenize`. */
const SHARED_BUFFERS = new WordBuffers();
/** The buffers in use (see useBuffers), as module variables the scanning loops read once. */
let current = SHARED_BUFFERS;
let starts = current.starts;
let ends = current.ends;
let flags = current.flags;
let rawHashes = current.hashes;

function useBuffers(b: WordBuffers): void {
  current = b;
  starts = b.starts;
  ends = b.ends;
  flags = b.flags;
  rawHashes = b.hashes;
}

function ensureCapacity(n: number): void {
  if (n < starts.length) return;
  const size = Math.max(n + 1, starts.length * 2);
  const b = current;
  const grown = (from: number[], to: number[]): number[] => {
    for (let i = 0; i < from.length; i++) to[i] = from[i]!;
    return to;
  };
  b.starts = grown(b.starts, smallIntegers(size));
  b.ends = grown(b.ends, smallIntegers(size));
  const f = new Uint8Array(size);
  f.set(b.flags);
  b.flags = f;
  b.hashes = grown(b.hashes, doubles(size));
  useBuffers(b);
}

/**
 * Token `index` spans [start, end); `hash` is its raw FNV-1a state (0 becomes 1, as in wordHash).
 * The caller has called `ensureCapacity` for the text: a text of n code units has at most
 * n / 2 + 1 tokens, since tokens are separated.
 */
function recordSpan(index: number, start: number, end: number, flag: number, hash: number): void {
  starts[index] = start;
  ends[index] = end;
  flags[index] = flag;
  rawHashes[index] = hash === 0 ? 1 : hash;
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
  /** `wordHash` of each word, in the same order. */
  readonly hashes: number[];
  /** Words rewritten from leetspeak or joined from spaced letters. */
  readonly repaired: number;
}

/**
 * Split folded text into skeleton words. `skip` holds [start, end) pairs (URLs) to leave out.
 * Runs of single characters split by one kind of separator are joined when they are long
 * enough to be deliberate: 3 with punctuation (f.r.e.e), 4 with spaces (f r e e).
 */
export function tokenize(text: string, skip: readonly number[] = []): Tokens {
  useBuffers(SHARED_BUFFERS);
  const w = wordSpans(text, tokenSpans(text, skip));
  return { words: wordsOf(text, starts, ends, w.fixed, w.count), hashes: rawHashes.slice(0, w.count), repaired: w.repaired };
}

/** Phase 1: token positions, flags and raw hashes into the scratch buffers; returns the count. */
function tokenSpans(text: string, skip: readonly number[]): number {
  ensureCapacity((text.length >> 1) + 1);
  let count = 0;
  let skipAt = 0;
  let nextSkip = skip.length > 0 ? skip[0]! : 0x7fffffff;
  let i = 0;
  const n = text.length;
  while (i < n) {
    if (i >= nextSkip) {
      i = Math.max(i, skip[skipAt + 1]!);
      skipAt += 2;
      nextSkip = skipAt < skip.length ? skip[skipAt]! : 0x7fffffff;
      continue;
    }
    const c = text.charCodeAt(i);
    const k = c < 0x80 ? TOKEN[c]! : tokenClass(c);
    if ((k & T_WORD) === 0) {
      i++;
      continue;
    }
    const start = i;
    // Whether the token mixes letters with digits or leet symbols (only then can it be
    // leetspeak) and whether it holds a typographic apostrophe: tracked here so plain words
    // are sliced once and never looked at again.
    let mixed = (k & T_DIGIT) !== 0 ? 2 : 1;
    let curly = false;
    let h = Math.imul(0x811c9dc5 ^ c, 0x01000193);
    i++;
    while (i < n) {
      const d = text.charCodeAt(i);
      const kd = d < 0x80 ? TOKEN[d]! : tokenClass(d);
      if ((kd & T_WORD) !== 0) {
        mixed |= (kd & T_DIGIT) !== 0 ? 2 : 1;
        h = Math.imul(h ^ d, 0x01000193);
        i++;
      } else if ((kd & (T_LEET | T_APOSTROPHE)) !== 0 && i + 1 < n) {
        const e = text.charCodeAt(i + 1);
        const ke = e < 0x80 ? TOKEN[e]! : tokenClass(e);
        if ((ke & T_WORD) === 0) break;
        if ((kd & T_LEET) !== 0) mixed |= 2;
        else if (d === 0x2019) curly = true;
        mixed |= (ke & T_DIGIT) !== 0 ? 2 : 1;
        h = Math.imul(Math.imul(h ^ d, 0x01000193) ^ e, 0x01000193);
        i += 2;
      } else {
        break;
      }
    }
    recordSpan(count++, start, i, (mixed === 3 ? 1 : 0) | (curly ? 2 : 0), h);
  }
  return count;
}

/** Single characters joined into a word need at least this many in a run (one more when spaced). */
const SHORTEST_JOINED_RUN = 3;

/** What phase 2 gives besides the compacted buffers. */
interface WordSpans {
  /** How many words (the first entries of the buffers). */
  count: number;
  fixed: readonly string[];
  /** Words rewritten from leetspeak or joined from spaced letters. */
  repaired: number;
}

/** wordSpans' answer: one object, overwritten by the next call (read it at once), not one per text. */
const spanResult: WordSpans = { count: 0, fixed: [], repaired: 0 };

const NO_FIXED: readonly string[] = [];

/**
 * Phase 2: skeleton words from the tokens: spaced runs joined, leetspeak undone, written over
 * the tokens in the buffers (word w never comes after token w, so writing it overwrites
 * nothing still to be read). A text with nothing to repair, most of them, is left as it is.
 */
function wordSpans(text: string, count: number, lowerPieces = false): WordSpans {
  // The buffers in locals: module variables would be reloaded and rechecked at every read.
  const tokenStarts = starts;
  const tokenEnds = ends;
  const tokenFlags = flags;
  const tokenHashes = rawHashes;
  let fixed: string[] | undefined;
  let words = 0;
  let repaired = 0;
  let t = 0;
  while (t < count) {
    const start = tokenStarts[t]!;
    const end = tokenEnds[t]!;
    // Look for a run of single-character tokens with consistent one-character gaps.
    if (end - start === 1 && t + 1 < count && tokenEnds[t + 1]! - tokenStarts[t + 1]! === 1) {
      let u = t;
      let gap = -1;
      while (u + 1 < count && tokenEnds[u + 1]! - tokenStarts[u + 1]! === 1) {
        const g = gapCode(text, tokenEnds[u]!, tokenStarts[u + 1]!);
        if (g === 0 || (gap >= 0 && g !== gap)) break;
        gap = g;
        u++;
      }
      const runLength = u - t + 1;
      if (runLength >= ((gap & 1) === 1 ? SHORTEST_JOINED_RUN + 1 : SHORTEST_JOINED_RUN)) {
        let joined = '';
        for (let k = t; k <= u; k++) joined += text[tokenStarts[k]!];
        const word = unleet(lowerPieces ? joined.toLowerCase() : joined);
        fixed ??= [];
        tokenStarts[words] = -1 - fixed.length;
        tokenEnds[words] = 0;
        tokenHashes[words++] = wordHash(word);
        fixed.push(word);
        repaired++;
        t = u + 1;
        continue;
      }
    }
    const f = tokenFlags[t]!;
    let word: string | undefined;
    if (f !== 0) {
      if ((f & 1) !== 0) {
        word = unleetSpan(text, start, end, lowerPieces);
        if (word !== undefined && looksDeliberate(text, start, end)) repaired++;
      }
      if ((f & 2) !== 0) word = (word ?? (lowerPieces ? text.slice(start, end).toLowerCase() : text.slice(start, end))).replace(/’/g, "'");
    }
    if (word !== undefined) {
      fixed ??= [];
      tokenStarts[words] = -1 - fixed.length;
      tokenEnds[words] = 0;
      tokenHashes[words] = wordHash(word);
      fixed.push(word);
    } else if (words !== t) {
      // Behind a joined run the words move up; before one, each is where its token is.
      tokenStarts[words] = start;
      tokenEnds[words] = end;
      tokenHashes[words] = tokenHashes[t]!;
    }
    words++;
    t++;
  }
  return spansAnswer(words, fixed ?? NO_FIXED, repaired);
}

/** Phase 2's answer in its one reused object (for tokens that are their words already: `spansAnswer(count, NO_FIXED, 0)`). */
function spansAnswer(count: number, fixed: readonly string[], repaired: number): WordSpans {
  const out = spanResult;
  out.count = count;
  out.fixed = fixed;
  out.repaired = repaired;
  return out;
}

/** The words of `wordSpans` as strings. */
function wordsOf(text: string, starts: readonly number[], ends: readonly number[], fixed: readonly string[], n: number): string[] {
  const words = new Array<string>(n);
  for (let i = 0; i < n; i++) {
    const s = starts[i]!;
    words[i] = s >= 0 ? text.slice(s, ends[i]!) : fixed[-1 - s]!;
  }
  return words;
}

// ---- the fast path -------------------------------------------------------------------------
//
// Most SMS are printable ASCII, and most of the rest add only characters such as £, ü or –
// that fold on their own to one code unit (`foldedUnit`). For such "simple" texts folding
// changes no position, so one pass over the original text finds the token spans, classing and
// hashing each character as folded; the folded text is then one native lower-casing (or, when
// a character folds to something else than its lower case, the character table's fold).

/** The original character is a letter / a capital / an ASCII digit (for capitals and digits). */
const S_LETTER = 1;
const S_UPPER = 2;
const S_ORIGINAL_DIGIT = 4;
/** The folded character is a word character / an ASCII digit / a word character but no digit. */
const S_WORD = 8;
const S_DIGIT = 16;
const S_WORD_NOT_DIGIT = 32;
const S_LEET = 64;
const S_APOSTROPHE = 128;
/** Folds to something other than its lower case (ü → u, a control → space). */
const S_REPLACED = 256;
/** Not simple: a look-alike, a mark, a non-Latin letter, a curly apostrophe, a length change. */
const S_COMPLEX = 512;
const S_KNOWN = 1024;
/** Folds to '.' / to ':': a text with neither holds no URL, one without ':' no "://" (see urlSearch). */
const S_DOT = 2048;
const S_COLON = 4096;

/**
 * Per code unit: its S_* bits in the low 16 bits and, for a simple character, what it folds to
 * in the high 16 (for hashing words as folded); 0 until first seen. One table, so the scan
 * makes one load per character, not two.
 */
const SIMPLE = new Uint32Array(65536);
const FOLD_SHIFT = 16;

/** What a classified simple character folds to. */
function simpleFold(c: number): number {
  return SIMPLE[c]! >>> FOLD_SHIFT;
}

function simpleClass(c: number): number {
  let k = SIMPLE[c]!;
  if (k !== 0) return k;
  k = S_KNOWN;
  const to = foldedUnit(c);
  const m = measureClass(c);
  // Non-Latin letters decide the script and whether look-alikes are mapped: the full path's.
  if (to < 0 || c === 0x2019 || ((m & M_LETTER) !== 0 && m >>> 4 !== LATIN)) {
    k |= S_COMPLEX;
  } else {
    const t = tokenClass(to);
    if ((m & M_LETTER) !== 0) k |= S_LETTER;
    if ((m & M_UPPER) !== 0) k |= S_UPPER;
    if ((m & M_DIGIT) !== 0) k |= S_ORIGINAL_DIGIT;
    if ((t & T_WORD) !== 0) k |= (t & T_DIGIT) !== 0 ? S_WORD | S_DIGIT : S_WORD | S_WORD_NOT_DIGIT;
    if ((t & T_LEET) !== 0) k |= S_LEET;
    if ((t & T_APOSTROPHE) !== 0) k |= S_APOSTROPHE;
    // Not replaced means folding is lower-casing, and no character beyond ASCII lower-cases
    // into ASCII here (the Kelvin sign, which does, is not a Latin letter, so complex). So until
    // the folded text is built, ASCII-minded code (the URL precheck, the phone-number pattern)
    // can read the original and see what it would see in the folded text.
    if (to !== String.fromCharCode(c).toLowerCase().charCodeAt(0)) k |= S_REPLACED;
    if (to === 0x2e) k |= S_DOT;
    if (to === 0x3a) k |= S_COLON;
    k |= to << FOLD_SHIFT;
  }
  SIMPLE[c] = k;
  return SIMPLE[c]!;
}

for (let c = 0; c < 0x100; c++) simpleClass(c);

/** The classes of every character of the last `scanSimple` text, OR-ed together (read through S_* masks: the high half ORs folds too). */
let scannedKinds = 0;
/** Its capitals as a share of its letters. */
let scannedCaps = 0;
/** Its ASCII digits, and where the first token holding a (folded) digit starts, or -1. */
let scannedDigits = 0;
let scannedFirstDigit = -1;
/**
 * Some token may need phase 2 (`wordSpans`): it mixes letters with digits or leet symbols, or
 * it is the third single character in a row (phase 2 joins no shorter run: "u r" stays two
 * words). Most texts have none, and their tokens are their words as they are.
 */
let scannedMayRepair = false;

/**
 * Find the token spans of a simple text (as `tokenSpans` would on its folded form, without
 * URLs skipped). Returns the token count, or -1 when the text is not simple. Letters, capitals
 * and digits are counted on the way (the classifier reads the share of capitals of every
 * message; phone numbers need five digits), and the first token with a digit is noted: phone
 * numbers are looked for from there, not from the start of the text.
 */
function scanSimple(text: string): number {
  const n = text.length;
  ensureCapacity((n >> 1) + 1);
  // The buffers in locals: module variables would be reloaded and rechecked at every store.
  const tokenStarts = starts;
  const tokenEnds = ends;
  const tokenFlags = flags;
  const tokenHashes = rawHashes;
  let seen = 0;
  let count = 0;
  let letters = 0;
  let upper = 0;
  let digits = 0;
  let firstDigit = -1;
  let mayRepair = false;
  let singles = 0;
  let i = 0;
  while (i < n) {
    const c = text.charCodeAt(i);
    let k = SIMPLE[c]!;
    if (k === 0) k = simpleClass(c);
    if ((k & S_WORD) === 0) {
      if ((k & S_COMPLEX) !== 0) return -1;
      seen |= k;
      i++;
      continue;
    }
    const start = i;
    let kinds = k;
    letters += k & S_LETTER;
    upper += (k & S_UPPER) >> 1;
    digits += (k & S_ORIGINAL_DIGIT) >> 2;
    let h = Math.imul(0x811c9dc5 ^ (k >>> FOLD_SHIFT), 0x01000193);
    i++;
    while (i < n) {
      const d = text.charCodeAt(i);
      let kd = SIMPLE[d]!;
      if (kd === 0) kd = simpleClass(d);
      if ((kd & S_WORD) !== 0) {
        kinds |= kd;
        letters += kd & S_LETTER;
        upper += (kd & S_UPPER) >> 1;
        digits += (kd & S_ORIGINAL_DIGIT) >> 2;
        h = Math.imul(h ^ (kd >>> FOLD_SHIFT), 0x01000193);
        i++;
      } else if ((kd & (S_LEET | S_APOSTROPHE)) !== 0 && i + 1 < n) {
        const e = text.charCodeAt(i + 1);
        let ke = SIMPLE[e]!;
        if (ke === 0) ke = simpleClass(e);
        if ((ke & S_WORD) === 0) break;
        kinds |= kd | ke;
        letters += ke & S_LETTER;
        upper += (ke & S_UPPER) >> 1;
        digits += (ke & S_ORIGINAL_DIGIT) >> 2;
        h = Math.imul(Math.imul(h ^ (kd >>> FOLD_SHIFT), 0x01000193) ^ (ke >>> FOLD_SHIFT), 0x01000193);
        i += 2;
      } else {
        break;
      }
    }
    tokenStarts[count] = start;
    tokenEnds[count] = i;
    // Only a token mixing letters with digits or leet symbols can be leetspeak.
    const flag = (kinds & S_WORD_NOT_DIGIT) !== 0 && (kinds & (S_DIGIT | S_LEET)) !== 0 ? 1 : 0;
    tokenFlags[count] = flag;
    tokenHashes[count] = h === 0 ? 1 : h;
    count++;
    singles = i - start === 1 ? singles + 1 : 0;
    if (flag !== 0 || singles >= SHORTEST_JOINED_RUN) mayRepair = true;
    if (firstDigit < 0 && (kinds & S_DIGIT) !== 0) firstDigit = start;
    seen |= kinds;
  }
  // A complex character that ended a token was classed but not refused above.
  if ((seen & S_COMPLEX) !== 0) return -1;
  scannedKinds = seen;
  scannedCaps = letters === 0 ? 0 : upper / letters;
  scannedDigits = digits;
  scannedFirstDigit = firstDigit;
  scannedMayRepair = mayRepair;
  return count;
}

/**
 * The scan's tokens less those in the URLs (in text order), compacted in the buffers: what
 * `tokenSpans(folded, the URLs' spans)` gives, without reading the text again (on a simple text
 * the scan's tokens are tokenSpans' own). Like tokenSpans, it goes on after a URL where the URL
 * ends, when it reaches the URL's start between tokens or at the end of a token the URL starts
 * in. Returns the count, or -1 when it would go on inside a token (a URL ending mid-word).
 */
function tokensOutside(urls: readonly FoundUrl[], count: number): number {
  const tokenStarts = starts;
  const tokenEnds = ends;
  const tokenFlags = flags;
  const tokenHashes = rawHashes;
  let at = 0;
  let u = 0;
  let kept = 0;
  for (let t = 0; t < count; t++) {
    const start = tokenStarts[t]!;
    const end = tokenEnds[t]!;
    while (u < urls.length && urls[u]!.start <= Math.max(at, start)) at = Math.max(at, urls[u++]!.end);
    if (start < at) {
      if (end > at) return -1;
      continue; // inside a URL
    }
    if (kept !== t) {
      tokenStarts[kept] = start;
      tokenEnds[kept] = end;
      tokenFlags[kept] = tokenFlags[t]!;
      tokenHashes[kept] = tokenHashes[t]!;
    }
    kept++;
    at = end;
  }
  return kept;
}

/** Fold and tokenize a keyword or phrase exactly as message text is, so both sides agree. */
export function phraseWords(phrase: string): string[] {
  return tokenize(foldText(phrase).text).words;
}

// ---- the analysis ------------------------------------------------------------------------

/** A phone number or short code as written: a '+' or a word boundary, a digit, 3 to 18 digits or separators, a digit at a boundary. */
const PHONE = /(?:\+|\b)\d[\d \-.()]{3,18}\d\b/g;

/**
 * Phone numbers and short codes written in `text` from position `from`: the stretches PHONE
 * finds that hold 5 to 15 digits, as their digits with a leading '+' kept. The regex finds
 * them (a native scan: a loop over the characters in JavaScript, tried before, took twice as
 * long on texts with digits); the digits are picked out by hand, which costs less than a
 * replace() per match (test/engine/phone-numbers.test.ts holds it to the plain regex version).
 */
export function findPhoneNumbers(text: string, from: number, out: string[]): void {
  PHONE.lastIndex = from;
  for (let m = PHONE.exec(text); m !== null; m = PHONE.exec(text)) {
    const found = m[0];
    const plus = found.charCodeAt(0) === 0x2b ? 1 : 0;
    let digits = 0;
    for (let i = plus; i < found.length; i++) {
      const c = found.charCodeAt(i);
      if (c >= 0x30 && c <= 0x39) digits++;
    }
    if (digits < 5 || digits > 15) continue;
    if (digits === found.length - plus) {
      out.push(found);
      continue;
    }
    let number = plus === 1 ? '+' : '';
    for (let i = plus; i < found.length; i++) {
      const c = found.charCodeAt(i);
      if (c >= 0x30 && c <= 0x39) number += found[i];
    }
    out.push(number);
  }
}

const MONEY =
  /(?:[£$€¥₹₦]\s?\d[\d,]*(?:\.\d+)?(?:\s?(?:k|m|million|thousand))?|\b\d[\d,]*(?:\.\d+)?\s?(?:pounds?|dollars?|euros?|gbp|usd|eur|quid|naira|rupees?|ksh)\b)/g;
const NO_SKIP: readonly number[] = [];
/** The answer for a text with no phone number or amount: one shared empty list, not one per text. */
const NO_STRINGS: readonly string[] = [];
const NO_URLS: FoundUrl[] = [];
/** `Analysis.digits` for a folded text whose digits were not counted: enough to look for a number. */
const UNCOUNTED_DIGITS = 5;

class Analysis implements TextAnalysis {
  readonly original: string;
  /** The folded text, or undefined until read when it is the original lower-cased (ASCII). */
  private foldedText: string | undefined;
  readonly wordHashes: readonly number[];
  readonly wordCount: number;
  readonly urls: readonly UrlInfo[];
  readonly length: number;
  readonly script: Script;
  readonly obfuscations: number;
  /** Where each word is in `folded` (see WordBuffers); words are sliced on first read. */
  private readonly starts: readonly number[];
  private readonly ends: readonly number[];
  private readonly fixed: readonly string[];
  private wordList: string[] | undefined;
  readonly capsRatio: number;
  /**
   * ASCII digits of the text phone numbers are looked for in (the folded one), or 5 where they
   * were not counted: a phone number needs five, and fullwidth ０９０… fold to them too.
   */
  private readonly digits: number;
  /** No phone number starts before this position (the first token with a digit, on the fast path). */
  private readonly digitsFrom: number;
  /** The original holds an ASCII digit (for ASCII it is exact; otherwise it is `digits > 0`). */
  private readonly anyDigit: boolean;
  /** The folded text holds no ASCII digit (known on the fast path only), so no amount either. */
  private readonly noDigits: boolean;
  private phones: readonly string[] | undefined;
  private money: readonly string[] | undefined;
  readonly foldedIsLowerCase: boolean;

  constructor(text: string, buffers: WordBuffers | undefined) {
    this.original = text;
    useBuffers(buffers ?? SHARED_BUFFERS);
    let count = scanSimple(text);
    let folded: string | undefined;
    let obfuscations = 0;
    if (count >= 0) {
      // A simple text with capitals is lower-cased only if something reads the folded text
      // (URLs, regexes, numbers); words are found on the original, positions being the same.
      const kinds = scannedKinds;
      if ((kinds & S_REPLACED) !== 0) folded = foldText(text).text;
      else folded = (kinds & S_UPPER) === 0 ? text : undefined;
      this.foldedIsLowerCase = (kinds & S_REPLACED) === 0;
      this.capsRatio = scannedCaps;
      // The scan counts the original's digits: the folded text's are the same unless something was replaced.
      this.digits = (kinds & S_REPLACED) === 0 ? scannedDigits : (kinds & S_DIGIT) === 0 ? 0 : UNCOUNTED_DIGITS;
      this.digitsFrom = scannedFirstDigit;
      this.anyDigit = (kinds & S_ORIGINAL_DIGIT) !== 0;
      this.noDigits = (kinds & S_DIGIT) === 0;
      this.length = text.length;
      this.script = (kinds & S_LETTER) !== 0 ? 'latin' : 'none';
    } else {
      const m = measure(text);
      // Look-alikes are mapped in every word when Latin is a large share of the letters: an
      // all-Cyrillic "Рау" inside an English sentence is disguise, inside Russian it is Russian.
      const fold = foldText(text, m.letters === 0 || m.latin * 5 >= m.letters * 2);
      folded = fold.text;
      this.foldedIsLowerCase = false;
      obfuscations = fold.confusables + fold.invisibles;
      this.digits = UNCOUNTED_DIGITS; // folding can make digits (fullwidth, circled)
      this.digitsFrom = 0;
      this.anyDigit = m.digits > 0;
      this.noDigits = false; // folding can make digits (fullwidth, circled, fractions)
      this.length = m.codePoints;
      this.capsRatio = m.letters === 0 ? 0 : m.upper / m.letters;
      this.script = m.script;
    }
    // A URL needs a dot or "://" (the fast path knows whether the text has a dot, a colon).
    const colon = count < 0 || (scannedKinds & S_COLON) !== 0;
    const mayHoldLink = colon || (scannedKinds & S_DOT) !== 0;
    // Where to look for URLs, or -1: asked once, of the original as for its lower case when that
    // is not made yet (and made only if there is somewhere to look).
    const search = mayHoldLink ? urlSearch(folded ?? text, folded === undefined, colon) : -1;
    if (folded === undefined && search !== -1) folded = text.toLowerCase();
    this.foldedText = folded;
    const urls = search === -1 ? NO_URLS : extractUrls(folded!, search);
    // The scan's tokens are the words when there are no links to leave out and nothing to repair.
    let repair = true;
    if (urls.length > 0) {
      const outside = count >= 0 ? tokensOutside(urls, count) : -1;
      if (outside >= 0) {
        count = outside;
        repair = scannedMayRepair; // a URL left out joins no single letters: it is longer than a gap
      } else {
        const skip: number[] = [];
        for (const u of urls) skip.push(u.start, u.end);
        count = tokenSpans(folded!, skip);
      }
    } else if (count < 0) {
      count = tokenSpans(folded!, NO_SKIP);
    } else {
      repair = scannedMayRepair;
    }
    const tokens = !repair ? spansAnswer(count, NO_FIXED, 0) : folded === undefined ? wordSpans(text, count, true) : wordSpans(folded, count);
    const words = tokens.count;
    // In an engine's buffers the words are read where they are; otherwise copied out of the shared ones.
    this.starts = buffers !== undefined ? starts : starts.slice(0, words);
    this.ends = buffers !== undefined ? ends : ends.slice(0, words);
    this.wordHashes = buffers !== undefined ? rawHashes : rawHashes.slice(0, words);
    this.fixed = tokens.fixed;
    this.wordCount = words;
    this.urls = urls;
    this.obfuscations = obfuscations + tokens.repaired;
  }

  get folded(): string {
    return (this.foldedText ??= this.original.toLowerCase());
  }

  get words(): readonly string[] {
    return (this.wordList ??= wordsOf(this.folded, this.starts, this.ends, this.fixed, this.wordCount));
  }

  word(index: number): string {
    if (this.wordList !== undefined) return this.wordList[index]!;
    const s = this.starts[index]!;
    if (s < 0) return this.fixed[-1 - s]!;
    const e = this.ends[index]!;
    return this.foldedText !== undefined ? this.foldedText.slice(s, e) : this.original.slice(s, e).toLowerCase();
  }

  wordIs(index: number, word: string): boolean {
    const s = this.starts[index]!;
    if (s < 0) return this.fixed[-1 - s] === word;
    if (this.ends[index]! - s !== word.length) return false;
    if (this.foldedText !== undefined) return this.foldedText.startsWith(word, s);
    // ASCII with capitals, not lower-cased yet: compare lower-casing each character.
    const text = this.original;
    for (let i = 0; i < word.length; i++) if (simpleFold(text.charCodeAt(s + i)) !== word.charCodeAt(i)) return false;
    return true;
  }

  wordLength(index: number): number {
    const s = this.starts[index]!;
    return s >= 0 ? this.ends[index]! - s : this.fixed[-1 - s]!.length;
  }

  /** The first UTF-16 code unit of a word. */
  wordCode(index: number): number {
    const s = this.starts[index]!;
    return s >= 0 ? (this.foldedText !== undefined ? this.foldedText.charCodeAt(s) : simpleFold(this.original.charCodeAt(s))) : this.fixed[-1 - s]!.charCodeAt(0);
  }

  mayHoldDigit(on: 'folded' | 'original'): boolean {
    return on === 'original' ? this.anyDigit : !this.noDigits;
  }

  get phoneNumbers(): readonly string[] {
    if (this.phones === undefined) {
      if (this.digits < 5) return (this.phones = NO_STRINGS); // no room for a 5-digit number
      const found: string[] = [];
      // Digits, separators and word boundaries are the same in the original when the folded
      // text is only its lower case (see S_REPLACED): no need to lower-case it for this.
      findPhoneNumbers(this.foldedText ?? this.original, Math.max(0, this.digitsFrom - 1), found);
      this.phones = found;
    }
    return this.phones;
  }

  get moneyAmounts(): readonly string[] {
    if (this.money === undefined) {
      if (this.noDigits) return (this.money = NO_STRINGS); // both forms of an amount need a digit
      const found: string[] = [];
      MONEY.lastIndex = 0;
      for (let m = MONEY.exec(this.folded); m !== null; m = MONEY.exec(this.folded)) found.push(m[0]);
      this.money = found;
    }
    return this.money;
  }
}

/**
 * Analyse a text once; the result is shared by every rule and the classifier. With `buffers`,
 * the words' positions and hashes go into them and stay valid only until the next analysis
 * made with the same buffers (see WordBuffers).
 */
export function analyseText(text: string, buffers?: WordBuffers): TextAnalysis {
  return new Analysis(text, buffers);
}
