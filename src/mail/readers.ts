/**
 * Streaming readers for mail archives: mbox (mboxo and mboxrd), Maildir (`cur/`, `new/`),
 * directory trees of `.eml` files, single message files, and gzip versions of each.
 *
 * Nothing here holds more than one message in memory: mbox files are split line by line as
 * they stream in, and a message over the size limit is counted, not buffered, and reported.
 * Every item carries a stable id: the file path for one-message files, `path#N@offset` for the
 * N-th message (1-based) of an mbox whose `From ` line starts at byte `offset` of the
 * (decompressed) file. Problems (unreadable files, loops, broken gzip, oversize messages)
 * become error items and reading goes on.
 */
import { createReadStream, promises as fsp, readdirSync, readFileSync, statSync, type Stats } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { createGunzip } from 'node:zlib';
import type { Readable } from 'node:stream';

export type ArchiveKind = 'mbox' | 'maildir' | 'directory' | 'message';

/** Where a message lives, so `--move-spam`/`--copy-spam` can act on it. */
export interface MessageSource {
  readonly path: string;
  /** 1-based position in an mbox; absent for one-message files. */
  readonly index?: number;
  /** Byte offset of the mbox `From ` line in the decompressed file. */
  readonly offset?: number;
  readonly gzip?: boolean;
}

export interface RawMessage {
  readonly id: string;
  readonly raw: Buffer;
  readonly source: MessageSource;
}

export interface ReadFailure {
  readonly id: string;
  readonly error: string;
}

export type ArchiveItem = RawMessage | ReadFailure;

export function isReadFailure(item: ArchiveItem): item is ReadFailure {
  return (item as ReadFailure).error !== undefined;
}

/** 25 MiB: bigger messages are reported and skipped (like spamc passing big mail unscored). */
export const DEFAULT_MAX_MESSAGE_BYTES = 25 * 1024 * 1024;

export interface ReadArchiveOptions {
  /** Messages larger than this are reported as errors and skipped, never buffered. */
  readonly maxMessageBytes?: number;
  /**
   * How `>From ` lines in mbox bodies are unescaped. `mboxrd` (default) removes one `>` from
   * every `>+From ` line; `mboxo` only turns `>From ` into `From `; `none` leaves them.
   */
  readonly mboxEscaping?: 'mboxrd' | 'mboxo' | 'none';
  /** Ids to skip without reading their bytes where possible (used by `--resume`). */
  readonly skip?: (id: string) => boolean;
  /** Called for files in a directory walk that do not look like mail (they are skipped). */
  readonly onSkippedFile?: (path: string, why: string) => void;
}

const FROM_ = Buffer.from('From ');
const GZIP_MAGIC_0 = 0x1f;
const GZIP_MAGIC_1 = 0x8b;
const SNIFF_BYTES = 4096;
/** Names that are never mail, found in Maildir and mail-client trees. */
const IGNORED_NAMES = new Set(['.DS_Store', 'Thumbs.db', 'dovecot-uidlist', 'dovecot-keywords', 'dovecot.index', 'maildirfolder', 'subscriptions', 'courierimapuiddb', 'courierimapkeywords']);

function errorText(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  if (e && typeof e.code === 'string') {
    switch (e.code) {
      case 'EACCES':
      case 'EPERM':
        return `cannot read: permission denied`;
      case 'ENOENT':
        return `cannot read: no such file or directory`;
      case 'ELOOP':
        return `cannot read: too many levels of symbolic links`;
      case 'EISDIR':
        return `cannot read: is a directory`;
      case 'Z_DATA_ERROR':
      case 'Z_BUF_ERROR':
        return `broken gzip data: ${e.message}`;
      default:
        return `cannot read (${e.code}): ${e.message}`;
    }
  }
  return err instanceof Error ? err.message : String(err);
}

function mib(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}

function oversize(size: number, max: number, exact: boolean): string {
  return `message is ${exact ? '' : 'over '}${size} bytes (${mib(size)}), larger than the ${mib(max)} limit: skipped unscored`;
}

/** Read the first bytes of a file, decompressing when it is gzip. */
async function sniff(path: string): Promise<{ head: Buffer; gzip: boolean }> {
  const fh = await fsp.open(path, 'r');
  let head: Buffer;
  try {
    const buf = Buffer.alloc(SNIFF_BYTES);
    const { bytesRead } = await fh.read(buf, 0, SNIFF_BYTES, 0);
    head = buf.subarray(0, bytesRead);
  } finally {
    await fh.close();
  }
  const gzip = head.length >= 2 && head[0] === GZIP_MAGIC_0 && head[1] === GZIP_MAGIC_1;
  if (!gzip) return { head, gzip };
  // Decompress just enough to look at the start of the content.
  const stream = openStream(path, true);
  const parts: Buffer[] = [];
  let got = 0;
  try {
    for await (const chunk of stream) {
      parts.push(chunk as Buffer);
      got += (chunk as Buffer).length;
      if (got >= SNIFF_BYTES) break;
    }
  } finally {
    stream.destroy();
  }
  return { head: Buffer.concat(parts).subarray(0, SNIFF_BYTES), gzip };
}

function openStream(path: string, gzip: boolean): Readable {
  const file = createReadStream(path, { highWaterMark: 256 * 1024 });
  if (!gzip) return file;
  const gunzip = createGunzip();
  file.on('error', (err) => gunzip.destroy(err));
  return file.pipe(gunzip);
}

/** A header line: a field name of printable ASCII without a colon, then a colon. */
const HEADER_LINE = /^[A-Za-z][A-Za-z0-9_.-]{0,99}:/;

/** What the start of a file says it is. */
export function sniffContent(head: Buffer): 'mbox' | 'message' | 'unknown' {
  if (head.length >= 5 && head.subarray(0, 5).equals(FROM_)) return 'mbox';
  // Skip a BOM and leading blank lines some tools write.
  let text = head.toString('latin1', 0, Math.min(head.length, 1024));
  if (text.startsWith('\xef\xbb\xbf')) text = text.slice(3);
  text = text.replace(/^[\r\n]+/, '');
  return HEADER_LINE.test(text) ? 'message' : 'unknown';
}

function looksLikeMboxName(path: string): boolean {
  const name = basename(path).replace(/\.gz$/i, '').toLowerCase();
  return name.endsWith('.mbox') || name.endsWith('.mbx') || name === 'mbox' || name === 'inbox';
}

async function isMaildir(dir: string): Promise<boolean> {
  const [cur, nw] = await Promise.all([
    fsp.stat(join(dir, 'cur')).then((s) => s.isDirectory(), () => false),
    fsp.stat(join(dir, 'new')).then((s) => s.isDirectory(), () => false),
  ]);
  return cur || nw;
}

/** Kind of an archive path, from the file system and the content. */
export async function detectArchiveKind(path: string): Promise<ArchiveKind> {
  const st = await fsp.stat(path);
  if (st.isDirectory()) return (await isMaildir(path)) ? 'maildir' : 'directory';
  const { head } = await sniff(path);
  const kind = sniffContent(head);
  if (kind === 'mbox') return 'mbox';
  if (kind === 'message') return 'message';
  if (looksLikeMboxName(path)) return 'mbox';
  throw new Error('not recognised as mail: neither an mbox (`From ` line) nor a message (header lines)');
}

// ---- one-message files -----------------------------------------------------------------------

/** Strip an mbox `From ` line a single-message file may start with (SpamAssassin corpus files do). */
function stripFromLine(raw: Buffer): Buffer {
  if (raw.length >= 5 && raw.subarray(0, 5).equals(FROM_)) {
    const nl = raw.indexOf(10);
    return nl < 0 ? Buffer.alloc(0) : raw.subarray(nl + 1);
  }
  return raw;
}

async function readMessageFile(path: string, st: Stats, gzip: boolean, max: number): Promise<ArchiveItem> {
  const id = path;
  if (!gzip) {
    const size = st.size;
    if (size > max) return { id, error: oversize(size, max, true) };
    return { id, raw: stripFromLine(await fsp.readFile(path)), source: { path } };
  }
  const parts: Buffer[] = [];
  let size = 0;
  const stream = openStream(path, true);
  try {
    for await (const chunk of stream) {
      size += (chunk as Buffer).length;
      if (size > max) return { id, error: oversize(size, max, false) };
      parts.push(chunk as Buffer);
    }
  } finally {
    stream.destroy();
  }
  return { id, raw: stripFromLine(Buffer.concat(parts, size)), source: { path, gzip: true } };
}

// ---- mbox ------------------------------------------------------------------------------------

/** Loose mbox separator test (after the blank-line check): `From sender date...` with a digit. */
function isSeparator(line: Buffer): boolean {
  if (line.length < 5 || line[0] !== 0x46 || line[1] !== 0x72 || line[2] !== 0x6f || line[3] !== 0x6d || line[4] !== 0x20) return false;
  // A real separator carries a date; a body line like "From what I hear" usually does not.
  for (let i = 5; i < line.length; i++) {
    const c = line[i]!;
    if (c >= 0x30 && c <= 0x39) return true;
  }
  return false;
}

function isBlank(line: Buffer): boolean {
  return line.length === 0 || (line.length === 1 && line[0] === 0x0d);
}

/** `>From ` (mboxo) or `>+From ` (mboxrd) escaped line: number of leading `>` or 0. */
function escapedFromDepth(line: Buffer): number {
  let i = 0;
  while (i < line.length && line[i] === 0x3e) i++;
  if (i === 0 || line.length < i + 5) return 0;
  return line[i] === 0x46 && line[i + 1] === 0x72 && line[i + 2] === 0x6f && line[i + 3] === 0x6d && line[i + 4] === 0x20 ? i : 0;
}

/**
 * Split an mbox stream into messages. A separator is a `From ` line carrying a digit, at the
 * start of the file or after a blank line; this survives the unescaped `From ` lines that
 * mboxo writers leave in bodies.
 */
async function* readMbox(
  path: string,
  chunks: AsyncIterable<unknown> | Iterable<Buffer>,
  gzip: boolean,
  options: ReadArchiveOptions,
): AsyncGenerator<ArchiveItem> {
  const max = options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
  const escaping = options.mboxEscaping ?? 'mboxrd';
  const skip = options.skip;
  let index = 0;
  let msgOffset = 0;
  let parts: Buffer[] = [];
  let size = 0;
  let overflow = false;
  let skipping = false;
  let inMessage = false;
  let prevBlank = true;
  let pos = 0; // byte offset of the current line
  let carry: Buffer[] = [];
  let carrySize = 0;

  const idOf = (): string => `${path}#${index}@${msgOffset}`;
  const finish = (): ArchiveItem | null => {
    if (!inMessage) return null;
    const id = idOf();
    let item: ArchiveItem | null;
    if (skipping) item = null;
    else if (overflow) item = { id, error: oversize(size, max, false) };
    else item = { id, raw: Buffer.concat(parts, size), source: gzip ? { path, index, offset: msgOffset, gzip } : { path, index, offset: msgOffset } };
    parts = [];
    size = 0;
    overflow = false;
    return item;
  };
  const addLine = (line: Buffer, withNewline: boolean): void => {
    if (skipping || overflow) return;
    let body = line;
    if (escaping !== 'none') {
      const depth = escapedFromDepth(line);
      if (depth > 0 && (escaping === 'mboxrd' || depth === 1)) body = line.subarray(1);
    }
    const add = body.length + (withNewline ? 1 : 0);
    if (size + add > max) {
      overflow = true;
      parts = [];
      size += add;
      return;
    }
    parts.push(body);
    if (withNewline) parts.push(NEWLINE);
    size += add;
  };

  let failure: string | null = null;
  const pending: ArchiveItem[] = [];
  const handle = (line: Buffer, withNewline: boolean): void => {
    if (prevBlank && isSeparator(line)) {
      const done = finish();
      if (done) pending.push(done);
      index++;
      msgOffset = pos;
      inMessage = true;
      skipping = skip ? skip(idOf()) : false;
      prevBlank = false;
      return;
    }
    if (!inMessage) {
      // Text before the first separator: not an mbox after all (or leading junk).
      if (index === 0 && pos === 0 && !isBlank(line)) failure = 'not an mbox: the file does not start with a `From ` line';
      prevBlank = isBlank(line);
      return;
    }
    if (overflow) size += line.length + (withNewline ? 1 : 0);
    else addLine(line, withNewline);
    prevBlank = isBlank(line);
  };

  try {
    for await (const chunkAny of chunks) {
      const chunk = chunkAny as Buffer;
      let start = 0;
      for (;;) {
        const nl = chunk.indexOf(10, start);
        if (nl < 0) break;
        let line = chunk.subarray(start, nl);
        if (carry.length > 0) {
          // A line spanning chunks; parts are kept in a list so a long line is copied once.
          carry.push(line);
          line = Buffer.concat(carry, carrySize + line.length);
          carry = [];
          carrySize = 0;
        }
        const lineBytes = line.length + 1;
        handle(line, true);
        pos += lineBytes;
        start = nl + 1;
        if (failure) break;
      }
      if (failure) break;
      if (start < chunk.length) {
        const rest = chunk.subarray(start);
        carry.push(rest);
        carrySize += rest.length;
        // A long line in an oversize message is counted, not kept.
        if (overflow && carrySize > 1024 * 1024) {
          size += carrySize;
          pos += carrySize;
          carry = [];
          carrySize = 0;
        }
      }
      while (pending.length > 0) yield pending.shift()!;
    }
    if (!failure && carry.length > 0) {
      const line = Buffer.concat(carry, carrySize);
      handle(line, false);
      pos += line.length;
    }
  } catch (err) {
    const done = failure ? null : finish();
    if (done && !isReadFailure(done)) {
      // The stream broke mid-message: report it against the message, not just the file.
      yield { id: done.id, error: `${errorText(err)} (message cut short at byte ${pos})` };
    } else {
      yield { id: index > 0 ? idOf() : path, error: errorText(err) };
    }
    return;
  } finally {
    if (typeof (chunks as Readable).destroy === 'function') (chunks as Readable).destroy();
  }
  while (pending.length > 0) yield pending.shift()!;
  if (failure) {
    yield { id: path, error: failure };
    return;
  }
  const last = finish();
  if (last) yield last;
}

const NEWLINE = Buffer.from('\n');

// ---- trees -----------------------------------------------------------------------------------

interface WalkState {
  /** Directories on the current path from the root, dev:ino -> path: a repeat is a loop. */
  readonly ancestors: Map<string, string>;
  readonly options: ReadArchiveOptions;
}

async function sortedEntries(dir: string): Promise<string[]> {
  return readdirSync(dir).sort();
}

/** Messages of one file found in a tree or named on the command line. */
async function* readFile(path: string, st: Stats, inMaildir: boolean, explicit: boolean, options: ReadArchiveOptions): AsyncGenerator<ArchiveItem> {
  const max = options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
  if (inMaildir && options.skip?.(path)) return;
  let head: Buffer;
  let gzip: boolean;
  let whole: Buffer | null = null;
  try {
    if (st.size <= max) {
      // One synchronous read: for the many small files of a Maildir a thread-pool round trip
      // per call costs more than the read itself.
      whole = readFileSync(path);
      gzip = whole.length >= 2 && whole[0] === GZIP_MAGIC_0 && whole[1] === GZIP_MAGIC_1;
      if (gzip) {
        whole = null;
        ({ head } = await sniff(path));
      } else {
        head = whole.subarray(0, SNIFF_BYTES);
      }
    } else {
      ({ head, gzip } = await sniff(path));
    }
  } catch (err) {
    yield { id: path, error: errorText(err) };
    return;
  }
  const content = sniffContent(head);
  // Maildir files are one message each, even when they start with a `From ` line.
  // So are `.eml` files whatever they hold: a damaged one is reported, not passed over.
  if (inMaildir || content === 'message' || /\.eml(\.gz)?$/i.test(path)) {
    if (!inMaildir && options.skip?.(path)) return;
    if (whole) {
      yield { id: path, raw: stripFromLine(whole), source: { path } };
      return;
    }
    try {
      yield await readMessageFile(path, st, gzip, max);
    } catch (err) {
      yield { id: path, error: errorText(err) };
    }
    return;
  }
  if (content === 'mbox' || (explicit && looksLikeMboxName(path))) {
    yield* readMbox(path, whole ? [whole] : openStream(path, gzip), gzip, options);
    return;
  }
  if (head.length === 0 && !explicit) return; // empty files in trees are not worth a line
  if (explicit) yield { id: path, error: 'not recognised as mail: neither an mbox (`From ` line) nor a message (header lines)' };
  else options.onSkippedFile?.(path, 'not recognised as mail');
}

async function* walk(path: string, state: WalkState, inMaildir: boolean, explicit: boolean): AsyncGenerator<ArchiveItem> {
  let st: Stats;
  try {
    st = statSync(path); // follows symlinks; loops are caught below by dev:ino
  } catch (err) {
    yield { id: path, error: errorText(err) };
    return;
  }
  if (!st.isDirectory()) {
    if (!st.isFile()) {
      if (explicit) yield { id: path, error: 'not a regular file or directory' };
      return;
    }
    yield* readFile(path, st, inMaildir, explicit, state.options);
    return;
  }
  const key = `${st.dev}:${st.ino}`;
  const seen = state.ancestors.get(key);
  if (seen !== undefined) {
    yield { id: path, error: `directory loop: ${path} leads back to ${seen}; not followed` };
    return;
  }
  state.ancestors.set(key, path);
  try {
    yield* walkDirectory(path, state);
  } finally {
    state.ancestors.delete(key);
  }
}

async function* walkDirectory(path: string, state: WalkState): AsyncGenerator<ArchiveItem> {
  let names: string[];
  try {
    names = await sortedEntries(path);
  } catch (err) {
    yield { id: path, error: errorText(err) };
    return;
  }
  if (await isMaildir(path)) {
    // Maildir: cur/ then new/ (tmp/ holds deliveries in progress), then Maildir++ subfolders.
    for (const sub of ['cur', 'new']) {
      if (!names.includes(sub)) continue;
      const dir = join(path, sub);
      let files: string[];
      try {
        files = await sortedEntries(dir);
      } catch (err) {
        yield { id: dir, error: errorText(err) };
        continue;
      }
      for (const f of files) {
        if (f.startsWith('.')) continue;
        yield* walk(join(dir, f), state, true, false);
      }
    }
    for (const name of names) {
      if (name === 'cur' || name === 'new' || name === 'tmp' || IGNORED_NAMES.has(name)) continue;
      yield* walk(join(path, name), state, false, false);
    }
    return;
  }
  for (const name of names) {
    if (IGNORED_NAMES.has(name)) continue;
    yield* walk(join(path, name), state, false, false);
  }
}

/**
 * Read every message of one archive path (mbox, Maildir, directory tree or message file,
 * gzipped or not). Yields messages and per-message/per-file failures; never throws for
 * content or file-system problems.
 */
export async function* readArchive(path: string, options: ReadArchiveOptions = {}): AsyncGenerator<ArchiveItem> {
  const state: WalkState = { ancestors: new Map(), options };
  yield* walk(path, state, false, true);
}

/** Read several archive paths one after another, in the order given. */
export async function* readArchives(paths: readonly string[], options: ReadArchiveOptions = {}): AsyncGenerator<ArchiveItem> {
  const state: WalkState = { ancestors: new Map(), options };
  for (const p of paths) yield* walk(p, state, false, true);
}

/** Absolute form used when ids must match across runs started from different folders. */
export function archivePath(path: string): string {
  return resolve(path);
}

/**
 * Whether `spamgate scan` should read a path as mail rather than as TSV/JSONL message lines:
 * folders, gzip files of mail, files starting with an mbox `From ` line or with header lines,
 * and files named `*.mbox`, `*.mbx` or `*.eml`.
 */
export async function isMailArchive(path: string): Promise<boolean> {
  if (path === '-') return false;
  // By name first: a missing `x.mbox` is then reported by the mail reader, by name.
  if (/\.(mbox|mbx|eml)(\.gz)?$/i.test(path)) return true;
  try {
    if (statSync(path).isDirectory()) return true;
    const { head } = await sniff(path);
    return sniffContent(head) !== 'unknown';
  } catch {
    return false;
  }
}
