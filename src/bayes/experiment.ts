/**
 * Cross-validation of the whole decision, not only the classifier: for each fold a model is
 * trained on the other folds and every held-out message is checked by an engine with the
 * operator rules plus that model, exactly as `spamgate scan` would. "Blocked" means the
 * engine quarantined or blocked it. `bayesOnly` scores the classifier alone at SPAM_CUTOFF.
 */
import { createEngine } from '../engine/engine.js';
import type { CompiledRuleSet } from '../rules/compile.js';
import { AddressNormaliser } from '../message/address.js';
import { normaliseMessage } from '../message/normalise.js';
import type { MessageInput } from '../message/types.js';
import { analyseText } from '../text/analysis.js';
import { BayesClassifier } from './classifier.js';
import { metricsFrom, type Metrics } from './evaluate.js';
import { extractFeatures } from './features.js';
import { BayesModel, type Label } from './model.js';
import { BAYES_BANDS, SPAM_CUTOFF } from './index.js';

export interface LabelledMessage {
  readonly label: Label;
  readonly input: MessageInput;
}

export interface ExperimentOptions {
  /** Operator rules for the engine; omit with bayesOnly. */
  readonly rules?: CompiledRuleSet;
  readonly bayesOnly?: boolean;
  readonly normaliser?: AddressNormaliser;
}

/** Per-message features, computed once and reused by every fold. */
export function featuresOf(data: readonly LabelledMessage[], normaliser = new AddressNormaliser()): Int32Array[] {
  return data.map((d) => {
    const m = normaliseMessage(d.input, normaliser);
    return extractFeatures(m, analyseText(m.text));
  });
}

/**
 * Score `test` with a model trained on `train`. Returns per-message scores and the cutoff
 * that means "blocked": probabilities vs SPAM_CUTOFF (bayesOnly), or engine scores with forced
 * actions mapped above the quarantine threshold.
 */
export function scoreSplit(
  data: readonly LabelledMessage[],
  features: readonly Int32Array[],
  trainIdx: readonly number[],
  testIdx: readonly number[],
  options: ExperimentOptions,
): { scores: number[]; cutoff: number } {
  const model = new BayesModel();
  for (const i of trainIdx) model.learn(features[i]!, data[i]!.label);
  if (options.bayesOnly) return { scores: testIdx.map((i) => model.probability(features[i]!)), cutoff: SPAM_CUTOFF };
  const engine = createEngine({ ...(options.rules ? { rules: options.rules } : {}), classifier: new BayesClassifier(model), bayesBands: BAYES_BANDS });
  const cutoff = engine.thresholds.quarantine;
  const scores = testIdx.map((i) => {
    const v = engine.check(data[i]!.input);
    // Keep the ranking by score for ROC AUC, but make forced actions land on the right side.
    const held = v.action === 'quarantine' || v.action === 'block';
    return held ? Math.max(v.score, cutoff) : Math.min(v.score, cutoff - 1e-6);
  });
  return { scores, cutoff };
}

export function crossValidateMessages(
  data: readonly LabelledMessage[],
  assignment: readonly number[],
  options: ExperimentOptions,
  features: readonly Int32Array[] = featuresOf(data, options.normaliser),
): Metrics {
  const folds = Math.max(...assignment) + 1;
  const scores = new Array<number>(data.length).fill(0);
  let cutoff = 0;
  for (let f = 0; f < folds; f++) {
    const train: number[] = [];
    const test: number[] = [];
    assignment.forEach((a, i) => (a === f ? test : train).push(i));
    if (test.length === 0) continue;
    const r = scoreSplit(data, features, train, test, options);
    cutoff = r.cutoff;
    test.forEach((i, k) => (scores[i] = r.scores[k]!));
  }
  return metricsFrom(scores, data.map((d) => d.label), cutoff, options.bayesOnly ? undefined : cutoff);
}

export function trainTestMessages(train: readonly LabelledMessage[], test: readonly LabelledMessage[], options: ExperimentOptions): Metrics {
  const all = [...train, ...test];
  const features = featuresOf(all, options.normaliser);
  const trainIdx = train.map((_, i) => i);
  const testIdx = test.map((_, i) => train.length + i);
  const r = scoreSplit(all, features, trainIdx, testIdx, options);
  return metricsFrom(r.scores, test.map((d) => d.label), r.cutoff, options.bayesOnly ? undefined : r.cutoff);
}
