/**
 * The statistical filter (X.1231 content filtering with learning). The engine sees only a
 * SpamClassifier; this room owns features, the model, training and evaluation.
 */
import type { ScoreBand } from '../engine/types.js';
import type { ClassifierSource } from '../cli/common.js';
import { AddressNormaliser, assertRegion } from '../message/address.js';
import { normaliseMessage } from '../message/normalise.js';
import type { MessageInput } from '../message/types.js';
import { defaultDatabasePath } from '../store/db.js';
import { loadModel, TokenStore, type TrainOutcome } from '../store/tokens.js';
import { analyseText } from '../text/analysis.js';
import { EMAIL_BAYES_BANDS } from './email-bands.js';
import { BayesClassifier } from './classifier.js';
import { extractFeatures } from './features.js';
import { BayesModel, type Label, type ModelParameters } from './model.js';
import { TokenTable, type SharedTokenSlots } from './token-table.js';

export { BayesClassifier } from './classifier.js';
export { BayesModel, DEFAULT_PARAMETERS, chi2Q, type Label, type ModelParameters } from './model.js';
export { extractFeatures, featureStrings, DEFAULT_FEATURES, type FeatureOptions } from './features.js';
export { TokenTable, tokenHash } from './token-table.js';
export { TokenStore, loadModel, messageDigest, type TrainOutcome } from '../store/tokens.js';
export * from './evaluate.js';

/** At or above this probability the classifier alone calls a message spam. */
export const SPAM_CUTOFF = 0.85;
/** At or below this it calls it ham; in between is the unsure band. */
export const HAM_CUTOFF = 0.2;

/**
 * Probability bands and their scores, highest first. With the shipped thresholds
 * (quarantine at 6) a probability at or above the cutoff quarantines on its own; the unsure
 * band adds score that rules can push over. Chosen on the UCI SMS folds (see docs/bayes.md).
 */
export const BAYES_BANDS: readonly ScoreBand[] = [
  { id: 'BAYES_85', min: SPAM_CUTOFF, score: 6 },
  { id: 'BAYES_60', min: 0.6, score: 3 },
  { id: 'BAYES_40', min: 0.4, score: 1 },
  { id: 'BAYES_20', min: HAM_CUTOFF, score: 0 },
  { id: 'BAYES_01', min: 0.01, score: -1 },
  { id: 'BAYES_00', min: 0, score: -2 },
];

/** Load the classifier from a model database (default: the embedded default); undefined if untrained. */
export function loadClassifier(path: string = defaultDatabasePath()): BayesClassifier | undefined {
  const model = loadModel(path);
  return model ? new BayesClassifier(model) : undefined;
}

/** A loaded model in shared memory: what a mail scan's workers score with (read-only). */
export interface SharedModel {
  readonly parameters: ModelParameters;
  readonly spamMessages: number;
  readonly hamMessages: number;
  readonly slots: SharedTokenSlots;
}

/** Read a model database once into shared memory (see loadClassifier); undefined if untrained. */
export function shareModel(path: string = defaultDatabasePath()): SharedModel | undefined {
  const model = loadModel(path);
  if (!model) return undefined;
  return { parameters: model.parameters, spamMessages: model.spamMessages, hamMessages: model.hamMessages, slots: model.table.share() };
}

/** A classifier over a shared model (`shareModel`, possibly from another thread). */
export function sharedClassifier(shared: SharedModel): BayesClassifier {
  const model = new BayesModel(shared.parameters, TokenTable.overShared(shared.slots));
  model.spamMessages = shared.spamMessages;
  model.hamMessages = shared.hamMessages;
  return new BayesClassifier(model);
}

/** How the CLI (and mail workers) load the model; registered in cli/main.ts. Email gets its own bands. */
export const classifierSource: ClassifierSource = {
  load: (path) => loadClassifier(path),
  share: (path) => shareModel(path),
  fromShared: (shared) => sharedClassifier(shared as SharedModel),
  bands: BAYES_BANDS,
  emailBands: EMAIL_BAYES_BANDS,
};

export interface TrainOptions {
  /** Learn only what the model gets wrong or is unsure about (train on error). */
  readonly onError?: boolean;
  readonly region?: string;
}

export interface TrainCounts {
  learned: number;
  already: number;
  relabelled: number;
  forgotten: number;
  unknown: number;
  /** Train-on-error: already right, so not learned. */
  skipped: number;
}

/**
 * Training against a TokenStore: learn or forget labelled messages, with train-on-error.
 * Used by `spamgate train` and by the subscriber service's spam / not-spam feedback.
 */
export class Trainer {
  readonly counts: TrainCounts = { learned: 0, already: 0, relabelled: 0, forgotten: 0, unknown: 0, skipped: 0 };
  private readonly normaliser: AddressNormaliser;
  private readonly classifier: BayesClassifier;

  constructor(
    readonly store: TokenStore,
    private readonly options: TrainOptions = {},
  ) {
    this.normaliser = new AddressNormaliser(assertRegion(options.region ?? 'GB'));
    this.classifier = new BayesClassifier(store.model);
  }

  private features(input: MessageInput): { features: Int32Array; probability: () => number } {
    const message = normaliseMessage(input, this.normaliser);
    const analysis = analyseText(message.text);
    const features = extractFeatures(message, analysis, this.classifier.features);
    // The classifier's own probability, as a check scores it: email with its weaker prior and
    // without the sender-history token, which is learned but never a clue.
    return { features, probability: () => this.classifier.spamProbability(message, analysis) };
  }

  learn(label: Label, input: MessageInput): TrainOutcome | 'skipped' {
    const f = this.features(input);
    if (this.options.onError && this.store.model.trained) {
      const p = f.probability();
      const right = label === 'spam' ? p >= SPAM_CUTOFF : p <= HAM_CUTOFF;
      if (right && this.store.isTrained(input) === undefined) {
        this.counts.skipped++;
        return 'skipped';
      }
    }
    const outcome = this.store.learn(label, input, f.features);
    this.counts[outcome as 'learned' | 'already' | 'relabelled']++;
    return outcome;
  }

  forget(label: Label, input: MessageInput): TrainOutcome {
    const outcome = this.store.forget(label, input, this.features(input).features);
    this.counts[outcome as 'forgotten' | 'unknown']++;
    return outcome;
  }
}
