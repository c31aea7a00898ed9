/**
 * Batch scoring of mail archives: the reader streams messages on the main thread, a worker
 * pool parses and scores them, results come back in input order and are written as the same
 * JSONL/CSV records the SMS scan writes (plus from, subject, date and any MIME defects).
 */
import { copyFileSync, createWriteStream, existsSync, mkdirSync, readdirSync, renameSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { Transform, type Writable } from 'node:stream';
import cliProgress from 'cli-progress';
import { CliError, type EngineFlags } from '../cli/common.js';
import { createResultWriter, ScanSummary, type OutputFormat, type ResultRow } from '../cli/output.js';
import type { Action } from '../engine/types.js';
import type { Label } from '../message/records.js';
import type { MessageInput } from '../message/types.js';
import type { ParseOptions } from './parse.js';
import { modelSharer } from './engine-setup.js';
import { PoolError, runPool, type PoolInput } from './pool.js';
import { DEFAULT_MAX_MESSAGE_BYTES, readArchive, type MessageSource, isReadFailure } from './readers.js';
export { isMailArchive } from './readers.js';
import { readDoneIds } from './resume.js';
import { shippedRulesDir } from '../rules/load.js';

/** An archive path, optionally with the label every message in it carries (for reports and evaluation). */
export type ArchiveSpec = string | { readonly path: string; readonly label?: Label };

export interface ScanArchivesOptions {
  /** Rules, subscribers, region, model: the same flags `check` and `scan` take. Without rules, the shipped `rules/email/`. */
  readonly engine?: EngineFlags;
  /** Worker threads (default: the number of cores). */
  readonly workers?: number;
  readonly format?: OutputFormat;
  /** Output file; without it results go to `out` (default stdout). */
  readonly output?: string;
  readonly out?: Writable;
  /** Skip messages whose id is already in `output` and append to it. */
  readonly resume?: boolean;
  /** Move (one-message files) or copy (mbox messages) spam into this Maildir. */
  readonly moveSpam?: string;
  /** Copy spam into this Maildir. */
  readonly copySpam?: string;
  /** Actions that count as spam for move/copy (default quarantine and block). */
  readonly spamActions?: readonly Action[];
  /** Progress bar on stderr: `auto` (default) shows it only on a terminal. */
  readonly progress?: boolean | 'auto';
  readonly maxMessageBytes?: number;
  readonly parse?: ParseOptions;
  /** Where per-message errors go (default: a line on stderr each). */
  readonly onError?: (id: string, error: string) => void;
  /** Defects of messages that were still scored (default: ignored; they are in the records). */
  readonly onDefects?: (id: string, defects: readonly string[]) => void;
}

export interface ScanArchivesResult {
  readonly summary: ScanSummary;
  /** Messages already in the output file and not scored again. */
  readonly resumed: number;
  /** Messages scored despite MIME defects (listed in their records). */
  readonly defective: number;
  readonly moved: number;
  readonly copied: number;
}

/** A result record of a mail scan: the shared row plus what was wrong with the message, if anything. */
export interface MailResultRow extends ResultRow {
  readonly defects?: readonly string[];
}

interface Meta {
  readonly label?: Label;
  readonly source?: MessageSource;
  readonly raw?: Buffer;
}

function specPath(s: ArchiveSpec): string {
  return typeof s === 'string' ? s : s.path;
}

async function* feed(specs: readonly ArchiveSpec[], keepRaw: boolean, skip: ((id: string) => boolean) | undefined, maxMessageBytes: number): AsyncGenerator<PoolInput<Meta>> {
  for (const spec of specs) {
    const label = typeof spec === 'string' ? undefined : spec.label;
    for await (const item of readArchive(specPath(spec), { maxMessageBytes, ...(skip ? { skip } : {}) })) {
      if (!isReadFailure(item) && skip?.(item.id)) continue;
      const meta: Meta = {
        ...(label ? { label } : {}),
        ...(isReadFailure(item) ? {} : { source: item.source }),
        ...(keepRaw && !isReadFailure(item) ? { raw: item.raw } : {}),
      };
      yield { item, meta };
    }
  }
}

/** Bytes under the given paths, for the progress bar's ETA; undefined when unknowable or gzip. */
function totalBytes(specs: readonly ArchiveSpec[]): number | undefined {
  let total = 0;
  let files = 0;
  const seen = new Set<string>();
  const visit = (p: string): boolean => {
    if (files > 200_000) return false;
    let st;
    try {
      st = statSync(p);
    } catch {
      return true;
    }
    if (st.isDirectory()) {
      const key = `${st.dev}:${st.ino}`;
      if (seen.has(key)) return true;
      seen.add(key);
      let names: string[];
      try {
        names = readdirSync(p);
      } catch {
        return true;
      }
      for (const n of names) if (n !== 'tmp' && !visit(join(p, n))) return false;
      return true;
    }
    if (/\.gz$/i.test(p)) return false;
    files++;
    total += st.size;
    return true;
  };
  for (const s of specs) if (!visit(specPath(s))) return undefined;
  return total;
}

/**
 * Mail is scored with the shipped email rules unless rules are named: the SMS rules read
 * every long email as obfuscated text and every list footer as an opt-out line (on the
 * SpamAssassin corpus they hold 3.5 % of ham on their own).
 */
export function withMailRules(flags: EngineFlags): EngineFlags {
  if (flags.rules && flags.rules.length > 0) return flags;
  return { ...flags, rules: [defaultMailRulesDir()] };
}

export function defaultMailRulesDir(): string {
  return join(shippedRulesDir(), 'email');
}

/** Workers that cannot start (bad rules, no model) are a usage problem: said plainly by the CLI. */
function asCliError(err: unknown): unknown {
  return err instanceof PoolError ? new CliError(err.message) : err;
}

/** Make `dir` a Maildir (cur/, new/, tmp/) if it is not one. */
function ensureMaildir(dir: string): void {
  for (const sub of ['cur', 'new', 'tmp']) mkdirSync(join(dir, sub), { recursive: true });
}

let deliveryCounter = 0;
function maildirName(): string {
  return `${Date.now()}.${process.pid}_${deliveryCounter++}.spamgate`;
}

/** Drops the first line written (a CSV header) when appending to an existing file. */
function dropFirstLine(): Transform {
  let dropped = false;
  return new Transform({
    transform(chunk: Buffer, _enc, cb) {
      if (dropped) return cb(null, chunk);
      const nl = chunk.indexOf(10);
      if (nl < 0) return cb();
      dropped = true;
      cb(null, chunk.subarray(nl + 1));
    },
  });
}

/**
 * Score every message of the given archives (mbox, Maildir, .eml trees, single files, gzip
 * versions) and write one record per message, in input order. Per-message problems are
 * reported through `onError` and the scan goes on.
 */
export async function scanArchives(paths: readonly ArchiveSpec[], options: ScanArchivesOptions = {}): Promise<ScanArchivesResult> {
  const format = options.format ?? 'jsonl';
  const engine = withMailRules(options.engine ?? {});
  const maxMessageBytes = options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
  const onError = options.onError ?? ((id: string, error: string) => process.stderr.write(`spamgate: ${id}: ${error}\n`));
  const spamActions = new Set<Action>(options.spamActions ?? ['quarantine', 'block']);
  const spamDir = options.moveSpam ?? options.copySpam;
  if (options.moveSpam && options.copySpam) throw new Error('--move-spam and --copy-spam cannot be used together');
  if (spamDir) ensureMaildir(spamDir);

  let done: Set<string> | undefined;
  let appendCsv = false;
  if (options.resume) {
    if (!options.output) throw new Error('--resume needs --output FILE: the results written so far are read from it');
    if (format === 'table') throw new Error('--resume needs --format jsonl or csv');
    const state = await readDoneIds(options.output, format);
    done = state.ids;
    appendCsv = format === 'csv' && state.nonEmpty;
  }
  let fileOut: Writable | undefined;
  let out: Writable;
  if (options.output) {
    fileOut = createWriteStream(options.output, { flags: options.resume ? 'a' : 'w' });
    if (appendCsv) {
      const t = dropFirstLine();
      t.pipe(fileOut);
      out = t;
    } else out = fileOut;
  } else out = options.out ?? process.stdout;
  const writer = createResultWriter(format, out);
  const summary = new ScanSummary();

  let resumed = 0;
  const skip = done
    ? (id: string): boolean => {
        if (done!.has(id)) {
          resumed++;
          return true;
        }
        return false;
      }
    : undefined;

  const showBar = options.progress === true || ((options.progress ?? 'auto') === 'auto' && process.stderr.isTTY === true);
  const total = showBar ? totalBytes(paths) : undefined;
  let bar: cliProgress.SingleBar | undefined;
  if (showBar) {
    bar = new cliProgress.SingleBar(
      {
        stream: process.stderr,
        format:
          total !== undefined
            ? '{bar} {percentage}% | {msgs} msgs | {rate} msgs/s | spam {spam} | errors {errors} | ETA {eta_formatted}'
            : '{msgs} msgs | {rate} msgs/s | spam {spam} | errors {errors} | {duration_formatted}',
        hideCursor: true,
        clearOnComplete: false,
        fps: 5,
        etaBuffer: 50,
      },
      cliProgress.Presets.shades_classic,
    );
    bar.start(total ?? 1, 0, { msgs: 0, rate: 0, spam: 0, errors: 0 });
  }

  let defective = 0;
  let moved = 0;
  let copied = 0;
  let spam = 0;
  let bytes = 0;
  const started = Date.now();
  const workerCount = options.workers;
  const keepRaw = spamDir !== undefined;

  const act = (meta: Meta): void => {
    if (!spamDir || !meta.source) return;
    const name = maildirName() + (meta.source.index === undefined ? '' : '');
    const target = join(spamDir, 'new', name);
    try {
      const wholeFile = meta.source.index === undefined && !meta.source.gzip;
      if (options.moveSpam && wholeFile) {
        const dest = join(spamDir, 'new', basename(meta.source.path));
        const final = existsSync(dest) ? target : dest;
        try {
          renameSync(meta.source.path, final);
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'EXDEV') throw err;
          copyFileSync(meta.source.path, final);
          unlinkSync(meta.source.path);
        }
        moved++;
      } else if (meta.raw) {
        // Messages inside an mbox (or gzip) cannot be taken out in place: they are copied.
        writeFileSync(target, meta.raw);
        copied++;
      }
    } catch (err) {
      onError(meta.source.path, `cannot ${options.moveSpam ? 'move' : 'copy'} spam to ${spamDir}: ${(err as Error).message}`);
    }
  };

  try {
    const shareModel = await modelSharer(engine);
    const results = runPool(feed(paths, keepRaw, skip, maxMessageBytes), {
      init: { mode: 'score', engine, parse: options.parse ?? {} },
      ...(shareModel ? { setup: () => ({ type: 'setup' as const, sharedModel: shareModel() }) } : {}),
      ...(workerCount !== undefined ? { workers: workerCount } : {}),
    });
    for await (const { result, meta, bytes: n } of results) {
      bytes += n;
      if ('error' in result) {
        summary.errors++;
        onError(result.id, result.error);
      } else if ('scored' in result) {
        const s = result.scored;
        const row: MailResultRow = {
          id: result.id,
          action: s.action,
          score: s.score,
          rules: s.rules,
          ...(meta.label ? { label: meta.label } : {}),
          ...(s.spamProbability !== undefined ? { spamProbability: s.spamProbability } : {}),
          from: s.from,
          subject: s.subject,
          ...(s.date ? { date: s.date } : {}),
          ...(s.defects ? { defects: s.defects } : {}),
        };
        if (s.defects) {
          defective++;
          options.onDefects?.(result.id, s.defects);
        }
        summary.add(row);
        writer.write(row);
        if (spamActions.has(s.action)) {
          spam++;
          act(meta);
        }
      }
      if (bar) {
        const secs = Math.max((Date.now() - started) / 1000, 0.001);
        const count = summary.messages + summary.errors;
        bar.update(total !== undefined ? Math.min(bytes, total) : 0, { msgs: count, rate: Math.round(count / secs), spam, errors: summary.errors });
      }
    }
  } catch (err) {
    throw asCliError(err);
  } finally {
    if (bar) {
      if (total !== undefined) bar.update(total);
      bar.stop();
    }
    await writer.end();
    if (fileOut) {
      if (out !== fileOut) out.end();
      await new Promise<void>((resolve) => fileOut!.on('finish', resolve).end());
    }
  }
  return { summary, resumed, defective, moved, copied };
}

/** One labelled message for training or rule statistics. */
export interface LabelledInput {
  readonly label: Label;
  readonly input: MessageInput;
}

export interface LabelledArchiveOptions {
  readonly workers?: number;
  readonly maxMessageBytes?: number;
  readonly parse?: ParseOptions;
  readonly onError?: (id: string, error: string) => void;
  /** Called after every message (parsed or not), for progress. */
  readonly onMessage?: (count: number) => void;
}

/**
 * Parsed messages from `--spam PATH... --ham PATH...` archives, for `spamgate train` and
 * `spamgate rules stats`: the same readers and parser as the scan, parsing in worker threads.
 * Spam paths come first, then ham, each in reading order.
 */
export async function* labelledArchiveInputs(
  sources: { readonly spam?: readonly string[]; readonly ham?: readonly string[] },
  options: LabelledArchiveOptions = {},
): AsyncGenerator<LabelledInput> {
  const specs: ArchiveSpec[] = [
    ...(sources.spam ?? []).map((path) => ({ path, label: 'spam' as const })),
    ...(sources.ham ?? []).map((path) => ({ path, label: 'ham' as const })),
  ];
  const onError = options.onError ?? ((id: string, error: string) => process.stderr.write(`spamgate: ${id}: ${error}\n`));
  let count = 0;
  const results = runPool(feed(specs, false, undefined, options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES), {
    init: { mode: 'parse', engine: {}, parse: options.parse ?? {} },
    ...(options.workers !== undefined ? { workers: options.workers } : {}),
  });
  try {
    for await (const { result, meta } of results) {
      count++;
      options.onMessage?.(count);
      if ('error' in result) onError(result.id, result.error);
      else if ('input' in result && meta.label) yield { label: meta.label, input: result.input };
    }
  } catch (err) {
    throw asCliError(err);
  }
}
