/**
 * The required-character prefilter of `regex` conditions may only skip texts the regex cannot
 * match: checked against the regex itself on the UCI corpus and on random texts built from the
 * characters the patterns name, for the shipped price regex and a set of awkward patterns.
 */
import { describe, expect, it } from 'vitest';
import { compileSafeRegex, mayMatch, mayMatchLiterals, requiredChars } from '../../src/rules/safe-regex.js';
import { analyseText } from '../../src/text/analysis.js';
import { prng, uciCorpus } from '../../bench/lib/measure.js';

const PRICE =
  '\\b\\d{1,3}(?:\\.\\d{1,2})?p\\s?(?:/|per\\s?)\\s?(?:min|msg|txt|text|message|minute)\\b|[£$€]\\s?\\d+(?:\\.\\d{1,2})?\\s?(?:/|per\\s?)\\s?(?:min|msg|wk|week|txt|text|message|minute)\\b';

const PATTERNS: Array<[string, string]> = [
  [PRICE, ''],
  ['a.*', ''],
  ['[0-9]+ ?(?:gbp|eur)', ''],
  ['(?:call|ring) 0[89]\\d{2}', ''],
  ['x{0,3}y', ''],
  ['(?:ab)+c|[^q]z', ''],
  ['win(?:ner)?!', 'i'],
  ['£\\d', 'u'],
  ['é+t', 'i'],
  ['k\\d', 'iu'],
  ['[\\s\\S]a', ''],
  ['\\u00a3\\d', ''],
  ['(a|b)(c|d)', ''],
  ['\\x41\\d', ''],
  ['(?:free|win) (?:cash|prize)', ''],
  ['(?:ab|a)c|z(?:ab|cd)+', ''],
  ['(?:x|\\d)y', ''],
  ['(?:/|per)\\s?min', ''],
  ['(?:FREE|win)!', 'i'],
  ['(?:£|€)\\d', 'u'],
];

/** Pieces the alternation patterns name, for random texts that reach their second stage. */
const PIECES = ['free', 'win', 'FREE', 'cash', 'prize', ' ', 'ab', 'a', 'c', '/', 'per', 'PER', 'min', '5p', '£1', '€2', 'msg', 'x', 'y', 'z', 'cd', '9', '!'];

const ALPHABET = '\uff11\u2460\u00bd１ap0123456789 /.£$€kKK\u212aéÉtxyzqcdbwinerWINER!\u00a0\tperminmsggbpeur08call';

describe('regex prefilter', () => {
  it('derives a requirement for the price-per-minute regex and skips ordinary texts with it', () => {
    const r = requiredChars(PRICE);
    expect(r).toBeDefined();
    const may = (t: string): boolean => mayMatch(r!, t, analyseText(t).mayHoldDigit('original'));
    expect(may('see you at home later')).toBe(false);
    expect(may('call me at 5')).toBe(false); // a digit, but no 'p' and no currency sign
    expect(may('Reply to enter, 150p/msg, 18+ only')).toBe(true);
    expect(may('Calls cost £1.50 per min from landlines')).toBe(true);
    // Read off the original when the folded text is its lower case: capitals count.
    expect(r!.caseless).toBe(true);
    expect(mayMatch(r!, 'REPLY NOW, 150P/MSG', true, true)).toBe(true);
    expect(mayMatch(r!, 'CALL ME AT 5', true, true)).toBe(false);
    expect(mayMatch(r!, 'CALL ME AT 5P', true, false)).toBe(false); // as a folded text, 'P' is not 'p'
    expect(mayMatch(r!, 'CALL ME AT 5P', true, true)).toBe(true);
  });

  it('skips, in a second stage, texts without any literal of an alternation the regex must pass', () => {
    const r = requiredChars(PRICE)!;
    expect(r.literals).toEqual(['/', 'per']); // of its alternations, the one with fewest literals, in both branches
    const stages = (t: string): [boolean, boolean] => {
      const a = analyseText(t);
      return [mayMatch(r, a.folded, a.mayHoldDigit('folded')), mayMatchLiterals(r, a.folded)];
    };
    expect(stages("I'll be there at 5pm, happy")).toEqual([true, false]); // a digit and a 'p', but no "/" nor "per"
    expect(stages('Reply to enter, 150p/msg, 18+ only')).toEqual([true, true]);
    expect(stages('Calls cost £1.50 per min from landlines')).toEqual([true, true]);
    // An option that starts with no literal gives the alternation none; nor does a branch without an alternation.
    expect(requiredChars('(?:x|\\d)y')!.literals).toEqual([]);
    expect(requiredChars('(?:abc|de)x|(?:ab|q)y')!.literals).toEqual(['abc', 'de', 'ab', 'q']);
    expect(requiredChars('(?:abc|de)x|zy')!.literals).toEqual([]);
    expect(requiredChars('(?:min|minute|min)s')!.literals).toEqual(['min']);
  });

  it('tests an original as its lower case only when every needed character is a letter of ASCII or has no case', () => {
    expect(requiredChars('é\\d')!.caseless).toBe(false);
    expect(requiredChars('[£$]\\d')!.caseless).toBe(true);
    expect(requiredChars('x\\d')!.caseless).toBe(true);
  });

  it('gives no requirement when an alternative can match anything, or letters under the i flag', () => {
    expect(requiredChars('a|b*')).toBeUndefined();
    expect(requiredChars('free', 'i')).toBeUndefined();
    expect(requiredChars('\\p{L}+', 'u')).toBeUndefined();
    expect(requiredChars('\\u00a3\\d')).toBeUndefined(); // ret reads \u as a letter
  });

  it('never skips a text the regex matches (UCI corpus and random texts)', () => {
    const random = prng(7);
    const texts = uciCorpus().map((c) => c.text);
    for (let i = 0; i < 20_000; i++) {
      let t = '';
      const n = 1 + Math.floor(random() * 12);
      for (let k = 0; k < n; k++) t += ALPHABET[Math.floor(random() * ALPHABET.length)];
      texts.push(t);
    }
    for (let i = 0; i < 20_000; i++) {
      let t = '';
      const n = 1 + Math.floor(random() * 6);
      for (let k = 0; k < n; k++) t += PIECES[Math.floor(random() * PIECES.length)];
      texts.push(t);
    }
    let skipped = 0;
    let skippedByLiterals = 0;
    for (const [pattern, flags] of PATTERNS) {
      const re = compileSafeRegex(pattern, flags);
      const r = requiredChars(pattern, flags);
      for (const t of texts) {
        re.lastIndex = 0;
        const a = analyseText(t);
        const onFolded = re.test(a.folded);
        re.lastIndex = 0;
        const onOriginal = re.test(t);
        const may = r === undefined || mayMatch(r, t, a.mayHoldDigit('original'));
        const mayFolded = r === undefined || mayMatch(r, a.folded, a.mayHoldDigit('folded'));
        if (onFolded && !mayFolded) throw new Error(`/${pattern}/${flags} matches the folded ${JSON.stringify(a.folded)} but the prefilter skipped it`);
        // The engine's way for most texts: the original tested as its lower case, the folded text never built.
        if (r !== undefined && r.caseless && a.foldedIsLowerCase && onFolded && !mayMatch(r, t, a.mayHoldDigit('folded'), true)) {
          throw new Error(`/${pattern}/${flags} matches the folded ${JSON.stringify(a.folded)} but the prefilter skipped its original`);
        }
        const matches = onOriginal;
        if (matches && !may) throw new Error(`/${pattern}/${flags} matches ${JSON.stringify(t)} but the prefilter skipped it`);
        if (!may) skipped++;
        if (r !== undefined && r.literals.length > 0) {
          if (onFolded && !mayMatchLiterals(r, a.folded)) {
            throw new Error(`/${pattern}/${flags} matches the folded ${JSON.stringify(a.folded)} but the literal stage skipped it`);
          }
          const literalsMay = mayMatchLiterals(r, t);
          if (matches && !literalsMay) throw new Error(`/${pattern}/${flags} matches ${JSON.stringify(t)} but the literal stage skipped it`);
          if (may && !literalsMay) skippedByLiterals++;
        }
      }
    }
    expect(skipped).toBeGreaterThan(10_000);
    expect(skippedByLiterals).toBeGreaterThan(1_000);
  });
});
