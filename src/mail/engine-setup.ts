/**
 * Building an engine inside a worker from the same flags the CLI got. The bayes room is
 * imported only when the scan uses the classifier, so the workers of a rules-only scan start
 * without loading it. Its classifier source carries the email bands; the engine picks bands by
 * channel.
 */
import { buildEngine, registerClassifierSource, type EngineFlags } from '../cli/common.js';
import type { Engine } from '../engine/engine.js';

let registered = false;

/** Make the bayes room's loader known to `buildEngine`, once per thread. */
async function registerBayes(): Promise<void> {
  if (registered) return;
  const { classifierSource } = await import('../bayes/index.js');
  registerClassifierSource(classifierSource);
  registered = true;
}

export async function setupEngine(flags: EngineFlags): Promise<Engine> {
  if (flags.bayes !== false) await registerBayes();
  return buildEngine(flags);
}
