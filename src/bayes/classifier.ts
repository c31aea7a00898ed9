import type { Reason, SpamClassifier } from '../engine/types.js';
import type { Message } from '../message/types.js';
import type { TextAnalysis } from '../text/analysis.js';
import { DEFAULT_FEATURES, featureScratch, type FeatureOptions } from './features.js';
import { BayesModel, type Label, type ModelParameters } from './model.js';
import { DEFAULT_EMAIL_FEATURES, EMAIL_MODEL_PARAMETERS } from './email-features.js';
import { scoredFeatureCount, SENDER_HISTORY_RULE, senderHistoryHash, senderHistoryScore, type SenderHistoryRule } from './sender-history.js';

/** The engine's view of the model: features from the shared analysis, then the combiner. */
export class BayesClassifier implements SpamClassifier {
  constructor(
    readonly model: BayesModel = new BayesModel(),
    readonly features: FeatureOptions = DEFAULT_FEATURES,
    /** When a sender's history scores (its token is the one `features` learn). */
    readonly history: SenderHistoryRule = SENDER_HISTORY_RULE,
  ) {
    this.emailParameters = { ...model.parameters, ...EMAIL_MODEL_PARAMETERS };
  }

  /** The model's parameters with the email prior strength (EMAIL_MODEL_PARAMETERS). */
  private readonly emailParameters: ModelParameters;
  private readonly counts = new Uint32Array(2);

  /** The combiner's parameters for a message: email's weaker prior for mail, the model's own otherwise. */
  parametersFor(message: Message): ModelParameters {
    return message.email || message.channel === 'email' ? this.emailParameters : this.model.parameters;
  }

  spamProbability(message: Message, analysis: TextAnalysis): number {
    const f = featureScratch(message, analysis, this.features);
    // The sender-history token is learned but never a clue (sender-history.ts).
    const count = message.email ? scoredFeatureCount(f.hashes, f.count, this.historyHash(message)) : f.count;
    return this.model.probability(f.hashes, this.parametersFor(message), count);
  }

  learn(message: Message, analysis: TextAnalysis, label: Label, sign: 1 | -1 = 1): void {
    const f = featureScratch(message, analysis, this.features);
    this.model.learn(f.hashes, label, sign, f.count);
  }

  /**
   * The sender's history as a reason, when it scores: `EMAIL_SENDER_HISTORY_HAM` for a sender
   * trained as ham and never as spam (`EMAIL_SENDER_HISTORY_SPAM` for the reverse, when the rule
   * has that side). Undefined for a sender the model has no history of, or a model trained
   * before the history token existed.
   */
  senderHistory(message: Message): Reason | undefined {
    const hash = this.historyHash(message);
    if (hash === undefined || !this.model.table.counts(hash, this.counts)) return undefined;
    const counts = { spam: this.counts[0]!, ham: this.counts[1]! };
    const score = senderHistoryScore(counts, this.history);
    if (score === 0) return undefined;
    const who = message.email!.fromAddress;
    return {
      rule: score < 0 ? 'EMAIL_SENDER_HISTORY_HAM' : 'EMAIL_SENDER_HISTORY_SPAM',
      score,
      detail: `sender ${who.length > 60 ? who.slice(0, 60) + '…' : who} seen in ${counts.ham} ham, ${counts.spam} spam trained`,
    };
  }

  /** The hash of the message's history token under the features' key, or undefined (not email, none, or off). */
  private historyHash(message: Message): number | undefined {
    const key = (this.features.email ?? DEFAULT_EMAIL_FEATURES).senderHistory;
    return message.email === undefined || key === 'off' ? undefined : senderHistoryHash(message.email, key);
  }
}
