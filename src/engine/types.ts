import type { Message } from '../message/types.js';
import type { TextAnalysis } from '../text/analysis.js';

/** What happens to a message, from mildest to strongest. */
export type Action = 'deliver' | 'tag' | 'quarantine' | 'block';

/** 0 (deliver) to 3 (block); by comparison, not a lookup by string key (the hot path asks often). */
export function actionSeverity(a: Action): number {
  return a === 'deliver' ? 0 : a === 'tag' ? 1 : a === 'quarantine' ? 2 : 3;
}

/** One rule (or one subscriber list, or the classifier) that contributed to a verdict. */
export interface Reason {
  /** Rule id, e.g. `SMS_PRIZE_CLAIM`, `SUBSCRIBER_BLOCK`, `BAYES_99`. */
  readonly rule: string;
  readonly score: number;
  /** What matched, for a person: "keyword 'free entry'", "sender +2547… on the subscriber's block list". */
  readonly detail: string;
  /** Set when the rule forces an action rather than (or as well as) adding score. */
  readonly action?: Action | 'allow';
}

export interface Verdict {
  readonly action: Action;
  readonly score: number;
  readonly reasons: readonly Reason[];
  /** Spam probability from the classifier, when one is configured. */
  readonly spamProbability?: number;
  /** True when the text was longer than the engine analyses and only its head was checked. */
  readonly truncated?: boolean;
}

/** Score thresholds that turn a total score into an action (inclusive lower bounds). */
export interface Thresholds {
  readonly tag: number;
  readonly quarantine: number;
  readonly block: number;
}

/**
 * A statistical classifier the engine consults after the rules. Implemented by the bayes room;
 * the engine knows nothing of tokens or models.
 */
export interface SpamClassifier {
  /**
   * Probability in [0, 1] that the message is spam. Must be synchronous and do no I/O. The
   * analysis is the engine's and valid only during the call (its word arrays are reused).
   */
  spamProbability(message: Message, analysis: TextAnalysis): number;
  /**
   * For email: what the trained history of the message's sender says, as a reason whose score
   * the engine adds (e.g. a sender trained as ham and never as spam), or undefined.
   */
  senderHistory?(message: Message): Reason | undefined;
}

/** How the classifier's probability becomes score, like SpamAssassin's BAYES_nn rules. */
export interface ScoreBand {
  readonly id: string;
  /** Inclusive lower bound of the probability. */
  readonly min: number;
  readonly score: number;
}
