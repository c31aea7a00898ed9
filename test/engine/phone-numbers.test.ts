/**
 * Phone numbers in message text are found by a hand-written scanner (findPhoneNumbers) that
 * must find exactly what the regex it replaced finds: the same matches, the same digits kept.
 */
import { describe, expect, it } from 'vitest';
import { analyseText, findPhoneNumbers } from '../../src/text/analysis.js';
import { prng, uciCorpus } from '../../bench/lib/measure.js';
import { analyseText as referenceAnalysis } from './reference/analysis.js';

const PHONE = /(?:\+|\b)\d[\d \-.()]{3,18}\d\b/g;

/** The regex version, as the analysis ran it before. */
function byRegex(text: string): string[] {
  const found: string[] = [];
  PHONE.lastIndex = 0;
  for (let m = PHONE.exec(text); m !== null; m = PHONE.exec(text)) {
    const digits = m[0].replace(/[^\d]/g, '');
    if (digits.length >= 5 && digits.length <= 15) found.push(m[0].startsWith('+') ? '+' + digits : digits);
  }
  return found;
}

function byScanner(text: string, from = 0): string[] {
  const found: string[] = [];
  findPhoneNumbers(text, from, found);
  return found;
}

/** 50,000 texts of 1 to `longest` characters drawn from `alphabet`. */
function randomTexts(seed: number, alphabet: string, longest: number): string[] {
  const random = prng(seed);
  return Array.from({ length: 50_000 }, () => {
    const length = 1 + Math.floor(random() * longest);
    let text = '';
    for (let i = 0; i < length; i++) text += alphabet[Math.floor(random() * alphabet.length)];
    return text;
  });
}

describe('phone numbers in text', () => {
  it('finds numbers written with spaces, dashes, dots and brackets, with or without +', () => {
    expect(byScanner('Call 09061701461 to claim')).toEqual(['09061701461']);
    expect(byScanner('ring +44 (0)20 7946-0018 now')).toEqual(['+4402079460018']);
    expect(byScanner('For your chat line call 0871 872 9758 now')).toEqual(['08718729758']);
    expect(byScanner('txt WIN to 87121 or 81010')).toEqual(['87121', '81010']);
    expect(byScanner('only 1234 here, and a12345 is no number')).toEqual([]);
  });

  it('finds a number written in fullwidth digits, which fold to ASCII ones', () => {
    expect(analyseText('Call ０９０６１７０１４６１ to claim').phoneNumbers).toEqual(['09061701461']);
    expect(analyseText('ＣＡＬＬ ０８７１ ８７２ ９７５８ ＮＯＷ').phoneNumbers).toEqual(['08718729758']);
    expect(analyseText('txt ８７１２１ 😀').phoneNumbers).toEqual(['87121']); // an emoji: the full path
  });

  it('agrees with the regex on every text of the UCI corpus, and the analysis with the reference', () => {
    const texts = uciCorpus().map((c) => c.text);
    expect(texts.filter((t) => JSON.stringify(byScanner(t)) !== JSON.stringify(byRegex(t))).slice(0, 5)).toEqual([]);
    expect(texts.filter((t) => JSON.stringify(analyseText(t).phoneNumbers) !== JSON.stringify(referenceAnalysis(t).phoneNumbers)).slice(0, 5)).toEqual([]);
  });

  it('agrees with the regex on 50,000 random texts made of digits, separators and word characters', () => {
    const differing = randomTexts(2026, '0123456789012345678901234567890123456789 +-.()_ax£\u00e9\u0661', 60).flatMap((text) => [
      ...(JSON.stringify(byScanner(text)) !== JSON.stringify(byRegex(text)) ? [text] : []),
      ...(JSON.stringify(analyseText(text).phoneNumbers) !== JSON.stringify(referenceAnalysis(text).phoneNumbers) ? [`analysis of ${text}`] : []),
    ]);
    expect(differing.slice(0, 5)).toEqual([]);
  });

  // The analysis looks for numbers in the folded text (as the reference does, test/engine/reference/).
  it('agrees with the reference analysis on 50,000 random texts with letters, joiners and letters beyond ASCII', () => {
    // Joiners (@ $ ! | £ ' ’) between word characters make one token, behind which a digit may start a number.
    const texts = randomTexts(2027, "0123456789012345678901234567890123456789   +-.()_aZx@$!|£'\u2019\u00e9\u00fc\u00f0\u00b2\uff11\uff0b", 40);
    const differing = texts.filter((text) => JSON.stringify(analyseText(text).phoneNumbers) !== JSON.stringify(referenceAnalysis(text).phoneNumbers));
    expect(differing.slice(0, 5)).toEqual([]);
  });

  it('gives the same numbers from the analysis, which starts looking at the first token with a digit', () => {
    const texts = ['Hi there, call +447700900123 today', 'abc (0800) 123-456 x', 'no numbers at all', 'x 1 2 3 4 5 6', 'FREE msg: txt 87121 £1.50 per min'];
    for (const t of texts) expect(analyseText(t).phoneNumbers).toEqual(byRegex(t));
  });
});
