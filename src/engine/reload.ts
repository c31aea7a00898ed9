/**
 * Hot reload of operator rules. Rule files and folders are watched (fs.watch, debounced) and
 * also polled (mtimes and sizes; fs.watch misses events on some file systems, editors that
 * replace files, and network mounts), and SIGHUP reloads at once. A reload reads and compiles
 * the files aside and swaps the compiled set in with `engine.replaceRules`, so a check sees the
 * old set or the new one, never a mix. A rule set with problems is refused as a whole: every
 * problem is logged with file:line:column and the running set stays.
 *
 * Volume counters live in the engine's VolumeStore, not in the compiled set, so they survive a
 * reload for every counter the new set still uses (same kind, key and window).
 */
import { createHash } from 'node:crypto';
import { readFileSync, statSync, watch, type FSWatcher } from 'node:fs';
import { dirname, basename, resolve } from 'node:path';
import { RuleSetBuilder, type CompiledRuleSet } from '../rules/compile.js';
import { ruleFiles } from '../rules/load.js';
import { RuleLoadError, formatProblem, type RuleProblem } from '../rules/source.js';
import type { Engine } from './engine.js';

/** The subset of pino's API the watcher logs through (pino loggers fit as they are). */
export interface ReloadLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export type ReloadReason = 'start' | 'watch' | 'poll' | 'signal' | 'manual';

export interface ReloadSuccess {
  readonly ok: true;
  /** False when the files' contents were unchanged, so nothing was swapped. */
  readonly changed: boolean;
  readonly reason: ReloadReason;
  readonly rules: number;
  readonly files: number;
  /** Hash of the rule files' names and contents now running. */
  readonly hash: string;
  /** The set now running (the new one when `changed`). */
  readonly set: CompiledRuleSet;
}

export interface ReloadFailure {
  readonly ok: false;
  readonly reason: ReloadReason;
  /** Every problem, each with its place; the running set stays. */
  readonly problems: readonly RuleProblem[];
  readonly error: Error;
}

export type ReloadResult = ReloadSuccess | ReloadFailure;

export interface WatchRulesOptions {
  /** The engine whose rules are replaced (its normaliser and time zone compile the new set). */
  readonly engine: Pick<Engine, 'replaceRules' | 'rules' | 'normaliser' | 'defaultTimeZone'>;
  /** Rule files or folders, as given to `loadRuleSet`. */
  readonly paths: string | readonly string[];
  readonly logger?: ReloadLogger;
  /** Called after a reload swaps in a new set (not for unchanged files, nor the load at start). */
  readonly onReload?: (result: ReloadSuccess) => void;
  /** Called when a reload is refused; the running set stays (at start, the error is thrown instead). */
  readonly onError?: (result: ReloadFailure) => void;
  /** Quiet time after the last file event before reloading, ms (default 100). */
  readonly debounceMs?: number;
  /** Fallback poll of mtimes and sizes, ms (default 500; 0 turns polling off). */
  readonly pollMs?: number;
  /** Use fs.watch (default true); false leaves polling alone, e.g. on network mounts. */
  readonly watch?: boolean;
  /** Reload on SIGHUP (default true). */
  readonly sighup?: boolean;
  /**
   * Compile the files at once and swap them in, so the engine runs exactly what is on disk;
   * throws RuleLoadError when they are broken (default true). With false, the files' hash is
   * taken as running and only a later change swaps.
   */
  readonly loadNow?: boolean;
}

export interface RuleWatcher {
  /** Read, compile and swap now; synchronous. Unchanged contents swap nothing. */
  reloadNow(reason?: ReloadReason): ReloadResult;
  /** Stop watching, polling and listening for SIGHUP. Idempotent. */
  close(): void;
  /** Hash of the rule files running (or last seen running), '' before the first read. */
  readonly hash: string;
}

interface Snapshot {
  readonly files: readonly string[];
  readonly texts: readonly string[];
  readonly hash: string;
}

function readSnapshot(paths: readonly string[]): Snapshot {
  const files = ruleFiles(paths);
  const h = createHash('sha256');
  const texts: string[] = [];
  for (const file of files) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      throw new RuleLoadError([{ file, line: 1, column: 1, message: `cannot read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}` }]);
    }
    texts.push(text);
    h.update(file).update('\0').update(text).update('\0');
  }
  return { files, texts, hash: h.digest('hex') };
}

/** Cheap change detector for polling: file list with sizes and mtimes, no reads. */
function statSignature(paths: readonly string[]): string {
  try {
    const parts: string[] = [];
    for (const file of ruleFiles(paths)) {
      const st = statSync(file);
      parts.push(`${file}\0${st.size}\0${st.mtimeMs}\0${st.ino}`);
    }
    return parts.join('\n');
  } catch (err) {
    return `error: ${(err as Error).message}`;
  }
}

function problemsOf(err: unknown): RuleProblem[] {
  if (err instanceof RuleLoadError) return [...err.problems];
  return [{ file: '(rules)', line: 1, column: 1, message: (err as Error).message }];
}

/** Watch rule files and folders and swap recompiled sets into the engine. */
export function watchRules(options: WatchRulesOptions): RuleWatcher {
  const paths = (typeof options.paths === 'string' ? [options.paths] : [...options.paths]).map((p) => resolve(p));
  if (paths.length === 0) throw new Error('watchRules needs at least one rule file or folder');
  const { engine, logger } = options;
  const debounceMs = options.debounceMs ?? 100;
  const pollMs = options.pollMs ?? 500;
  let runningHash = '';
  let signature = '';
  let closed = false;
  let debounce: NodeJS.Timeout | undefined;
  const watchers: FSWatcher[] = [];

  const reloadNow = (reason: ReloadReason = 'manual'): ReloadResult => {
    signature = statSignature(paths);
    let snapshot: Snapshot;
    let set: CompiledRuleSet;
    try {
      snapshot = readSnapshot(paths);
      if (snapshot.hash === runningHash && reason !== 'start') {
        const running = engine.rules;
        return { ok: true, changed: false, reason, rules: running.rules.length, files: snapshot.files.length, hash: runningHash, set: running };
      }
      const builder = new RuleSetBuilder({ normaliser: engine.normaliser, defaultTimeZone: engine.defaultTimeZone });
      snapshot.files.forEach((file, i) => builder.addFile(snapshot.texts[i]!, file));
      set = builder.build();
    } catch (err) {
      if (!(err instanceof RuleLoadError) && !(err instanceof Error)) throw err;
      const problems = problemsOf(err);
      const result: ReloadFailure = { ok: false, reason, problems, error: err };
      logger?.error({ reason, problems: problems.map(formatProblem) }, `rules not reloaded: ${problems.length} problem${problems.length === 1 ? '' : 's'}; the running rules stay`);
      for (const p of problems) logger?.error({ reason, file: p.file, line: p.line, column: p.column }, formatProblem(p));
      if (reason !== 'start') options.onError?.(result); // at start the caller gets the error thrown
      return result;
    }
    engine.replaceRules(set);
    runningHash = snapshot.hash;
    const result: ReloadSuccess = { ok: true, changed: true, reason, rules: set.rules.length, files: snapshot.files.length, hash: snapshot.hash, set };
    logger?.info({ reason, rules: set.rules.length, files: snapshot.files.length, hash: snapshot.hash.slice(0, 12) }, reason === 'start' ? 'rules loaded' : 'rules reloaded');
    if (reason !== 'start') options.onReload?.(result);
    return result;
  };

  // Reloads triggered by events never throw out of a timer: failures are results, and anything
  // unexpected is logged so a watcher cannot bring the process down.
  const safeReload = (reason: ReloadReason): void => {
    if (closed) return;
    try {
      reloadNow(reason);
    } catch (err) {
      logger?.error({ reason, err: (err as Error).message }, 'rule reload failed unexpectedly; the running rules stay');
    }
  };

  const schedule = (): void => {
    if (closed) return;
    if (debounce) clearTimeout(debounce);
    debounce = setTimeout(() => {
      debounce = undefined;
      safeReload('watch');
    }, debounceMs);
    debounce.unref();
  };

  if (options.loadNow ?? true) {
    const first = reloadNow('start');
    if (!first.ok) throw first.error;
  } else {
    try {
      runningHash = readSnapshot(paths).hash;
    } catch {
      runningHash = ''; // unreadable now: the first good read will swap
    }
    signature = statSignature(paths);
  }

  for (const path of options.watch === false ? [] : paths) {
    // Editors save by writing a new file and renaming it over the old one, which ends a watch
    // on the file itself; watching the folder (recursively for rule folders) survives that.
    let isDir = false;
    try {
      isDir = statSync(path).isDirectory();
    } catch {
      // missing now: polling notices when it appears
    }
    const target = isDir ? path : dirname(path);
    const name = basename(path);
    try {
      const w = watch(target, { recursive: isDir, persistent: false }, (_event, file) => {
        if (isDir || file === null || file === name) schedule();
      });
      w.on('error', (err) => logger?.warn({ path: target, err: err.message }, 'rule watch failed; polling continues'));
      watchers.push(w);
    } catch (err) {
      logger?.warn({ path: target, err: (err as Error).message }, 'cannot watch rules; relying on polling');
    }
  }

  let poll: NodeJS.Timeout | undefined;
  if (pollMs > 0) {
    poll = setInterval(() => {
      if (closed || debounce) return;
      if (statSignature(paths) !== signature) safeReload('poll');
    }, pollMs);
    poll.unref();
  }

  const onSighup = (): void => {
    logger?.info({ signal: 'SIGHUP' }, 'reloading rules');
    safeReload('signal');
  };
  if (options.sighup ?? true) process.on('SIGHUP', onSighup);

  return {
    reloadNow: (reason?: ReloadReason) => reloadNow(reason ?? 'manual'),
    close(): void {
      if (closed) return;
      closed = true;
      if (debounce) clearTimeout(debounce);
      if (poll) clearInterval(poll);
      for (const w of watchers) w.close();
      process.off('SIGHUP', onSighup);
    },
    get hash(): string {
      return runningHash;
    },
  };
}
