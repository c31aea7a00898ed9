/**
 * Honest evaluation: stratified k-fold cross-validation (or a given fold assignment, or
 * train-on-A/test-on-B), with the figures operators care about: spam caught (SC), ham blocked
 * (BH), F1, MCC and ROC AUC at the default cutoff, plus the confusion matrix.
 */
import { BayesModel, DEFAULT_PARAMETERS, type Label, type ModelParameters } from './model.js';

export interface Example {
  readonly label: Label;
  /** Feature hashes (see extractFeatures). */
  readonly features: Int32Array;
}

export interface Confusion {
  /** Spam judged spam, spam judged ham, ham judged spam, ham judged ham. */
  tp: number;
  fn: number;
  fp: number;
  tn: number;
}

export interface Metrics {
  readonly messages: number;
  readonly spam: number;
  readonly ham: number;
  readonly accuracy: number;
  /** Spam caught, percent of spam. */
  readonly spamCaughtPercent: number;
  /** Ham blocked, percent of ham. */
  readonly hamBlockedPercent: number;
  readonly precision: number;
  readonly f1: number;
  readonly mcc: number;
  readonly rocAuc: number;
  /** Messages in the unsure band (neither clearly ham nor clearly spam). */
  readonly unsure: number;
  readonly confusion: Confusion;
}

/** Deterministic PRNG (mulberry32) so folds depend only on the seed. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Fold number per example, spam and ham each spread evenly over the folds. */
export function stratifiedFolds(labels: readonly Label[], folds: number, seed: number): number[] {
  if (!Number.isInteger(folds) || folds < 2) throw new Error(`folds must be a whole number of at least 2, got ${folds}`);
  const random = seededRandom(seed);
  const assignment = new Array<number>(labels.length).fill(0);
  for (const label of ['spam', 'ham'] as const) {
    const idx = labels.map((l, i) => (l === label ? i : -1)).filter((i) => i >= 0);
    for (let i = idx.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [idx[i], idx[j]] = [idx[j]!, idx[i]!];
    }
    idx.forEach((example, k) => (assignment[example] = k % folds));
  }
  return assignment;
}

/** Area under the ROC curve by the rank-sum (Mann–Whitney) statistic, ties counted half. */
export function rocAuc(scores: readonly number[], labels: readonly Label[]): number {
  const order = scores.map((s, i) => [s, i] as const).sort((a, b) => a[0] - b[0]);
  let rankSumSpam = 0;
  let spam = 0;
  let i = 0;
  while (i < order.length) {
    let j = i;
    while (j + 1 < order.length && order[j + 1]![0] === order[i]![0]) j++;
    const rank = (i + j + 2) / 2;
    for (let k = i; k <= j; k++) {
      if (labels[order[k]![1]] === 'spam') {
        rankSumSpam += rank;
        spam++;
      }
    }
    i = j + 1;
  }
  const ham = scores.length - spam;
  if (spam === 0 || ham === 0) return NaN;
  return (rankSumSpam - (spam * (spam + 1)) / 2) / (spam * ham);
}

export function metricsFrom(scores: readonly number[], labels: readonly Label[], cutoff: number, hamCutoff = 0.2): Metrics {
  const c: Confusion = { tp: 0, fn: 0, fp: 0, tn: 0 };
  let unsure = 0;
  scores.forEach((p, i) => {
    const spamSaid = p >= cutoff;
    if (p > hamCutoff && p < cutoff) unsure++;
    if (labels[i] === 'spam') spamSaid ? c.tp++ : c.fn++;
    else spamSaid ? c.fp++ : c.tn++;
  });
  const spam = c.tp + c.fn;
  const ham = c.fp + c.tn;
  const precision = c.tp + c.fp === 0 ? 0 : c.tp / (c.tp + c.fp);
  const recall = spam === 0 ? 0 : c.tp / spam;
  const denom = Math.sqrt((c.tp + c.fp) * (c.tp + c.fn) * (c.tn + c.fp) * (c.tn + c.fn));
  return {
    messages: scores.length,
    spam,
    ham,
    accuracy: (c.tp + c.tn) / Math.max(scores.length, 1),
    spamCaughtPercent: spam ? (100 * c.tp) / spam : 0,
    hamBlockedPercent: ham ? (100 * c.fp) / ham : 0,
    precision,
    f1: precision + recall === 0 ? 0 : (2 * precision * recall) / (precision + recall),
    mcc: denom === 0 ? 0 : (c.tp * c.tn - c.fp * c.fn) / denom,
    rocAuc: rocAuc(scores, labels),
    unsure,
    confusion: c,
  };
}

/** Train on some examples, score others: the probability per test example. */
export function trainAndScore(train: readonly Example[], test: readonly Example[], parameters: ModelParameters = DEFAULT_PARAMETERS): number[] {
  const model = new BayesModel(parameters);
  for (const e of train) model.learn(e.features, e.label);
  return test.map((e) => model.probability(e.features));
}

/** Cross-validated probabilities: each example scored by a model that never saw it. */
export function crossValidate(examples: readonly Example[], assignment: readonly number[], parameters: ModelParameters = DEFAULT_PARAMETERS): number[] {
  const folds = Math.max(...assignment) + 1;
  const scores = new Array<number>(examples.length).fill(0.5);
  for (let f = 0; f < folds; f++) {
    const train: Example[] = [];
    const testIdx: number[] = [];
    examples.forEach((e, i) => (assignment[i] === f ? testIdx.push(i) : train.push(e)));
    const probs = trainAndScore(train, testIdx.map((i) => examples[i]!), parameters);
    testIdx.forEach((i, k) => (scores[i] = probs[k]!));
  }
  return scores;
}
