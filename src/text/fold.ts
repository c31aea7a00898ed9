/**
 * Character-level folding: what spammers do to defeat keyword filters, undone.
 *
 * `foldText` gives the matching form of a text: NFKC (fullwidth ０ becomes 0, ligatures split),
 * lower case, invisible characters removed, control characters turned into spaces, and
 * look-alike letters from other scripts mapped to Latin when they hide inside Latin text.
 * Keywords and rule phrases go through the same function, so both sides always agree.
 */

/**
 * Lower-case look-alikes from Cyrillic, Greek and a few Latin extensions that render like a
 * Latin letter (a subset of Unicode's confusables.txt, the ones seen in SMS and mail spam).
 */
const CONFUSABLE_PAIRS: ReadonlyArray<readonly [string, string]> = [
  // Cyrillic
  ['а', 'a'], ['в', 'b'], ['е', 'e'], ['ё', 'e'], ['к', 'k'], ['м', 'm'], ['н', 'h'], ['о', 'o'],
  ['р', 'p'], ['с', 'c'], ['т', 't'], ['у', 'y'], ['х', 'x'], ['ѕ', 's'], ['і', 'i'], ['ї', 'i'],
  ['ј', 'j'], ['һ', 'h'], ['ԁ', 'd'], ['ԛ', 'q'], ['ԝ', 'w'], ['ӏ', 'l'], ['ѵ', 'v'], ['ɡ', 'g'],
  ['ь', 'b'], ['п', 'n'], ['г', 'r'],
  // Greek
  ['α', 'a'], ['β', 'b'], ['ε', 'e'], ['η', 'n'], ['ι', 'i'], ['κ', 'k'], ['ν', 'v'], ['ο', 'o'],
  ['ρ', 'p'], ['τ', 't'], ['υ', 'u'], ['χ', 'x'], ['γ', 'y'], ['ω', 'w'], ['μ', 'u'],
  // Latin extensions and symbols that stand in for letters
  ['ı', 'i'], ['ł', 'l'], ['ø', 'o'], ['đ', 'd'], ['ß', 'ss'], ['ǀ', 'l'],
];

const CONFUSABLE = new Map<number, string>(CONFUSABLE_PAIRS.map(([from, to]) => [from.charCodeAt(0), to]));

/** True for a code unit that is a Latin letter (ASCII or Latin-1/Extended-A/B). */
export function isLatinLetter(c: number): boolean {
  return (
    (c >= 0x61 && c <= 0x7a) ||
    (c >= 0x41 && c <= 0x5a) ||
    (c >= 0xc0 && c <= 0x24f && c !== 0xd7 && c !== 0xf7)
  );
}

export interface FoldResult {
  /** The matching form. */
  readonly text: string;
  /** How many look-alike characters were mapped (a signal of obfuscation). */
  readonly confusables: number;
  /** How many invisible characters were removed. */
  readonly invisibles: number;
}

const INVISIBLES = /[\u00ad\u034f\u061c\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff\ufe00-\ufe0f]/g;
// eslint-disable-next-line no-control-regex
const CONTROLS = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g;
/** Combining marks on a Latin letter: accents and strike-through decorations (f̶r̶e̶e̶). */
const MARKS_ON_LATIN = /(?<=[a-z])\p{M}+/gu;
const WORDS = /[\p{L}\p{N}]+/gu;

/** The whole pipeline, for texts the character table cannot fold (see `foldFast`). */
function foldSlow(text: string, latinContext: boolean): FoldResult {
  let s = text.normalize('NFKC');
  const before = s.length;
  s = s.replace(INVISIBLES, '');
  const invisibles = before - s.length;
  s = s.replace(CONTROLS, ' ').toLowerCase();
  s = s.normalize('NFD').replace(MARKS_ON_LATIN, '').normalize('NFC');

  let confusables = 0;
  s = s.replace(WORDS, (word) => {
    let hasLatin = false;
    let hasConfusable = false;
    for (let i = 0; i < word.length; i++) {
      const c = word.charCodeAt(i);
      if (isLatinLetter(c)) hasLatin = true;
      else if (CONFUSABLE.has(c)) hasConfusable = true;
    }
    if (!hasConfusable || !(hasLatin || latinContext)) return word;
    let mapped = '';
    for (let i = 0; i < word.length; i++) {
      const to = CONFUSABLE.get(word.charCodeAt(i));
      if (to !== undefined) confusables++;
      mapped += to ?? word[i];
    }
    return mapped;
  });
  return { text: s, confusables, invisibles };
}

// ---- the character table ----------------------------------------------------------------
//
// Most texts (every ASCII one, and those with £, ü, ’, …, emoji or fullwidth letters) fold
// character by character: each character's folded form does not depend on its neighbours. The
// table holds that form per code unit, computed once by running the whole pipeline on the
// character alone, and a text folds by table lookups and one native lower-casing. Characters
// whose folding can depend on neighbours stay out of the table and send the text down the
// whole pipeline: combining marks (they compose with, or are stripped after, the character
// before), look-alikes (mapped or not by word and script context), lone surrogates, and
// characters outside the ranges below, checked to hold no composition partners.

const UNKNOWN = 0;
/** Folds to its own lower case: left to the native lower-casing of the whole run. */
const KEEP = 1;
/** Folds to FOLD_TO[c] (possibly empty for an invisible character). */
const REPLACE = 2;
/** Needs the whole pipeline. */
const COMPLEX = 3;

const FOLD_KIND = new Uint8Array(65536);
const FOLD_TO: string[] = [];
/** Invisible characters a code unit's folding removes (counted as obfuscation). */
const FOLD_INVISIBLES = new Uint8Array(65536);
/** The same for astral code points (emoji, mathematical letters), by code point. */
const ASTRAL = new Map<number, { kind: number; to: string; invisibles: number }>();

const STARTS_WITH_MARK = /^\p{M}/u;
const HAS_MARK = /\p{M}/u;
const INVISIBLE = new RegExp(`^${INVISIBLES.source}$`);

/** Ranges whose characters never compose with a neighbour under NFKC (no marks, no jamo). */
function inSafeRange(c: number): boolean {
  return c < 0x2b0 || (c >= 0x2000 && c < 0x2c00) || (c >= 0x3000 && c < 0x3040) || (c >= 0xff00 && c < 0xfff0);
}

function classify(ch: string, safeRange: boolean): { kind: number; to: string; invisibles: number } {
  // Invisibles (variation selectors and the grapheme joiner too, though they are marks) are
  // removed whatever their neighbours: a mark they would expose is itself complex.
  if (INVISIBLE.test(ch)) return { kind: REPLACE, to: '', invisibles: 1 };
  if (!safeRange || HAS_MARK.test(ch)) return { kind: COMPLEX, to: '', invisibles: 0 };
  const nfkc = ch.normalize('NFKC');
  if (STARTS_WITH_MARK.test(nfkc.normalize('NFD'))) return { kind: COMPLEX, to: '', invisibles: 0 };
  const folded = foldSlow(ch, true);
  if (folded.confusables > 0) return { kind: COMPLEX, to: '', invisibles: 0 };
  for (let i = 0; i < folded.text.length; i++) if (CONFUSABLE.has(folded.text.charCodeAt(i))) return { kind: COMPLEX, to: '', invisibles: 0 };
  if (STARTS_WITH_MARK.test(folded.text)) return { kind: COMPLEX, to: '', invisibles: 0 };
  const kind = folded.text === ch.toLowerCase() ? KEEP : REPLACE;
  return { kind, to: folded.text, invisibles: folded.invisibles };
}

function foldKind(c: number): number {
  let k = FOLD_KIND[c]!;
  if (k === UNKNOWN) {
    const r = c >= 0xd800 && c <= 0xdfff ? { kind: COMPLEX, to: '', invisibles: 0 } : classify(String.fromCharCode(c), inSafeRange(c));
    k = r.kind;
    FOLD_KIND[c] = k;
    FOLD_TO[c] = r.to;
    FOLD_INVISIBLES[c] = r.invisibles;
  }
  return k;
}

function astral(cp: number): { kind: number; to: string; invisibles: number } {
  let r = ASTRAL.get(cp);
  if (r === undefined) {
    // Astral planes hold no composition partners of other characters; marks are refused.
    r = classify(String.fromCodePoint(cp), true);
    if (ASTRAL.size < 4096) ASTRAL.set(cp, r);
  }
  return r;
}

// Printable ASCII, tab and newline fold to their lower case; other controls to a space.
for (let c = 0; c < 0x80; c++) {
  const printable = (c >= 0x20 && c < 0x7f) || c === 0x09 || c === 0x0a;
  FOLD_KIND[c] = printable ? KEEP : REPLACE;
  FOLD_TO[c] = printable ? String.fromCharCode(c).toLowerCase() : ' ';
}

/**
 * The one code unit a BMP character folds to on its own (lower case, accent dropped, NFKC),
 * or -1 when its folding depends on its neighbours or changes the length (ligatures, "…",
 * invisibles). Texts made only of such characters fold without changing any position.
 */
export function foldedUnit(c: number): number {
  if (c >= 0xd800 && c <= 0xdfff) return -1;
  const k = foldKind(c);
  if (k === KEEP) {
    const lower = String.fromCharCode(c).toLowerCase();
    return lower.length === 1 ? lower.charCodeAt(0) : -1;
  }
  if (k === REPLACE) {
    const to = FOLD_TO[c]!;
    return to.length === 1 ? to.charCodeAt(0) : -1;
  }
  return -1;
}

/**
 * Fold by the character table, or undefined when a character needs the whole pipeline.
 * `from` is where the first character that is not printable ASCII is.
 */
function foldFast(text: string, from: number): FoldResult | undefined {
  let out = '';
  let last = 0;
  let invisibles = 0;
  for (let i = from; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) {
      if (FOLD_KIND[c] === KEEP) continue;
      out += text.slice(last, i).toLowerCase() + ' ';
      last = i + 1;
      continue;
    }
    if (c >= 0xd800 && c <= 0xdbff) {
      const d = text.charCodeAt(i + 1);
      if (!(d >= 0xdc00 && d <= 0xdfff)) return undefined;
      const r = astral(((c - 0xd800) << 10) + (d - 0xdc00) + 0x10000);
      if (r.kind === COMPLEX) return undefined;
      if (r.kind === REPLACE) {
        out += text.slice(last, i).toLowerCase() + r.to;
        last = i + 2;
        invisibles += r.invisibles;
      }
      i++;
      continue;
    }
    const k = foldKind(c);
    if (k === KEEP) continue;
    if (k === COMPLEX) return undefined;
    out += text.slice(last, i).toLowerCase() + FOLD_TO[c]!;
    last = i + 1;
    invisibles += FOLD_INVISIBLES[c]!;
  }
  const lowered = last === 0 ? text.toLowerCase() : out + text.slice(last).toLowerCase();
  return { text: lowered, confusables: 0, invisibles };
}

/**
 * Fold a text for matching: NFKC, invisibles and controls removed, lower case, accents on
 * Latin letters dropped (frée matches free), and look-alike letters mapped to Latin. Texts
 * made of characters that fold on their own (nearly all) go through the character table; the
 * result is the same as the whole pipeline's (checked by test/engine/analysis-equivalence).
 *
 * `latinContext`: the text is mostly Latin, so look-alikes are mapped in every word; otherwise
 * only in words that mix them with Latin letters, which keeps genuine Cyrillic or Greek intact.
 */
export function foldText(text: string, latinContext = true): FoldResult {
  let i = 0;
  const n = text.length;
  while (i < n) {
    const c = text.charCodeAt(i);
    if (c >= 0x7f || (c < 0x20 && c !== 0x09 && c !== 0x0a)) break;
    i++;
  }
  if (i === n) return { text: text.toLowerCase(), confusables: 0, invisibles: 0 };
  return foldFast(text, i) ?? foldSlow(text, latinContext);
}
