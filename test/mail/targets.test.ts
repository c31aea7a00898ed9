/**
 * Accuracy on the fixed 70/30 SpamAssassin split (src/mail/corpus.ts): Bayes trained on the
 * 70 %, the 30 % scored with the shipped email rules plus that classifier and the bayes room's
 * score bands, as `spamgate scan` would score it.
 *
 * Targets (issue 4): ham held at most 0.5 %, spam caught at least 97 %. Neither is met yet
 * (docs/mail.md: 0.56 % and 92.1 % when this was written; the seven ham held are hard ham the
 * classifier alone puts in its top band). Until they are, this test asserts floors a little
 * below the level reached, so a change that loses ground fails; raise them to the targets once
 * they are met.
 */
import { describe, expect, it } from 'vitest';
import { evaluateSpamAssassinSplit } from '../../src/mail/evaluate.js';

const TARGET = { hamHeldMax: 0.5, spamCaughtMin: 97 };
const FLOOR = { hamHeldMax: 1.0, spamCaughtMin: 88 };

describe('rules + Bayes on the SpamAssassin 70/30 split', () => {
  it('keeps ham held and spam caught at or beyond the level reached', async () => {
    const r = await evaluateSpamAssassinSplit();
    expect(r.train).toEqual({ spam: 1327, ham: 2905 });
    expect(r.test).toEqual({ spam: 569, ham: 1245, hardHam: 75 });
    expect(r.unparsed).toEqual([]);
    // Printed so CI logs carry the figures.
    console.log(
      `spam caught ${r.spamCaughtPercent.toFixed(2)}% (${r.spamCaught}/${r.test.spam}; target ≥ ${TARGET.spamCaughtMin}%), ` +
        `ham held ${r.hamHeldPercent.toFixed(2)}% (${r.hamHeld}/${r.test.ham}, ${r.hardHamHeld} of ${r.test.hardHam} hard ham; target ≤ ${TARGET.hamHeldMax}%)`,
    );
    expect(r.hamHeldPercent).toBeLessThanOrEqual(FLOOR.hamHeldMax);
    expect(r.spamCaughtPercent).toBeGreaterThanOrEqual(FLOOR.spamCaughtMin);
  });
});
