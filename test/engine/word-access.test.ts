/**
 * The word accessors the hot paths use (word, wordIs, wordLength, wordCode) agree with the
 * `words` list, also before the folded text exists (texts with capitals are lower-cased only
 * when something reads the folded text).
 */
import { describe, expect, it } from 'vitest';
import { analyseText } from '../../src/text/analysis.js';
import { prng, uciCorpus } from '../../bench/lib/measure.js';

const PIECES = ['FREE', 'Win', 'c@sh', 'f.r.e.e', 'W I N N E R', "don't", 'don’t', 'www.Example.COM', 'HTTP://X.CO/A', 'Call 0800', 'l00k', 'Prize!', '£100', 'ÉTÉ', 'txt STOP', 'ÜBER', 'Æble', 'fr£e', '–', '‘Hi’', '\u00a0', '²nd'];

function texts(): string[] {
  const random = prng(11);
  const out = uciCorpus().map((c) => c.text);
  for (let i = 0; i < 5000; i++) {
    const n = 1 + Math.floor(random() * 6);
    out.push(Array.from({ length: n }, () => PIECES[Math.floor(random() * PIECES.length)]).join(random() < 0.5 ? ' ' : ' and '));
  }
  return out;
}

describe('word accessors', () => {
  it('match the words list before and after the folded text is read', () => {
    let lazy = 0;
    let latinCapitals = 0;
    for (const t of texts()) {
      const expected = analyseText(t).words;
      const a = analyseText(t);
      expect(a.wordCount).toBe(expected.length);
      for (let i = 0; i < expected.length; i++) {
        const w = expected[i]!;
        if (!a.wordIs(i, w) || a.wordIs(i, w + 'x') || (w.length > 1 && a.wordIs(i, w.slice(1) + w[0]) && w.slice(1) + w[0] !== w)) {
          throw new Error(`wordIs disagrees on word ${i} '${w}' of ${JSON.stringify(t)}`);
        }
        if (a.wordLength(i) !== w.length || a.wordCode(i) !== w.charCodeAt(0) || a.word(i) !== w) {
          throw new Error(`accessors disagree on word ${i} '${w}' of ${JSON.stringify(t)}`);
        }
      }
      if (/[A-Z]/.test(t) && !/[^\x00-\x7f]/.test(t)) lazy++;
      if (/[ÆÜ]/.test(t)) latinCapitals++;
      expect(a.words).toEqual(expected);
      expect(a.folded).toBe(analyseText(t).folded);
    }
    expect(lazy).toBeGreaterThan(1000);
    expect(latinCapitals).toBeGreaterThan(500);
  });
});
