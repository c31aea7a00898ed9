import type { SpamClassifier } from '../engine/types.js';
import type { Message } from '../message/types.js';
import type { TextAnalysis } from '../text/analysis.js';
import { DEFAULT_FEATURES, featureScratch, type FeatureOptions } from './features.js';
import { BayesModel, type Label, type ModelParameters } from './model.js';
import { EMAIL_MODEL_PARAMETERS } from './email-features.js';

/** The engine's view of the model: features from the shared analysis, then the combiner. */
export class BayesClassifier implements SpamClassifier {
  constructor(
    readonly model: BayesModel = new BayesModel(),
    readonly features: FeatureOptions = DEFAULT_FEATURES,
  ) {
    this.emailParameters = { ...model.parameters, ...EMAIL_MODEL_PARAMETERS };
  }

  /** The model's parameters with the email prior strength (EMAIL_MODEL_PARAMETERS). */
  private readonly emailParameters: ModelParameters;

  /** The combiner's parameters for a message: email's weaker prior for mail, the model's own otherwise. */
  parametersFor(message: Message): ModelParameters {
    return message.email || message.channel === 'email' ? this.emailParameters : this.model.parameters;
  }

  spamProbability(message: Message, analysis: TextAnalysis): number {
    const f = featureScratch(message, analysis, this.features);
    return this.model.probability(f.hashes, this.parametersFor(message), f.count);
  }

  learn(message: Message, analysis: TextAnalysis, label: Label, sign: 1 | -1 = 1): void {
    const f = featureScratch(message, analysis, this.features);
    this.model.learn(f.hashes, label, sign, f.count);
  }
}
