/**
 * Score bands for the Bayesian classifier's spam probability on email, highest first. Email
 * has its own because the classifier's probabilities on long messages are spread differently
 * from SMS (and email uses a weaker prior, EMAIL_MODEL_PARAMETERS). Chosen by
 * `npx tsx src/mail/experiment.ts --bands` on the 70 % training split only: the most spam
 * held with at most 0.3 % of ham held, out of fold (5 folds; nested, 97.8 % caught and
 * 0.24 % ham held). With the quarantine threshold at 6, a probability of 0.7 holds a message
 * on its own; the unsure band 0.3–0.7 adds 3–4, which a rule or two push over. Kept after the
 * email tokens and clue count of 25 Nov: with them, these bands hold 0.19 % of ham in CV, and
 * bands searched again at 0.3 % would hold more (0.30 %, nested) for 0.5 points more spam.
 */
import type { ScoreBand } from '../engine/types.js';

export const EMAIL_BAYES_BANDS: readonly ScoreBand[] = [
  { id: 'BAYES_70', min: 0.7, score: 6 },
  { id: 'BAYES_60', min: 0.6, score: 4 },
  { id: 'BAYES_30', min: 0.3, score: 3 },
  { id: 'BAYES_01', min: 0.01, score: -1 },
  { id: 'BAYES_00', min: 0, score: -2 },
];
