// Frozen copy of the text folding as it was before the hot-path work (commit fb49e5e), kept as
// the oracle for test/engine/analysis-equivalence.test.ts: the fast paths must give exactly
// what this straightforward version gives. Do not optimise this file.
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

/** True when every code unit is printable ASCII, tab or newline: the common SMS case. */
function isPlainAscii(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 0x7f || (c < 0x20 && c !== 0x09 && c !== 0x0a)) return false;
  }
  return true;
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

/**
 * Fold a text for matching. ASCII texts take a fast path (one native lower-casing); others are
 * NFKC-normalised, stripped of invisibles and controls, their accents on Latin letters dropped
 * (frée matches free), and look-alike letters mapped to Latin.
 *
 * `latinContext`: the text is mostly Latin, so look-alikes are mapped in every word; otherwise
 * only in words that mix them with Latin letters, which keeps genuine Cyrillic or Greek intact.
 */
export function foldText(text: string, latinContext = true): FoldResult {
  if (isPlainAscii(text)) return { text: text.toLowerCase(), confusables: 0, invisibles: 0 };

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
