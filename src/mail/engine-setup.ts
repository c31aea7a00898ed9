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

/** In a worker: the engine the flags describe, scoring with `sharedModel` when the scanning thread sent one. */
export async function setupEngine(flags: EngineFlags, sharedModel?: unknown): Promise<Engine> {
  if (flags.bayes !== false) await registerBayes();
  return buildEngine(flags, sharedModel);
}

/**
 * On the scanning thread: a function that reads the model once into shared memory for all the
 * workers (each reading the database took ~75 ms of CPU at start-up), or undefined when the
 * scan uses no classifier. Shares nothing when there is no trained model: the workers then
 * load it themselves and report that as before.
 */
export async function modelSharer(flags: EngineFlags): Promise<(() => unknown) | undefined> {
  if (flags.bayes === false) return undefined;
  const { classifierSource } = await import('../bayes/index.js');
  const share = classifierSource.share;
  return share ? () => share(flags.model) : undefined;
}
