/**
 * Building an engine inside a worker from the same flags the CLI got. The Bayesian classifier
 * is loaded through the bayes room's module when it exists; the import is by URL so this file
 * compiles (and scans rules-only) whether or not that room is built.
 */
import { buildEngine, registerClassifierSource, type ClassifierSource, type EngineFlags } from '../cli/common.js';
import type { Engine } from '../engine/engine.js';
import type { SpamClassifier } from '../engine/types.js';
import { EMAIL_BAYES_BANDS } from './bands.js';

interface BayesModule {
  loadClassifier?: (path?: string) => SpamClassifier | undefined | null;
  classifierSource?: ClassifierSource;
}

let registered = false;

/** Make the bayes room's loader known to `buildEngine`, once per thread. */
export async function registerBayes(): Promise<boolean> {
  if (registered) return true;
  let mod: BayesModule;
  try {
    mod = (await import(new URL('../bayes/index.js', import.meta.url).href)) as BayesModule;
  } catch {
    return false;
  }
  // Mail is scored with the email bands (bands.ts); the engine picks them by channel.
  if (mod.classifierSource) {
    registerClassifierSource({ ...mod.classifierSource, emailBands: EMAIL_BAYES_BANDS });
  } else if (typeof mod.loadClassifier === 'function') {
    const load = mod.loadClassifier;
    registerClassifierSource({ load: (path) => load(path) ?? undefined, emailBands: EMAIL_BAYES_BANDS });
  } else {
    return false;
  }
  registered = true;
  return true;
}

export async function setupEngine(flags: EngineFlags): Promise<Engine> {
  if (flags.bayes !== false) await registerBayes();
  return buildEngine(flags);
}
