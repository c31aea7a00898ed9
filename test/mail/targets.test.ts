/**
 * Accuracy on the fixed 70/30 SpamAssassin split (src/mail/corpus.ts): Bayes trained on the
 * 70 %, the 30 % scored with the shipped email rules plus that classifier and the email score
 * bands (src/bayes/email-bands.ts), as a mail scan scores it.
 *
 * Targets (issue 4): ham held at most 0.5 %, spam caught at least 97 %. Everything was chosen
 * by cross-validation on the 70 % only (src/mail/experiment.ts), then measured once here
 * after each change. With the sender history (src/bayes/sender-history.ts, 25 Nov): spam
 * caught 98.07 % (558 of 569), ham held 0.40 % (5 of 1,245, all hard ham), so both targets are
 * asserted; before it, 7 ham were held (0.56 %) and a ceiling stood in for the ham target.
 * CV on the 70 % holds 0.12 % of ham (3.6 of 2,905, mean of 5 fold assignments).
 */
import { describe, expect, it } from 'vitest';
import { evaluateSpamAssassinSplit } from '../../src/mail/evaluate.js';

const TARGET = { hamHeldMax: 0.5, spamCaughtMin: 97 };

describe('rules + Bayes on the SpamAssassin 70/30 split', () => {
  it('catches at least 97 % of spam and holds at most 0.5 % of ham', async () => {
    const r = await evaluateSpamAssassinSplit();
    expect(r.train).toEqual({ spam: 1327, ham: 2905 });
    expect(r.test).toEqual({ spam: 569, ham: 1245, hardHam: 75 });
    expect(r.unparsed).toEqual([]);
    // Printed so CI logs carry the figures.
    console.log(
      `spam caught ${r.spamCaughtPercent.toFixed(2)}% (${r.spamCaught}/${r.test.spam}; target ≥ ${TARGET.spamCaughtMin}%), ` +
        `ham held ${r.hamHeldPercent.toFixed(2)}% (${r.hamHeld}/${r.test.ham}, ${r.hardHamHeld} of ${r.test.hardHam} hard ham; target ≤ ${TARGET.hamHeldMax}%)`,
    );
    expect(r.spamCaughtPercent).toBeGreaterThanOrEqual(TARGET.spamCaughtMin);
    expect(r.hamHeldPercent).toBeLessThanOrEqual(TARGET.hamHeldMax);
    // Easy ham is never held; what is held is hard ham (commercial newsletters).
    expect(r.hamHeld).toBe(r.hardHamHeld);
  });
});
