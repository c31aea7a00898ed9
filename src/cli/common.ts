/**
 * What every command shares: building an engine from flags, and turning known errors into a
 * clear message and an exit code instead of a stack trace.
 */
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { createEngine, type Engine } from '../engine/engine.js';
import { watchRules, type ReloadLogger, type RuleWatcher } from '../engine/reload.js';
import type { SpamClassifier, ScoreBand } from '../engine/types.js';
import { AddressNormaliser, assertRegion } from '../message/address.js';
import { loadRuleSet, shippedRulesDir } from '../rules/load.js';
import { RuleLoadError } from '../rules/source.js';
import type { MetricsRegistry } from '../server/metrics.js';
import { StoreError } from '../store/db.js';
import { parseSubscribersFile } from '../rules/subscriber.js';
import { assertTimeZone } from '../rules/time.js';

/** Exit codes: 0 fine, 1 finished but some input was bad, 2 could not run (usage, rules, files). */
export const EXIT_BAD_INPUT = 1;
export const EXIT_FATAL = 2;

export class CliError extends Error {
  constructor(message: string, readonly exitCode = EXIT_FATAL) {
    super(message);
    this.name = 'CliError';
  }
}

export interface EngineFlags {
  rules?: string[];
  subscribers?: string;
  region?: string;
  tz?: string;
  model?: string;
  bayes?: boolean;
}

/** The flags that choose rules, subscribers, region and model, for check and scan. */
export function addEngineFlags(cmd: Command): Command {
  return cmd
    .option('-r, --rules <path...>', 'rule files or folders (default: the shipped rules/)')
    .option('-s, --subscribers <file>', 'subscriber rules, YAML or JSON: { "+447700900001": { block, allow, keywords, quiet, enabled } }')
    .option('--region <code>', 'ISO 3166 region for national numbers', 'GB')
    .option('--tz <zone>', 'IANA time zone for windows that name none', 'UTC')
    .option('-m, --model <path>', 'Bayesian model database (default: the embedded default, when trained)')
    .option('--no-bayes', 'rules only: do not consult the Bayesian classifier');
}

export interface ClassifierSource {
  load(path: string | undefined): SpamClassifier | undefined;
  /**
   * The model at `path` read once into memory other threads can read (a mail scan's workers);
   * undefined when there is none. Opaque outside the classifier's room.
   */
  share?(path: string | undefined): unknown;
  /** A classifier over what `share` returned, in any thread. */
  fromShared?(shared: unknown): SpamClassifier;
  bands?: readonly ScoreBand[];
  /** Bands for messages of channel `email`; default `bands`. */
  emailBands?: readonly ScoreBand[];
}

let classifierSource: ClassifierSource | undefined;

/** The bayes room registers how to load a model; the CLI stays ignorant of its format. */
export function registerClassifierSource(source: ClassifierSource): void {
  classifierSource = source;
}

/** `sharedModel`: what ClassifierSource.share returned, scored with instead of loading `flags.model`. */
export function buildEngine(flags: EngineFlags, sharedModel?: unknown): Engine {
  const region = assertRegion(flags.region ?? 'GB');
  const tz = assertTimeZone(flags.tz ?? 'UTC');
  const normaliser = new AddressNormaliser(region);
  const rules = loadRuleSet(flags.rules && flags.rules.length > 0 ? flags.rules : shippedRulesDir(), { normaliser, defaultTimeZone: tz });
  let subscribers;
  if (flags.subscribers) {
    let text: string;
    try {
      text = readFileSync(flags.subscribers, 'utf8');
    } catch (err) {
      throw new CliError(`cannot read subscribers file ${flags.subscribers}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
    subscribers = parseSubscribersFile(text, flags.subscribers, normaliser, tz);
  }
  let classifier: SpamClassifier | undefined;
  if (flags.bayes !== false && classifierSource) {
    classifier = sharedModel !== undefined && classifierSource.fromShared ? classifierSource.fromShared(sharedModel) : classifierSource.load(flags.model);
    if (flags.model && !classifier) throw new CliError(`model ${flags.model} holds no trained model; run spamgate train --model ${flags.model} FILE first`);
  } else if (flags.model && flags.bayes !== false) {
    throw new CliError('this build has no Bayesian classifier');
  }
  return createEngine({
    rules,
    defaultRegion: region,
    defaultTimeZone: tz,
    ...(subscribers ? { subscribers } : {}),
    ...(classifier ? { classifier } : {}),
    // The tuned bands even before a model exists: a server attaches one once feedback trains it.
    ...(classifierSource?.bands ? { bayesBands: classifierSource.bands } : {}),
    ...(classifierSource?.emailBands ? { emailBayesBands: classifierSource.emailBands } : {}),
  });
}

/** Run a command body; known errors print cleanly with the right exit code. */
export function runCommand<A extends unknown[]>(body: (...args: A) => Promise<number | void> | number | void): (...args: A) => Promise<void> {
  return async (...args: A) => {
    try {
      const code = await body(...args);
      if (typeof code === 'number' && code !== 0) process.exitCode = code;
    } catch (err) {
      if (err instanceof RuleLoadError) {
        process.stderr.write(`spamgate: ${err.message}\n`);
        process.exitCode = EXIT_FATAL;
      } else if (err instanceof StoreError) {
        process.stderr.write(`spamgate: ${err.message}\n`);
        process.exitCode = EXIT_FATAL;
      } else if (err instanceof CliError) {
        process.stderr.write(`spamgate: ${err.message}\n`);
        process.exitCode = err.exitCode;
      } else if (err instanceof Error && /^(unknown region|unknown time zone)/.test(err.message)) {
        process.stderr.write(`spamgate: ${err.message}\n`);
        process.exitCode = EXIT_FATAL;
      } else {
        throw err;
      }
    }
  };
}

/**
 * Wait for SIGINT or SIGTERM, then run `stop` (a long-running server's graceful shutdown). A second
 * signal during shutdown gets the default action: exit at once. A failing stop sets exit code 1.
 */
export function stopOnSignal(stop: () => Promise<void>, onSignal?: (signal: NodeJS.Signals) => void, onError?: (err: unknown) => void): Promise<void> {
  return new Promise<void>((resolve) => {
    const handler = (signal: NodeJS.Signals): void => {
      onSignal?.(signal);
      process.removeListener('SIGINT', handler);
      process.removeListener('SIGTERM', handler);
      stop().then(resolve, (err: unknown) => {
        onError?.(err);
        process.exitCode = 1;
        resolve();
      });
    };
    process.on('SIGINT', handler);
    process.on('SIGTERM', handler);
  });
}

/**
 * The long-running commands (serve, smpp-proxy) watch the operator rule files they run and
 * reload on change or SIGHUP; reloads are counted by result on the command's metrics.
 */
export function watchOperatorRules(engine: Engine, rules: readonly string[] | undefined, logger: ReloadLogger, registry: MetricsRegistry): RuleWatcher {
  const reloads = registry.counter('spamgate_rule_reloads_total', 'Operator rule set reloads, by result', ['result']);
  return watchRules({
    engine,
    paths: rules && rules.length > 0 ? rules : shippedRulesDir(),
    logger,
    onReload: () => reloads.inc({ result: 'ok' }),
    onError: () => reloads.inc({ result: 'refused' }),
  });
}

