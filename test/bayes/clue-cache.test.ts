/**
 * The model caches each token's f(w) and logarithms between checks (model.ts, ClueCache). These
 * tests hold its probabilities to a plain computation from the counts, bit for bit, while the
 * model changes under it in every way it can: learning, forgetting, counts set directly, totals
 * assigned, several parameter sets at once, more of them than it keeps caches for.
 */
import { describe, expect, it } from 'vitest';
import { BayesModel, chi2Q, DEFAULT_PARAMETERS, type ModelParameters } from '../../src/bayes/index.js';
import { keepMostExtreme } from '../../src/bayes/model.js';

/** The combiner written out plainly: f(w) per token from the counts, no cache. */
function reference(model: BayesModel, features: Int32Array, p: ModelParameters): number {
  if (!model.trained) return 0.5;
  const clues: number[] = [];
  for (const h of features) {
    const f = model.tokenProbability(h, p);
    if (f < 0 || Math.abs(f - 0.5) < p.minimumDeviation) continue;
    clues.push(f);
  }
  if (clues.length === 0) return 0.5;
  const buf = Float64Array.from(clues);
  let used = clues.length;
  if (used > p.maxClues) {
    keepMostExtreme(buf, used, p.maxClues, new Float64Array(used));
    used = p.maxClues;
  }
  let lnSpam = 0;
  let lnHam = 0;
  for (let i = 0; i < used; i++) {
    const f = Math.min(Math.max(buf[i]!, 1e-9), 1 - 1e-9);
    lnHam += Math.log(f);
    lnSpam += Math.log(1 - f);
  }
  return (1 - chi2Q(-2 * lnSpam, 2 * used) - (1 - chi2Q(-2 * lnHam, 2 * used)) + 1) / 2;
}

let seed = 11;
const random = (): number => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32);

/** A message: distinct token hashes from a small vocabulary, spam-leaning ones for spam. */
function message(spam: boolean, length = 5 + Math.floor(random() * 25)): Int32Array {
  const out = new Set<number>();
  while (out.size < length) {
    const word = Math.floor(random() * 400) + (spam && random() < 0.5 ? 300 : 0);
    out.add(Math.imul(word + 1, 0x2545f491) | 1);
  }
  return Int32Array.from(out);
}

const EMAIL_LIKE: ModelParameters = { ...DEFAULT_PARAMETERS, strength: 0.45 };

describe('the clue cache', () => {
  const model = new BayesModel();
  const trainedOn: Array<{ features: Int32Array; spam: boolean }> = [];
  const probes = Array.from({ length: 300 }, (_, i) => message(i % 3 === 0));
  const agree = (parameters: ModelParameters[] = [DEFAULT_PARAMETERS, EMAIL_LIKE]): void => {
    for (const f of probes) {
      for (const p of parameters) expect(model.probability(f, p)).toBe(reference(model, f, p));
    }
  };

  it('gives the plain computation bit for bit, and follows learning and forgetting', () => {
    expect(model.probability(probes[0]!)).toBe(0.5);
    for (let round = 0; round < 5; round++) {
      for (let i = 0; i < 40; i++) {
        const spam = random() < 0.3;
        const features = message(spam);
        model.learn(features, spam ? 'spam' : 'ham');
        trainedOn.push({ features, spam });
      }
      agree();
      // Forget a few; the next check must see the smaller counts.
      for (let i = 0; i < 5; i++) {
        const t = trainedOn.pop()!;
        model.learn(t.features, t.spam ? 'spam' : 'ham', -1);
      }
      agree();
    }
  });

  it('follows counts set on the table and totals assigned directly (as loading a model does)', () => {
    agree();
    model.table.set(probes[0]![0]!, 50, 0);
    agree();
    model.table.add(probes[1]![0]!, 0, 40);
    agree();
    model.spamMessages += 7;
    agree();
    model.hamMessages = Math.max(1, model.hamMessages - 3);
    agree();
  });

  it('keeps parameter sets apart, and stays right past the number of caches it keeps', () => {
    const many = [0.5, 1, 2, 3, 4, 5, 6].map((strength) => ({ ...DEFAULT_PARAMETERS, strength }));
    agree(many);
    agree([{ ...DEFAULT_PARAMETERS, minimumDeviation: 0.3 }, { ...DEFAULT_PARAMETERS, unknownProbability: 0.4 }, DEFAULT_PARAMETERS]);
  });

  it('keeps the most extreme clues of a long message as before', () => {
    const long = message(true, 390);
    for (const p of [DEFAULT_PARAMETERS, { ...DEFAULT_PARAMETERS, maxClues: 20 }]) {
      expect(model.probability(long, p)).toBe(reference(model, long, p));
    }
  });
});
