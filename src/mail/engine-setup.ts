/**
 * Building an engine inside a worker from the same flags the CLI got. The Bayesian classifier
 * is loaded through the bayes room's module when it exists; the import is by URL so this file
 * compiles (and scans rules-only) whether or not that room is built.
 */
import { buildEngine, registerClassifierSource, type ClassifierSource, type EngineFlags } from '../cli/common.js';
import type { Engine } from '../engine/engine.js';
import type { ScoreBand, SpamClassifier } from '../engine/types.js';

interface BayesModule {
  loadClassifier?: (path?: string) => SpamClassifier | undefined | null;
  classifierSource?: ClassifierSource;
  BAYES_BANDS?: readonly ScoreBand[];
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
  if (mod.classifierSource) {
    registerClassifierSource(mod.classifierSource);
  } else if (typeof mod.loadClassifier === 'function') {
    const load = mod.loadClassifier;
    registerClassifierSource({
      load: (path) => load(path) ?? undefined,
      ...(mod.BAYES_BANDS ? { bands: mod.BAYES_BANDS } : {}),
    });
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
