/**
 * One raw RFC 5322 message to a `MessageInput` for the engine, with mailparser doing the MIME
 * work (transfer encodings, charsets, encoded words, attachments). HTML is reduced to text here
 * (see html.ts) and its links collected.
 *
 * Two kinds of trouble are told apart:
 * - `MailParseError`: nothing sensible to score (binary garbage, no header block, parser
 *   failure, time limit). The scan reports the message id with the reason and goes on.
 * - defects: the message is damaged but still has content (missing or unclosed MIME
 *   boundaries, unknown charsets, undecodable bytes). It is scored, and the defects are
 *   listed with the result, so a damaged message never slips through unscored.
 */
import type { AddressObject } from 'mailparser';
import { createRequire } from 'node:module';
import type { EmailAttachment, EmailFields, MessageInput } from '../message/types.js';
import { TextDecoder } from 'node:util';
import { htmlToText } from './html.js';

// mailparser is loaded only when a message needs it: loading it (with iconv-lite, libmime and
// linkify) costs about 0.17 CPU-s, a third of a scan worker's start-up, and most mail never
// needs it (docs/mail.md).
type Mailparser = typeof import('mailparser');
let mailparser: Promise<Mailparser> | undefined;
function loadMailparser(): Promise<Mailparser> {
  mailparser ??= import('mailparser');
  return mailparser;
}

/** One entry of nodemailer's addressparser: a mailbox, or a group of mailboxes. */
interface ParsedAddress {
  name: string;
  address?: string | undefined;
  group?: ParsedAddress[] | undefined;
}
/**
 * The address parser mailparser itself uses (nodemailer's, a small module of its own), taken
 * from mailparser's dependencies so both read addresses alike.
 */
const addressparser = createRequire(createRequire(import.meta.url).resolve('mailparser'))('nodemailer/lib/addressparser') as (value: string) => ParsedAddress[];

export class MailParseError extends Error {
  constructor(
    readonly messageId: string,
    message: string,
  ) {
    super(message);
    this.name = 'MailParseError';
  }
}

/** What the rest of the parser needs of a parsed message; mailparser's `ParsedMail` fits it. */
interface MailParts {
  readonly headerLines: ReadonlyArray<{ readonly key: string; readonly line: string }>;
  readonly subject?: string | undefined;
  readonly from?: AddressObject | undefined;
  readonly replyTo?: AddressObject | undefined;
  readonly to?: AddressObject | AddressObject[] | undefined;
  readonly text?: string | undefined;
  readonly html?: string | false | undefined;
  readonly attachments: ReadonlyArray<{ readonly filename?: string | undefined; readonly contentType: string; readonly size: number }>;
}

export interface ParseOptions {
  /**
   * Decode simple messages (one text/plain or text/html part, or a multipart/alternative,
   * mixed, related or signed of such parts and plain attachments; charsets the platform knows)
   * directly instead of through mailparser: the same result, several times faster, and most
   * mail is like that. Default true.
   */
  readonly fastPath?: boolean;
  /** Give up on one message after this long (default 10 s). */
  readonly timeoutMs?: number;
  /** Keep at most this many characters of body text for rules and tokens (default 256 Ki). */
  readonly maxTextChars?: number;
  /**
   * Also give `EmailFields.unscored`: the other part of an alternative and the HTML's make-up,
   * for the experiment (measured as classifier tokens, not adopted). Default false: a scan does
   * none of that work.
   */
  readonly unscored?: boolean;
}

export interface ParsedEmail {
  readonly input: MessageInput & { readonly email: EmailFields };
  /** Problems found in a message that was still parsed (scored anyway). */
  readonly defects: string[];
  /** The Date header as ISO-8601, when it parsed. */
  readonly date?: string;
}

const PARSER_OPTIONS = {
  skipHtmlToText: true,
  skipTextToHtml: true,
  skipTextLinks: true,
  skipImageLinks: true,
  keepCidLinks: true,
  checksumAlgo: false,
  maxHeadSize: 256 * 1024,
  maxChildNodes: 500,
} as const;

const DEFAULT_TIMEOUT_MS = 10_000;
const DEFAULT_MAX_TEXT = 256 * 1024;
/** Only this much of a message is searched for MIME structure problems. */
const STRUCTURE_SCAN_BYTES = 4 * 1024 * 1024;
const HEADER_START = /^[A-Za-z][A-Za-z0-9_.-]{0,99}:/;

// ---- encoded words (RFC 2047) for the raw header values rules look at -------------------------

const ENCODED_WORD = /=\?([^?\s]{1,40})\?([bBqQ])\?([^?\s]*)\?=/g;
const decoders = new Map<string, TextDecoder | null>();

function decoderFor(charset: string): TextDecoder | null {
  const key = charset.toLowerCase().replace(/\*.*$/, ''); // RFC 2231 language suffix
  let d = decoders.get(key);
  if (d === undefined) {
    try {
      d = new TextDecoder(key);
    } catch {
      d = null;
    }
    decoders.set(key, d);
  }
  return d;
}

export function charsetKnown(charset: string): boolean {
  return decoderFor(charset) !== null;
}

export function decodeEncodedWords(value: string): string {
  if (value.indexOf('=?') < 0) return value;
  return value
    .replace(/\?=\s+=\?/g, '?==?') // whitespace between adjacent encoded words is not shown
    .replace(ENCODED_WORD, (whole, charset: string, enc: string, data: string) => {
      const d = decoderFor(charset);
      if (!d) return whole;
      let bytes: Buffer;
      if (enc === 'b' || enc === 'B') bytes = Buffer.from(data, 'base64');
      else {
        bytes = Buffer.from(
          data.replace(/_/g, ' ').replace(/=([0-9a-fA-F]{2})/g, (_m, h: string) => String.fromCharCode(parseInt(h, 16))),
          'latin1',
        );
      }
      return d.decode(bytes);
    });
}

// ---- helpers ---------------------------------------------------------------------------------

function firstAddress(obj: AddressObject | AddressObject[] | undefined): string {
  const list = Array.isArray(obj) ? obj : obj ? [obj] : [];
  for (const o of list) {
    for (const v of o.value) {
      if (v.address) return v.address.trim().toLowerCase();
      for (const g of v.group ?? []) if (g.address) return g.address.trim().toLowerCase();
    }
  }
  return '';
}

function domainOf(address: string): string {
  const at = address.lastIndexOf('@');
  return at < 0 ? '' : address.slice(at + 1).replace(/[>\].]+$/, '');
}

function headerMap(parsed: MailParts): Map<string, string[]> {
  const map = new Map<string, string[]>();
  for (const { key, line } of parsed.headerLines) {
    if (!key) continue;
    const colon = line.indexOf(':');
    const value = decodeEncodedWords(line.slice(colon + 1).replace(/\r?\n[ \t]+/g, ' ').trim());
    const list = map.get(key);
    if (list) list.push(value);
    else map.set(key, [value]);
  }
  return map;
}

function countReplacement(text: string): number {
  let n = 0;
  for (let i = text.indexOf('\ufffd'); i >= 0; i = text.indexOf('\ufffd', i + 1)) n++;
  return n;
}

/** Where the header block ends (index of the blank line), or -1. */
function headerEnd(raw: Buffer): number {
  const a = raw.indexOf('\n\n');
  // A CRLF blank line can only come first if it is before the LF one: never search the whole
  // body for CRLF in mail stored with bare LFs.
  const b = (a < 0 ? raw : raw.subarray(0, a + 3)).indexOf('\r\n\r\n');
  return b < 0 ? a : b;
}

/** Reject what is not a message before handing it to the parser. */
function checkLooksLikeMail(raw: Buffer, id: string): void {
  if (raw.length === 0) throw new MailParseError(id, 'empty message');
  let start = 0;
  while (start < raw.length && (raw[start] === 0x0a || raw[start] === 0x0d)) start++;
  const firstLine = raw.toString('latin1', start, Math.min(raw.length, start + 200));
  if (!HEADER_START.test(firstLine)) {
    throw new MailParseError(id, 'not an email: no header block (binary or garbage data?)');
  }
  const end = headerEnd(raw);
  const head = raw.subarray(0, end < 0 ? Math.min(raw.length, 64 * 1024) : end);
  let control = 0;
  for (let i = 0; i < head.length; i++) {
    const c = head[i]!;
    if (c === 0 || (c < 0x09) || (c > 0x0d && c < 0x20 && c !== 0x1b)) control++;
  }
  if (control > 0 && control * 50 > head.length) {
    throw new MailParseError(id, `not an email: ${control} control bytes in the header block (binary data?)`);
  }
}

/** MIME structure problems mailparser forgives silently: a body that vanishes is worth saying. */
function structureDefects(raw: Buffer): string[] {
  const defects: string[] = [];
  const text = raw.toString('latin1', 0, Math.min(raw.length, STRUCTURE_SCAN_BYTES));
  const boundaries = new Set<string>();
  // Only Content-Type fields at the start of a line (with their folded continuation lines):
  // a boundary quoted in a forwarded message's body is not this message's structure.
  const ctRe = /^content-type:[^\n]*(?:\r?\n[ \t][^\n]*)*/gim;
  const re = /boundary\s*=\s*(?:"([^"\r\n]{1,200})"|([^\s;"]{1,200}))/i;
  const ctBlocks: string[] = [];
  for (let m = ctRe.exec(text); m; m = ctRe.exec(text)) {
    ctBlocks.push(m[0]);
    const b = re.exec(m[0]);
    if (b) boundaries.add(b[1] ?? b[2]!);
  }
  for (const b of boundaries) {
    const delim = `--${b}`;
    const first = text.indexOf(delim);
    // The declaration itself contains the boundary; a delimiter line must start a line.
    let found = false;
    let closed = false;
    for (let i = first; i >= 0; i = text.indexOf(delim, i + 1)) {
      if (i === 0 || text.charCodeAt(i - 1) === 0x0a) {
        found = true;
        if (text.startsWith(`${delim}--`, i)) closed = true;
      }
    }
    if (!found) defects.push(`missing MIME boundary: "${b}" is declared but never appears; body read as plain text`);
    else if (!closed && raw.length <= STRUCTURE_SCAN_BYTES) defects.push(`truncated: closing MIME boundary "${delim}--" missing`);
  }
  const charsets = new Set<string>();
  const cs = /charset\s*=\s*"?([^\s";]{1,60})/i;
  for (const block of ctBlocks) {
    const m = cs.exec(block);
    if (!m) continue;
    const c = m[1]!.replace(/['"\\]/g, '');
    if (!/^3d/i.test(c)) charsets.add(c);
  }
  for (const c of charsets) if (!charsetKnown(c)) defects.push(`unknown charset "${c}": decoded as best effort`);
  return defects;
}

/**
 * The Date header as ISO-8601, or undefined. mailparser puts "now" in place of a date it cannot
 * read, which would file old mail under today; here such a message simply has no date.
 */
export function parseDate(value: string | undefined): string | undefined {
  if (!value) return undefined;
  const tries = [value, value.replace(/\s*\([^)]*\)\s*$/, ''), value.replace(/\+-(\d{4})/, '-$1'), value.replace(/\s+[A-Za-z][A-Za-z ]+$/, ' +0000')];
  for (const t of tries) {
    const ms = Date.parse(t);
    if (Number.isFinite(ms)) return new Date(ms).toISOString();
  }
  return undefined;
}

function withTimeout<T>(promise: Promise<T>, ms: number, id: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const limit = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new MailParseError(id, `parsing took longer than ${ms} ms: gave up`)), ms);
  });
  return Promise.race([promise, limit]).finally(() => clearTimeout(timer));
}

// ---- simple messages without mailparser --------------------------------------------------------

const SIMPLE_ENCODINGS = new Set(['', '7bit', '8bit', 'binary', 'quoted-printable', 'base64']);
const UTF8_NAMES = new Set(['', 'ascii', 'usascii', 'utf8']);

function param(value: string, name: string): string {
  const m = new RegExp(`;\\s*${name}\\s*=\\s*(?:"([^"]*)"|([^;\\s]*))`, 'i').exec(value);
  return m ? (m[1] ?? m[2] ?? '') : '';
}

function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x41 && c <= 0x46) return c - 0x37;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  return -1;
}

/** Index of the line end (LF, or CR of CRLF) if only blanks come before it from `i`, else -1. */
function blanksToLineEnd(body: Buffer, i: number, bareCr = false): number {
  let j = i;
  while (j < body.length && (body[j] === 0x20 || body[j] === 0x09)) j++;
  if (j === body.length || body[j] === 0x0a || (body[j] === 0x0d && (bareCr || body[j + 1] === 0x0a))) return j;
  return -1;
}

/**
 * Quoted-printable in one pass over the bytes: blanks at the end of a line were added in
 * transport (RFC 2045 6.7) and are dropped, `=` at the end of a line is a soft break, `=XX` a
 * byte; anything else (a stray `=`) is kept as it is.
 */
function decodeQuotedPrintable(body: Buffer, partEnd = false): Buffer {
  const out = Buffer.allocUnsafe(body.length);
  let o = 0;
  let i = 0;
  const n = body.length;
  while (i < n) {
    const c = body[i]!;
    if (c === 0x20 || c === 0x09) {
      // Blanks before a bare CR go too, as mailparser drops them.
      const end = blanksToLineEnd(body, i, true);
      if (end >= 0) {
        i = end;
        continue;
      }
      out[o++] = c;
      i++;
    } else if (c === 0x3d) {
      const end = blanksToLineEnd(body, i + 1);
      if (end >= 0 && (end < n || partEnd)) {
        // Soft line break: skip the blanks and the line end (a MIME part's last line break
        // went with its delimiter, so there a last `=` is one too).
        i = body[end] === 0x0d ? end + 2 : end + 1;
        continue;
      }
      const hi = i + 2 < n ? hexValue(body[i + 1]!) : -1;
      const lo = hi >= 0 ? hexValue(body[i + 2]!) : -1;
      if (lo >= 0) {
        out[o++] = (hi << 4) | lo;
        i += 3;
      } else {
        out[o++] = c;
        i++;
      }
    } else {
      out[o++] = c;
      i++;
    }
  }
  return out.subarray(0, o);
}

interface HeaderBlock {
  readonly headerLines: Array<{ key: string; line: string }>;
  /** Where the body starts. */
  readonly bodyStart: number;
}

/**
 * A header block in plain ASCII at the start of `raw` (a message or a MIME part). Null when it
 * is not clean (8-bit bytes, a line without a colon): mailparser judges those.
 */
function readHeaderBlock(raw: Buffer): HeaderBlock | null {
  // A part may have no headers at all: it starts with the blank line.
  if (raw[0] === 0x0a) return { headerLines: [], bodyStart: 1 };
  if (raw[0] === 0x0d && raw[1] === 0x0a) return { headerLines: [], bodyStart: 2 };
  const end = headerEnd(raw);
  if (end < 0) return null;
  for (let i = 0; i < end; i++) if (raw[i]! >= 0x80) return null;
  const sep = raw[end] === 0x0d ? 4 : 2;
  const lines = raw.toString('latin1', 0, end).split(/\r?\n/);
  const headerLines: Array<{ key: string; line: string }> = [];
  for (const line of lines) {
    if ((line.startsWith(' ') || line.startsWith('\t')) && headerLines.length > 0) {
      const last = headerLines[headerLines.length - 1]!;
      last.line += '\n' + line;
      continue;
    }
    const colon = line.indexOf(':');
    if (colon <= 0) return null; // not a clean header block: let mailparser judge
    headerLines.push({ key: line.slice(0, colon).trim().toLowerCase(), line });
  }
  return { headerLines, bodyStart: end + sep };
}

function headerValue(block: HeaderBlock, key: string): string | undefined {
  const h = block.headerLines.find((x) => x.key === key);
  return h ? h.line.slice(h.line.indexOf(':') + 1).replace(/\r?\n[ \t]+/g, ' ').trim() : undefined;
}

function mediaType(ctype: string, fallback: string): string {
  return (ctype.split(';')[0] ?? '').trim().toLowerCase() || fallback;
}

/**
 * A text/plain or text/html leaf decoded as mailparser would (missing, ASCII and UTF-8
 * charsets read as UTF-8, CRLF to LF). Null when mailparser must do it: flowed text, base64,
 * named or attached text, charsets the platform does not know.
 */
function decodeTextLeaf(block: HeaderBlock, ctype: string, body: Buffer, inPart: boolean): string | null {
  const flowed = param(ctype, 'format').toLowerCase().trim() === 'flowed';
  if (flowed && mediaType(ctype, 'text/plain') !== 'text/plain') return null;
  const disposition = headerValue(block, 'content-disposition') ?? '';
  if (/^\s*attachment/i.test(disposition) || param(disposition, 'filename')) return null;
  if (param(ctype, 'name')) return null;
  const encoding = (headerValue(block, 'content-transfer-encoding') ?? '').toLowerCase();
  if (!SIMPLE_ENCODINGS.has(encoding)) return null;
  const charset = param(ctype, 'charset').replace(/^['"]|['"]$/g, '');
  const plainName = charset.toLowerCase().replace(/[^a-z0-9]+/g, '');
  let decoder: TextDecoder | null = null;
  if (!UTF8_NAMES.has(plainName)) {
    if (/^utf7|^base64$|^hex$|^(cs)?unicode11utf7/.test(plainName)) return null;
    // Flowed text is unfolded on bytes, before the charset: the same on decoded text only
    // where spaces, `>` and line ends are single ASCII bytes.
    if (flowed && !/^(utf8|iso8859\d+|windows125\d|cp125\d|latin\d|usascii|ascii)$/.test(plainName)) return null;
    decoder = decoderFor(charset);
    if (!decoder) return null; // mailparser's decoders know more charsets (and we note the defect there)
  }
  let bytes = body;
  if (encoding === 'quoted-printable') bytes = decodeQuotedPrintable(body, inPart);
  else if (encoding === 'base64') {
    // mailparser reads on past padding in the middle of a body: only clean base64 is read here.
    if (flowed) return null;
    const clean = cleanBase64(body);
    if (clean === null) return null;
    bytes = Buffer.from(clean, 'base64');
  }
  let decoded = decoder ? decoder.decode(bytes) : bytes.toString('utf8');
  if (flowed) decoded = decodeFlowed(decoded, param(ctype, 'delsp').toLowerCase().trim() === 'yes');
  // Most stored mail has bare LFs: skip the copy of the whole body when there is no CR.
  return decoded.indexOf('\r') < 0 ? decoded : decoded.replace(/\r\n/g, '\n');
}

/**
 * RFC 3676 format=flowed unfolded exactly as mailparser (libmime's decodeFlowed) does: a line
 * ending in a space continues on the next line of the same quote depth (with DelSp=yes that
 * space goes), space-stuffing is removed, a "-- " signature separator is never joined.
 */
function decodeFlowed(input: string, delSp: boolean): string {
  const lines = input.split(/\r?\n/);
  const result: string[] = [];
  let parts: string[] = [];
  let partsLength = 0;
  let depth = 0;
  let prefix = '';
  const pushPart = (part: string): void => {
    if (part) {
      parts.push(part);
      partsLength += part.length;
    }
  };
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    let lineDepth = 0;
    while (line.charCodeAt(lineDepth) === 0x3e) lineDepth++;
    const prefixLength = lineDepth && line.charCodeAt(lineDepth) === 0x20 ? lineDepth + 1 : lineDepth;
    const content = line.slice(prefixLength);
    const last = parts.length ? parts[parts.length - 1]! : '';
    const softBreak = lineDepth === depth && last.endsWith(' ') && !(partsLength === 3 && parts.join('') === '-- ');
    if (softBreak) {
      if (delSp) {
        parts.pop();
        partsLength -= last.length;
        pushPart(last.slice(0, -1));
        pushPart(content);
      } else {
        pushPart(lineDepth ? content : content.replace(/^ /, ''));
      }
    } else {
      if (i > 0) result.push(prefix + parts.join(''));
      parts = [];
      partsLength = 0;
      depth = lineDepth;
      prefix = line.slice(0, prefixLength);
      pushPart(content);
    }
  }
  if (partsLength || prefix) result.push(prefix + parts.join(''));
  return result.join('\n').replace(/^ /gm, '');
}

/** The base64 characters of a body whose only `=` are the padding at its end; null for any other body. */
function cleanBase64(body: Buffer): string | null {
  const text = body.toString('latin1');
  if (!/^[A-Za-z0-9+/\s]*={0,2}\s*$/.test(text)) return null;
  return text.replace(/\s+/g, '');
}

/** Bytes a base64 body decodes to, counted without decoding it (attachments can be megabytes). */
function base64Size(body: Buffer): number {
  let chars = 0;
  for (let i = 0; i < body.length; i++) {
    const c = body[i]!;
    if ((c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39) || c === 0x2b || c === 0x2f || c === 0x2d || c === 0x5f) chars++;
  }
  // As Node's decoder counts: whole groups of 4 give 3 bytes, a tail of 2 or 3 characters 1 or 2.
  const tail = chars % 4;
  return Math.floor(chars / 4) * 3 + (tail === 0 ? 0 : tail - 1);
}

/** Multiparts read here; others (digest, report, encrypted, …) go to mailparser. */
const FAST_MULTIPART = new Set(['multipart/alternative', 'multipart/mixed', 'multipart/related', 'multipart/signed']);
const MAX_FAST_DEPTH = 4;

interface Collected {
  readonly text: string[];
  readonly html: string[];
  readonly attachments: Array<{ filename?: string; contentType: string; size: number }>;
}

/** The parts of a multipart body between `--boundary` lines; null when it is not closed. */
function splitParts(body: Buffer, boundary: string): Buffer[] | null {
  const delim = Buffer.from(`--${boundary}`, 'latin1');
  const parts: Buffer[] = [];
  let partStart = -1;
  for (let i = body.indexOf(delim); i >= 0; i = body.indexOf(delim, i + 1)) {
    if (i > 0 && body[i - 1] !== 0x0a) continue; // a delimiter starts a line
    let after = i + delim.length;
    const closing = body[after] === 0x2d && body[after + 1] === 0x2d;
    if (closing) after += 2;
    // Only blanks may follow on the delimiter line.
    let eol = after;
    while (eol < body.length && (body[eol] === 0x20 || body[eol] === 0x09)) eol++;
    if (eol < body.length && body[eol] !== 0x0a && body[eol] !== 0x0d) continue;
    if (partStart >= 0) {
      // The line break before the delimiter belongs to the delimiter.
      let end = i - 1;
      if (end > partStart && body[end - 1] === 0x0d) end--;
      parts.push(body.subarray(partStart, Math.max(partStart, end)));
    }
    if (closing) return parts;
    partStart = eol < body.length && body[eol] === 0x0d ? eol + 2 : eol + 1;
  }
  return null;
}

/**
 * Walk a multipart the way mailparser collects it: text/plain parts into `text`, text/html into
 * `html`, everything else an attachment. Outside multipart/alternative mailparser mixes text
 * and HTML parts into each other; a part there with more than one text body goes to it.
 * Returns the number of text bodies, or -1 to hand the message to mailparser.
 */
function collectMultipart(body: Buffer, ctype: string, depth: number, alternative: boolean, out: Collected): number {
  const type = mediaType(ctype, '');
  const boundary = param(ctype, 'boundary');
  if (!FAST_MULTIPART.has(type) || boundary === '' || depth > MAX_FAST_DEPTH) return -1;
  const parts = splitParts(body, boundary);
  if (parts === null || parts.length === 0) return -1;
  const inAlternative = alternative || type === 'multipart/alternative';
  let bodies = 0;
  for (const part of parts) {
    const block = readHeaderBlock(part);
    if (block === null) return -1;
    const partType = headerValue(block, 'content-type') ?? '';
    const media = mediaType(partType, 'text/plain');
    const content = part.subarray(Math.min(block.bodyStart, part.length));
    if (media.startsWith('multipart/')) {
      const n = collectMultipart(content, partType, depth + 1, inAlternative, out);
      if (n < 0) return -1;
      bodies += n;
    } else if (media === 'text/plain' || media === 'text/html') {
      const text = decodeTextLeaf(block, partType, content, true);
      if (text === null) return -1;
      if (text.length > 0) (media === 'text/plain' ? out.text : out.html).push(text);
      bodies++;
    } else {
      if (media.startsWith('message/')) return -1;
      const disposition = headerValue(block, 'content-disposition') ?? '';
      const named = `${partType};${disposition}`;
      // Encoded or continued names (RFC 2047 / 2231) and guessed types are mailparser's to decode.
      if (named.includes('=?') || /\*\s*=/.test(named)) return -1;
      const filename = param(disposition, 'filename') || param(partType, 'name');
      if (filename && media === 'application/octet-stream') return -1;
      const encoding = (headerValue(block, 'content-transfer-encoding') ?? '').toLowerCase();
      const size = encoding === 'base64' ? base64Size(content) : encoding === 'quoted-printable' ? decodeQuotedPrintable(content, true).length : content.length;
      out.attachments.push({ ...(filename ? { filename } : {}), contentType: media, size });
    }
    if (!inAlternative && bodies > 1) return -1;
  }
  return type === 'multipart/alternative' ? Math.min(bodies, 1) : bodies;
}

/**
 * Messages in a plain header block with one text part, or a multipart of text parts and plain
 * attachments, decoded here the way mailparser would. Null sends the message to mailparser:
 * other structures, flowed text, base64 text, 8-bit headers, charsets the platform does not
 * know, encoded attachment names, damaged structure.
 */
function parseSimple(raw: Buffer): MailParts | null {
  const block = readHeaderBlock(raw);
  if (block === null || block.headerLines.length === 0) return null;
  const ctype = headerValue(block, 'content-type') ?? '';
  const type = mediaType(ctype, 'text/plain');
  const body = raw.subarray(block.bodyStart);
  let text: string | undefined;
  let html: string | undefined;
  let attachments: Collected['attachments'] = [];
  if (type === 'text/plain' || type === 'text/html') {
    const content = decodeTextLeaf(block, ctype, body, false);
    if (content === null) return null;
    if (type === 'text/html') html = content;
    else text = content;
  } else if (type.startsWith('multipart/')) {
    const out: Collected = { text: [], html: [], attachments: [] };
    if (collectMultipart(body, ctype, 1, false, out) < 0) return null;
    // Damage mailparser forgives (and the scan reports) goes to it, so defects are found.
    if (structureDefects(raw).length > 0) return null;
    if (out.text.length > 0) text = out.text.join('\n');
    if (out.html.length > 0) html = out.html.join('<br/>\n');
    attachments = out.attachments;
  } else {
    return null;
  }
  const all = (key: string): string[] => block.headerLines.filter((x) => x.key === key).map((h) => h.line.slice(h.line.indexOf(':') + 1));
  const subject = headerValue(block, 'subject');
  const from = addressHeader(all('from'));
  const replyTo = addressHeader(all('reply-to'));
  const to = addressHeader(all('to'));
  if (from === null || replyTo === null || to === null) return null;
  return {
    headerLines: block.headerLines,
    subject: subject === undefined ? undefined : decodeEncodedWords(subject),
    from,
    replyTo,
    to,
    ...(text !== undefined ? { text } : {}),
    ...(html !== undefined ? { html } : {}),
    attachments,
  };
}

const ADDR = '[^\\s<>"(),;:@\\[\\]\\\\]+@[^\\s<>"(),;:@\\[\\]\\\\]+';
/** `user@host`, `Name <user@host>` or `"Name" <user@host>`, with nothing special in the name. */
const PLAIN_ADDRESS = new RegExp(`^(?:(${ADDR})|(?:"[^"\\\\]*"|[^"<>(),;:@\\\\=]*)\\s*<(${ADDR})>)$`);

/** Addresses mailparser would rewrite after parsing: encoded words in the address, IDN domains. */
function rewrittenByMailparser(list: readonly ParsedAddress[]): boolean {
  for (const a of list) {
    if (a.address && (a.address.includes('=?') || /@xn--/.test(a.address))) return true;
    if (a.group && rewrittenByMailparser(a.group)) return true;
  }
  return false;
}

/**
 * Address header lines as mailparser's parseAddressHeader gives them, for what the parser
 * reads (the addresses, not the display names): the usual one-address forms by a regex (the
 * profile showed the address parser at 4 % of a scan), the rest by the address parser
 * mailparser uses. Null when mailparser would rewrite an address (an encoded word in it, an
 * IDN domain): such a message is left to mailparser.
 */
function addressHeader(lines: string[]): AddressObject | undefined | null {
  if (lines.length === 0) return undefined;
  if (lines.length === 1) {
    const value = lines[0]!.replace(/\r?\n[ \t]+/g, ' ').trim();
    // A list without quotes or comments: its first entry is the first address.
    const first = value.includes('"') || value.includes('(') ? value : value.split(',')[0]!.trim();
    const m = first.includes('xn--') || first.includes('=?') ? null : PLAIN_ADDRESS.exec(first);
    if (m) return { value: [{ address: m[1] ?? m[2]!, name: '' }], html: '', text: '' };
  }
  const value: ParsedAddress[] = [];
  for (const line of lines) if (line) value.push(...addressparser(line));
  if (rewrittenByMailparser(value)) return null;
  return { value: value as AddressObject['value'], html: '', text: '' };
}

/** Whether `parseEmail` decodes this message itself rather than through mailparser. */
export function readsDirectly(raw: Buffer): boolean {
  return parseSimple(raw) !== null;
}

// ---- the parser ------------------------------------------------------------------------------

/**
 * Parse one raw message. Throws `MailParseError` when there is nothing to score; returns the
 * engine input plus any defects otherwise.
 */
export async function parseEmail(raw: Buffer, id: string, options: ParseOptions = {}): Promise<ParsedEmail> {
  checkLooksLikeMail(raw, id);
  const simple = options.fastPath === false ? null : parseSimple(raw);
  if (simple) return toParsedEmail(raw, id, simple, [], options);
  const defects = structureDefects(raw);
  let parsed: MailParts;
  try {
    const { simpleParser } = await loadMailparser();
    parsed = await withTimeout(simpleParser(raw, PARSER_OPTIONS), options.timeoutMs ?? DEFAULT_TIMEOUT_MS, id);
  } catch (err) {
    if (err instanceof MailParseError) throw err;
    throw new MailParseError(id, `cannot parse: ${err instanceof Error ? err.message : String(err)}`);
  }
  return toParsedEmail(raw, id, parsed, defects, options);
}

/**
 * `parseEmail` for the messages it decodes directly, without mailparser (the same result);
 * null for the others. Scan workers use it to leave those to one worker, so only that one
 * loads mailparser.
 */
export function parseEmailDirect(raw: Buffer, id: string, options: ParseOptions = {}): ParsedEmail | null {
  checkLooksLikeMail(raw, id);
  const simple = options.fastPath === false ? null : parseSimple(raw);
  return simple ? toParsedEmail(raw, id, simple, [], options) : null;
}

/** `EmailFields.unscored`, without the parts a message does not have. */
function unscoredParts(otherText: string, structure: Set<string> | undefined): NonNullable<EmailFields['unscored']> {
  return { ...(otherText.length > 0 ? { otherText } : {}), ...(structure && structure.size > 0 ? { htmlStructure: [...structure] } : {}) };
}

/** The engine input from the parsed parts: body text (HTML reduced), links, addresses, headers. */
function toParsedEmail(raw: Buffer, id: string, parsed: MailParts, defects: string[], options: ParseOptions): ParsedEmail {
  const maxText = options.maxTextChars ?? DEFAULT_MAX_TEXT;
  const subject = (parsed.subject ?? '').replace(/\s+/g, ' ').trim();
  let body = parsed.text ?? '';
  let fromHtml = false;
  let linkUrls: string[] = [];
  let other = '';
  const structure = options.unscored ? new Set<string>() : undefined;
  if (typeof parsed.html === 'string' && parsed.html.length > 0) {
    const h = htmlToText(parsed.html, undefined, structure);
    linkUrls = h.hrefs.filter((u) => /^(https?:|ftp:|www\.)/i.test(u));
    // Spam often pairs a token text part with the real HTML: score the richer of the two.
    if (body.trim().length === 0 || h.text.length > 2 * body.length + 200) {
      if (options.unscored) other = body.trim();
      body = h.text;
      fromHtml = true;
    } else if (options.unscored) other = h.text;
  }
  if (body.length === 0 && defects.some((d) => d.startsWith('missing MIME boundary'))) {
    // mailparser drops the body of a multipart without its boundary; read it raw instead.
    const end = headerEnd(raw);
    if (end >= 0) body = raw.toString('utf8', end, Math.min(raw.length, end + maxText)).trim();
  }
  const bad = countReplacement(body) + countReplacement(subject);
  if (bad > 0) defects.push(`${bad} byte sequence(s) not valid in the declared charset, shown as U+FFFD`);
  if (body.length > maxText) body = body.slice(0, maxText);

  const fromAddress = firstAddress(parsed.from);
  const replyToAddress = firstAddress(parsed.replyTo);
  const attachments: EmailAttachment[] = parsed.attachments.map((a) => ({
    filename: a.filename ?? '',
    contentType: (a.contentType ?? 'application/octet-stream').toLowerCase(),
    size: a.size,
  }));
  const headers = headerMap(parsed);
  const date = parseDate(headers.get('date')?.[0]);
  const email: EmailFields = {
    headers,
    subject,
    fromAddress,
    fromDomain: domainOf(fromAddress),
    replyToAddress,
    replyToDomain: domainOf(replyToAddress),
    linkUrls,
    attachments,
    size: raw.length,
    html: fromHtml,
    ...(options.unscored ? { unscored: unscoredParts(other.length > maxText ? other.slice(0, maxText) : other, structure) } : {}),
  };
  const input: MessageInput & { email: EmailFields } = {
    id,
    channel: 'email',
    from: fromAddress,
    to: firstAddress(parsed.to),
    ...(date ? { time: date } : {}),
    text: subject.length > 0 ? `${subject}\n${body}` : body,
    email,
  };
  return date ? { input, defects, date } : { input, defects };
}
