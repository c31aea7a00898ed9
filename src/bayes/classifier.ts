import type { SpamClassifier } from '../engine/types.js';
import type { Message } from '../message/types.js';
import type { TextAnalysis } from '../text/analysis.js';
import { DEFAULT_FEATURES, extractFeatures, type FeatureOptions } from './features.js';
import { BayesModel, type Label } from './model.js';

/** The engine's view of the model: features from the shared analysis, then the combiner. */
export class BayesClassifier implements SpamClassifier {
  constructor(
    readonly model: BayesModel = new BayesModel(),
    readonly features: FeatureOptions = DEFAULT_FEATURES,
  ) {}

  spamProbability(message: Message, analysis: TextAnalysis): number {
    return this.model.probability(extractFeatures(message, analysis, this.features));
  }

  learn(message: Message, analysis: TextAnalysis, label: Label, sign: 1 | -1 = 1): void {
    this.model.learn(extractFeatures(message, analysis, this.features), label, sign);
  }
}
