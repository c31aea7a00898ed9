/**
 * Line-oriented message files: TSV (`label<TAB>text` or `text`) and JSONL
 * (`{"id","from","to","time","text","label"}`), from a path or stdin (`-`). Streams line by
 * line; a bad line becomes an error record naming file and line, and reading goes on.
 */
import { createReadStream, openSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { Transform, type TransformCallback } from 'node:stream';
import { TextDecoder } from 'node:util';
import type { Channel, MessageInput } from './types.js';

export type Label = 'spam' | 'ham';

export interface MessageRecord {
  readonly kind: 'message';
  /** The input's id, or `file:line`. */
  readonly id: string;
  readonly line: number;
  readonly label?: Label;
  readonly input: MessageInput;
}

export interface ErrorRecord {
  readonly kind: 'error';
  readonly id: string;
  readonly line: number;
  readonly error: string;
}

export type InputRecord = MessageRecord | ErrorRecord;

export interface ReadOptions {
  /** Sender and recipient for TSV lines, which carry only text. */
  readonly defaultFrom?: string;
  readonly defaultTo?: string;
  /** Refuse lines longer than this many characters (default 1 MiB). */
  readonly maxLineLength?: number;
  /** `tsv`, `jsonl`, or detect from the first non-empty line (default). */
  readonly format?: 'tsv' | 'jsonl' | 'auto';
}

const LABELS: Readonly<Record<string, Label>> = { spam: 'spam', ham: 'ham', '1': 'spam', '0': 'ham' };
const STRICT_UTF8 = new TextDecoder('utf-8', { fatal: true });

function parseLabel(value: unknown): Label | undefined | null {
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value === 'boolean') return value ? 'spam' : 'ham';
  const label = LABELS[String(value).toLowerCase()];
  return label ?? null;
}

/**
 * Parse one JSONL line. Fields: text (required), id, from, to, time, channel, label
 * (`spam`/`ham`, also `is_spam: true|false`).
 */
function parseJsonLine(line: string, id: string, options: ReadOptions): { label?: Label; input: MessageInput; id: string } | string {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch (err) {
    return `not valid JSON (${(err as Error).message})`;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'expected a JSON object';
  const o = value as Record<string, unknown>;
  if (typeof o['text'] !== 'string') return "field 'text' is missing or not a string";
  for (const field of ['id', 'from', 'to'] as const) {
    if (o[field] !== undefined && typeof o[field] !== 'string' && typeof o[field] !== 'number') {
      return `field '${field}' must be a string`;
    }
  }
  let time: number | string | undefined;
  if (o['time'] !== undefined) {
    if (typeof o['time'] !== 'string' && typeof o['time'] !== 'number') return "field 'time' must be an ISO-8601 string or epoch milliseconds";
    const t = typeof o['time'] === 'number' ? o['time'] : Date.parse(o['time']);
    if (!Number.isFinite(t)) return `field 'time' is not a valid time: ${JSON.stringify(o['time'])}`;
    time = t;
  }
  const channel = o['channel'];
  if (channel !== undefined && channel !== 'sms' && channel !== 'email') return "field 'channel' must be 'sms' or 'email'";
  const label = parseLabel(o['label'] ?? o['is_spam']);
  if (label === null) return `field 'label' must be 'spam' or 'ham', got ${JSON.stringify(o['label'] ?? o['is_spam'])}`;
  const recordId = o['id'] !== undefined ? String(o['id']) : id;
  const input: MessageInput = {
    id: recordId,
    channel: (channel as Channel | undefined) ?? 'sms',
    from: o['from'] !== undefined ? String(o['from']) : (options.defaultFrom ?? ''),
    to: o['to'] !== undefined ? String(o['to']) : (options.defaultTo ?? ''),
    ...(time !== undefined ? { time } : {}),
    text: o['text'],
  };
  return label ? { label, input, id: recordId } : { input, id: recordId };
}

function parseTsvLine(line: string, id: string, options: ReadOptions): { label?: Label; input: MessageInput; id: string } | string {
  const tab = line.indexOf('\t');
  let label: Label | undefined;
  let text = line;
  if (tab >= 0) {
    const parsed = parseLabel(line.slice(0, tab).trim());
    if (parsed === null || parsed === undefined) {
      return `expected 'spam' or 'ham' before the tab, got ${JSON.stringify(line.slice(0, Math.min(tab, 20)))}`;
    }
    label = parsed;
    text = line.slice(tab + 1);
  }
  const input: MessageInput = { id, channel: 'sms', from: options.defaultFrom ?? '', to: options.defaultTo ?? '', text };
  return label ? { label, input, id } : { input, id };
}

/** Read a TSV or JSONL file (or stdin for `-`) as records, one per non-empty line. */
export async function* readRecords(path: string, options: ReadOptions = {}): AsyncGenerator<InputRecord> {
  const name = path === '-' ? 'stdin' : path;
  const maxLine = options.maxLineLength ?? 1024 * 1024;
  // Read bytes, not text, so invalid UTF-8 is reported per line instead of silently replaced.
  // Opening first turns a missing or unreadable file into one clear error (code ENOENT, EACCES,
  // EISDIR) thrown here, instead of an unhandled stream error later.
  const stream = path === '-' ? process.stdin : createReadStream(path, { fd: openSync(path, 'r') });
  const bytes = new LatinPassThrough();
  stream.on('error', (err: Error) => bytes.destroy(err));
  const lines = createInterface({ input: stream.pipe(bytes), crlfDelay: Infinity });
  let format = options.format ?? 'auto';
  let lineNo = 0;
  for await (const rawLine of lines) {
    lineNo++;
    const id = `${name}:${lineNo}`;
    let line: string;
    try {
      line = STRICT_UTF8.decode(Buffer.from(rawLine, 'latin1'));
    } catch {
      yield { kind: 'error', id, line: lineNo, error: `${id}: not valid UTF-8` };
      continue;
    }
    if (line.charCodeAt(0) === 0xfeff) line = line.slice(1);
    if (line.trim() === '') continue;
    if (line.length > maxLine) {
      yield { kind: 'error', id, line: lineNo, error: `${id}: line of ${line.length} characters is longer than the limit of ${maxLine}` };
      continue;
    }
    if (format === 'auto') format = line.trimStart().startsWith('{') ? 'jsonl' : 'tsv';
    const parsed = format === 'jsonl' ? parseJsonLine(line, id, options) : parseTsvLine(line, id, options);
    if (typeof parsed === 'string') {
      yield { kind: 'error', id, line: lineNo, error: `${id}: ${parsed}` };
      continue;
    }
    yield parsed.label
      ? { kind: 'message', id: parsed.id, line: lineNo, label: parsed.label, input: parsed.input }
      : { kind: 'message', id: parsed.id, line: lineNo, input: parsed.input };
  }
}


/** Decodes bytes as Latin-1 so every byte survives into readline; lines are re-decoded strictly. */
class LatinPassThrough extends Transform {
  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    done(null, chunk.toString('latin1'));
  }
}
