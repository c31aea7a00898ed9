/**
 * Header tokens for email (issue 3: "for email also header tokens"). Each kind is a group
 * that can be switched off, so src/mail/experiment.ts can measure what each group is worth
 * by cross-validation on the training split. Only email produces these: SMS features are
 * untouched.
 *
 * The ideas are the usual ones of SpamBayes and bogofilter (sender and relay names, message-id
 * shape, mailer, charset, header names), written for the fields the mail parser gives us.
 * Headers the receiving side adds at delivery or in the mail store (Return-Path, Delivered-To,
 * X-Keywords, X-Status, spam-filter verdicts, …) are left out: they say how a message was
 * collected, not what was sent, and on the SpamAssassin corpus they differ by collection.
 */
import type { EmailFields } from '../message/types.js';
import type { ModelParameters } from './model.js';
import { phraseWords } from '../text/analysis.js';

export interface EmailFeatureOptions {
  /** Host domains and IP prefixes of the Received relays (sender side only). */
  readonly relays: boolean;
  /** Message-ID shape and domain. */
  readonly messageId: boolean;
  /** Which headers are present (names only), e.g. list headers, X-Priority. */
  readonly headerNames: boolean;
  /** Charsets and transfer encodings declared. */
  readonly encoding: boolean;
  /** Domains of HTML link targets. */
  readonly links: boolean;
  /** Recipient shape: how many, undisclosed, same domain as the sender. */
  readonly recipients: boolean;
  /** Date header: time-zone shape or missing. */
  readonly date: boolean;
  /**
   * A few header facts as one token each: a reply (In-Reply-To/References), a mailing list
   * (any List-* header), the X-Priority value, an Organization; and the sender's shape (display
   * name or not, digits in the local part). Unlike all header names, these are not a dozen
   * correlated tokens that chi-square would count many times over.
   */
  readonly headerFacts: boolean;
  /**
   * The sender as SpamBayes takes it (its from:addr: and from:name: tokens): the address' local
   * part, its registered domain (fromdom: is the whole host name), the display name's words.
   */
  readonly sender: boolean;
  /**
   * Pieces of the paths of HTML links, as SpamBayes' crack_urls splits them: "cgi-bin", "remove",
   * "unsubscribe", "exe", plus the scheme (http, https, none).
   */
  readonly urlParts: boolean;
  /** The same for URLs written in the text (measured, not adopted: fewer spam caught). */
  readonly urlPartsText: boolean;
  /**
   * The whole X-Mailer / User-Agent value, version included, beside its first word: "microsoft
   * outlook express 6.00.2600.0000" is not "… 5.50.4133.2400" (SpamBayes keeps it whole).
   */
  readonly mailerFull: boolean;
  /**
   * Subject words with their case kept plus runs of punctuation, as SpamBayes reads subjects
   * (measured, not adopted: no gain over lower-cased words).
   */
  readonly subjectCase: boolean;
  /**
   * Words of the part the body did not come from (`EmailFields.unscored.otherText`: the HTML
   * of a multipart/alternative when the text part is scored, or the reverse), as SpamBayes
   * reads both parts: 'words' as body words (a word in both parts counts once), 'prefixed' as
   * tokens of their own, 'fromText' / 'fromHtml' only when the body came from that part.
   * Measured, not adopted: no variant moved ham held (docs/mail.md).
   */
  readonly otherPart: 'off' | 'words' | 'prefixed' | 'fromText' | 'fromHtml';
  /**
   * Tokens of the HTML's make-up (`EmailFields.unscored.htmlStructure`): tag names ('tags'),
   * plus tag.attribute names ('attrs'), plus facts ('all': comments, hidden or white text, big
   * fonts, image count, text beside images); the facts alone ('facts'); one token for which of
   * a few telling tags are present ('shape'), with the facts ('facts+shape'). Measured, not
   * adopted: tags and attributes held more ham, the others moved no ham (docs/mail.md).
   */
  readonly htmlStructure: 'off' | 'tags' | 'attrs' | 'all' | 'facts' | 'shape' | 'facts+shape';
  /** Body words shorter than this are left out (single letters of mangled text are noise in mail). */
  readonly minWordLength: number;
  /**
   * Body tokens: the shared analysis' words (`words`), whitespace-split lower-cased tokens with
   * their punctuation as SpamBayes takes them (`raw`: "$100", "free!!", "click.here"), or both.
   */
  readonly body: 'words' | 'raw' | 'both';
  /**
   * The sender-history side token (sender-history.ts), keyed as named: learned with the other
   * features, always the last of them, and never read by the combiner ('off': none).
   */
  readonly senderHistory: SenderHistoryKey | 'off';
}

/**
 * What identifies a sender for its history: its whole address (adopted); the address with the
 * registered domain of the relay it came from, or that relay's /16 (as TxRep keys its history,
 * since a From address is easily forged); or the sender's registered domain.
 */
export type SenderHistoryKey = 'address' | 'address+relay' | 'address+ip16' | 'domain';

/** Chosen by 5-fold cross-validation on the 70 % training split (docs/mail.md). */
export const DEFAULT_EMAIL_FEATURES: EmailFeatureOptions = {
  relays: true,
  messageId: true,
  headerNames: false,
  encoding: true,
  links: true,
  recipients: true,
  date: true,
  headerFacts: false,
  sender: true,
  urlParts: true,
  urlPartsText: false,
  mailerFull: true,
  subjectCase: false,
  otherPart: 'off',
  htmlStructure: 'off',
  minWordLength: 3,
  body: 'words',
  senderHistory: 'address',
};

/**
 * Model parameters for email, over the model's own (which were chosen on SMS). A weaker prior
 * (Robinson's s 0.3 instead of 2; SpamBayes uses 0.45) lets the many tokens of a long message
 * seen only a few times count: 5-fold CV on the 70 % split, classifier alone at 0.3 % ham held,
 * spam caught 95.7 % with s = 2, 97.0 % with 0.45, 97.6 % with 0.3 (src/mail/experiment.ts).
 * At most 100 clues instead of 150 (of the grid 50, 100, 150, 300): the strongest hundred of a
 * long newsletter say as much, and the next fifty common words (click, receive, please, our)
 * pile up evidence against commercial ham. Same CV, averaged over 5 fold assignments, email
 * bands unchanged: ham held 7.2 → 5.4, spam caught 98.21 → 97.97 %; with the bands searched
 * inside each fold, more spam and less ham at ham budgets of 0.1–0.25 % (docs/mail.md).
 */
export const EMAIL_MODEL_PARAMETERS: Partial<ModelParameters> = { strength: 0.3, maxClues: 100 };

const MAX_WORD = 40;
/** Received headers beyond this many (oldest) are ignored: bounded cost on hostile input. */
const MAX_RECEIVED = 12;
const MAX_HEADER_CHARS = 2048;

/** Added by the receiving side at delivery or in the mail store, not by the sender. */
const RECEIVER_HEADERS = new Set([
  'return-path', 'delivered-to', 'delivery-date', 'x-keywords', 'status', 'x-status', 'x-uid',
  'x-original-to', 'envelope-to', 'x-envelope-to', 'x-envelope-from', 'lines', 'content-length',
  'received', 'x-imap', 'x-mozilla-status', 'x-mozilla-status2', 'x-evolution',
]);
const RECEIVER_PREFIXES = ['x-spam', 'x-virus', 'x-razor', 'x-pyzor', 'x-dcc', 'x-bogosity', 'x-spambayes'];

const HOST = /\b((?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,24})\b/g;
const IPV4 = /\b(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.\d{1,3}\b/g;
/** Second-level names under which registrations sit one level down (co.uk, com.au, …). */
const SHORT_SLD = /^(?:co|com|net|org|ac|gov|edu|ne|or)$/;

/**
 * The registered part of a host name: example.com, example.co.uk. The last two labels, or
 * three under a short second-level name of a two-letter country; found by searching for dots
 * backwards, as splitting every host into labels showed in the profile.
 */
export function registeredDomain(host: string): string {
  const last = host.lastIndexOf('.');
  const second = last > 0 ? host.lastIndexOf('.', last - 1) : -1;
  if (second < 0) return host; // one or two labels
  if (host.length - last - 1 === 2 && SHORT_SLD.test(host.slice(second + 1, last))) {
    const third = second > 0 ? host.lastIndexOf('.', second - 1) : -1;
    return third < 0 ? host : host.slice(third + 1);
  }
  return host.slice(second + 1);
}

function first(email: EmailFields, name: string): string | undefined {
  const v = email.headers.get(name)?.[0];
  return v === undefined ? undefined : v.length > MAX_HEADER_CHARS ? v.slice(0, MAX_HEADER_CHARS) : v;
}

/** Letters to a, digits to 9, runs squeezed: "3D64E94E.8060301" → "9A9A9A.9". */
function shape(s: string): string {
  return s
    .slice(0, 64)
    .replace(/[a-z]+/g, 'a')
    .replace(/[A-Z]+/g, 'A')
    .replace(/[0-9]+/g, '9')
    .slice(0, 24);
}

const RCVD_COUNT = ['rcvd:n:0', 'rcvd:n:1', 'rcvd:n:2', 'rcvd:n:3', 'rcvd:n:4', 'rcvd:n:5', 'rcvd:n:6', 'rcvd:n:7', 'rcvd:n:8'];
const NON_ASCII = /[^\x00-\x7f]/;

/** The "from" part of a Received value, lower-cased: only it says where the message came from ("by" is our own side or the next hop). */
function receivedFrom(raw: string): string {
  const value = raw.length > MAX_HEADER_CHARS ? raw.slice(0, MAX_HEADER_CHARS) : raw;
  // In ASCII, lower-casing keeps positions, so "by" can be found first and only the part before
  // it lower-cased (most of a Received value is the "by" and "for" parts and the date).
  if (!NON_ASCII.test(value)) {
    const by = value.search(/\bby\b/i);
    return (by > 0 ? value.slice(0, by) : value).toLowerCase();
  }
  const lower = value.toLowerCase();
  const by = lower.search(/\bby\b/);
  return by > 0 ? lower.slice(0, by) : lower;
}

function relayTokens(email: EmailFields, add: (token: string) => void): void {
  const received = email.headers.get('received') ?? [];
  add(RCVD_COUNT[Math.min(received.length, 8)]!);
  for (let i = 0; i < received.length && i < MAX_RECEIVED; i++) {
    const from = receivedFrom(received[i]!);
    for (const m of from.matchAll(HOST)) {
      const host = m[1]!;
      if (host === 'localhost' || host.endsWith('.localdomain')) continue;
      add('rcvd:' + registeredDomain(host));
    }
    for (const m of from.matchAll(IPV4)) {
      if (m[1] === '127') continue;
      add(`rcvd:ip:${m[1]}.${m[2]}.${m[3]}`);
      add(`rcvd:ip:${m[1]}.${m[2]}`);
    }
    if (/\bunknown\b/.test(from)) add('rcvd:unknown');
    if (/\bhelo\b/.test(from)) add('rcvd:helo');
  }
}

function messageIdTokens(email: EmailFields, add: (token: string) => void): void {
  const id = first(email, 'message-id');
  if (id === undefined) {
    add('mid:none');
    return;
  }
  const m = /<?([^<>@\s]*)@([^<>\s]*)>?/.exec(id.trim());
  if (!m) {
    add('mid:bad');
    return;
  }
  add('mid:shape:' + shape(m[1]!));
  const domain = m[2]!.toLowerCase().replace(/[^a-z0-9.-]/g, '');
  if (domain.indexOf('.') < 0) add('mid:dom:bare');
  else {
    const reg = registeredDomain(domain);
    add('mid:dom:' + reg);
    if (email.fromDomain) add(reg === registeredDomain(email.fromDomain) ? 'mid:dom=from' : 'mid:dom!=from');
  }
}

function headerNameTokens(email: EmailFields, add: (token: string) => void): void {
  for (const name of email.headers.keys()) {
    if (RECEIVER_HEADERS.has(name) || RECEIVER_PREFIXES.some((p) => name.startsWith(p))) continue;
    add('hdr:' + name.slice(0, MAX_WORD));
  }
}

function encodingTokens(email: EmailFields, add: (token: string) => void): void {
  const type = first(email, 'content-type');
  const charset = type && /charset\s*=\s*"?([^";\s]+)/i.exec(type);
  add('charset:' + (charset ? charset[1]!.toLowerCase().slice(0, MAX_WORD) : 'none'));
  const cte = first(email, 'content-transfer-encoding');
  if (cte) add('cte:' + cte.trim().toLowerCase().slice(0, MAX_WORD));
}

function linkTokens(email: EmailFields, add: (token: string) => void): void {
  for (const u of email.linkUrls.slice(0, 50)) {
    const host = /^(?:[a-z]+:\/\/)?([^/:?#\s]+)/i.exec(u)?.[1]?.toLowerCase();
    if (host) add('href:' + registeredDomain(host));
  }
  if (email.linkUrls.length > 0) add(`hrefs:${Math.min(email.linkUrls.length, 5)}`);
}

function recipientTokens(email: EmailFields, add: (token: string) => void): void {
  const to = first(email, 'to');
  if (to === undefined) {
    add('to:none');
    return;
  }
  const count = (to.match(/@/g) ?? []).length;
  add(`to:n:${Math.min(count, 4)}`);
  if (/undisclosed|recipient list/i.test(to)) add('to:undisclosed');
  if (email.headers.has('cc')) add('cc:yes');
  const domain = /@([a-z0-9.-]+)/i.exec(to)?.[1]?.toLowerCase();
  if (domain && email.fromDomain) add(registeredDomain(domain) === registeredDomain(email.fromDomain) ? 'to:dom=from' : 'to:dom!=from');
  if (email.fromAddress && to.toLowerCase().includes(email.fromAddress)) add('to:=from');
}

function dateTokens(email: EmailFields, add: (token: string) => void): void {
  const date = first(email, 'date');
  if (date === undefined) {
    add('date:none');
    return;
  }
  const zone = /([+-]\d{4}|\b[A-Z]{2,4})\s*(?:\([^)]*\))?\s*$/.exec(date.trim());
  add('date:zone:' + (zone ? zone[1]! : 'none'));
  // Skew against the newest Received stamp (our side's clock), as SpamAssassin's DATE_IN_PAST/FUTURE.
  const sent = Date.parse(date);
  const received = email.headers.get('received')?.[0];
  const semi = received ? received.lastIndexOf(';') : -1;
  if (Number.isNaN(sent) || semi < 0) return;
  const arrived = Date.parse(received!.slice(semi + 1, semi + 80).replace(/\([^)]*\)/g, '').trim());
  if (Number.isNaN(arrived)) return;
  const hours = (sent - arrived) / 3_600_000;
  add(hours > 12 ? 'date:future' : hours < -24 * 365 ? 'date:past:year' : hours < -96 ? 'date:past:days' : 'date:on-time');
}

function headerFactTokens(email: EmailFields, add: (token: string) => void): void {
  const h = email.headers;
  if (h.has('in-reply-to') || h.has('references')) add('fact:reply');
  let list = false;
  for (const name of h.keys()) if (name.startsWith('list-')) list = true;
  if (list) add('fact:list');
  const priority = first(email, 'x-priority');
  if (priority) add('fact:prio:' + priority.trim().slice(0, 1));
  if (h.has('organization')) add('fact:org');
  const from = first(email, 'from');
  if (from !== undefined) add(/^\s*"?[^"<\s][^<]*<[^>]*>/.test(from) ? 'fact:fromname' : 'fact:fromaddr-only');
  const local = email.fromAddress.split('@')[0] ?? '';
  if (/\d{3,}/.test(local)) add('fact:fromdigits');
}

function senderTokens(email: EmailFields, add: (token: string) => void): void {
  const at = email.fromAddress.lastIndexOf('@');
  if (at > 0) add('from:local:' + email.fromAddress.slice(0, Math.min(at, MAX_WORD)));
  if (email.fromDomain) add('from:reg:' + registeredDomain(email.fromDomain));
  const from = first(email, 'from');
  const lt = from === undefined ? -1 : from.indexOf('<');
  if (lt <= 0) {
    add('from:name:none');
    return;
  }
  for (const w of from!.slice(0, Math.min(lt, 120)).toLowerCase().split(/[^\p{L}\p{N}]+/u)) if (w) add('from:name:' + w.slice(0, MAX_WORD));
}

const URL_PIECES = /[/?=&.,;:_+%#-]+/;
const MAX_URLS = 50;
const MAX_URL_CHARS = 256;
const SCHEMES = ['proto:http', 'proto:https', 'proto:none', 'proto:other'];

/** The scheme and the path and query pieces (2 to 20 characters) of a URL; no regex for the host. */
function urlPartTokens(url: string, add: (token: string) => void): void {
  const u = (url.length > MAX_URL_CHARS ? url.slice(0, MAX_URL_CHARS) : url).toLowerCase();
  const colon = u.indexOf('://');
  add(colon < 0 ? SCHEMES[2]! : u.startsWith('http') ? (colon === 4 ? SCHEMES[0]! : colon === 5 ? SCHEMES[1]! : SCHEMES[3]!) : SCHEMES[3]!);
  // The host ends at the first '/', '?' or '#' after the scheme.
  let rest = colon < 0 ? 0 : colon + 3;
  while (rest < u.length) {
    const c = u.charCodeAt(rest);
    if (c === 0x2f || c === 0x3f || c === 0x23) break;
    rest++;
  }
  if (rest >= u.length - 1) return;
  for (const piece of u.slice(rest).split(URL_PIECES)) if (piece.length >= 2 && piece.length <= 20) add('urlp:' + piece);
}

const SHAPE_TAGS = ['ht:table', 'ht:img', 'ht:font', 'ht:style', 'ht:form', 'ht:script', 'hf:comment'];

/** The HTML make-up tokens a mode keeps ('ht:' tag, 'ha:' attribute, 'hf:' fact), or the one shape token. */
function htmlStructureTokens(structure: readonly string[], mode: EmailFeatureOptions['htmlStructure'], add: (token: string) => void): void {
  if (mode === 'shape' || mode === 'facts+shape') {
    // One token for which of a few telling tags are present: no pile of correlated tokens.
    let bits = '';
    for (const tag of SHAPE_TAGS) bits += structure.includes(tag) ? '1' : '0';
    add('hshape:' + bits);
  }
  for (const t of structure) {
    const kind = t.charAt(1);
    if (kind === 'f' ? mode === 'all' || mode === 'facts' || mode === 'facts+shape' : kind === 't' ? mode === 'tags' || mode === 'attrs' || mode === 'all' : mode === 'attrs' || mode === 'all') add(t);
  }
}

/** The other part's words, folded and split as the body's are (phraseWords). */
function otherPartTokens(text: string, options: EmailFeatureOptions, add: (token: string) => void): void {
  const prefix = options.otherPart === 'prefixed' ? 'alt:' : '';
  for (const w of phraseWords(text)) if (w.length >= options.minWordLength) add(w.length > MAX_WORD ? 'long:' + Math.floor(w.length / 10) : prefix + w);
}

const RAW_MIN = 3;
const RAW_MAX = 12;

/**
 * Whitespace-split tokens of the text, lower-cased, punctuation kept; 3 to 12 characters, longer
 * ones as a "skip" shape (first character and length in tens), as SpamBayes does.
 */
export function collectRawTokens(text: string, add: (token: string) => void): void {
  const lower = text.toLowerCase();
  const n = lower.length;
  let i = 0;
  while (i < n) {
    while (i < n && lower.charCodeAt(i) <= 0x20) i++;
    const start = i;
    while (i < n && lower.charCodeAt(i) > 0x20) i++;
    const len = i - start;
    if (len < RAW_MIN) continue;
    if (len <= RAW_MAX) add('w:' + lower.slice(start, i));
    else add(`skip:${lower[start]}${Math.floor(len / 10) * 10}`);
  }
}

/** Loopback, private and link-local addresses: a relay inside someone's network, not where mail came from. */
function privateIp(a: number, b: number): boolean {
  return a === 10 || a === 127 || a === 0 || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168) || (a === 169 && b === 254);
}

/**
 * The originating relay: in the oldest Received header whose "from" part names a public IPv4
 * address, that address' /16 and the registered domain of the host named beside it.
 */
export function originatingRelay(email: EmailFields): { ip16: string; domain: string } | undefined {
  const received = email.headers.get('received') ?? [];
  for (let i = Math.min(received.length, MAX_RECEIVED) - 1; i >= 0; i--) {
    const from = receivedFrom(received[i]!);
    for (const m of from.matchAll(IPV4)) {
      const a = Number(m[1]);
      const b = Number(m[2]);
      if (a > 255 || b > 255 || privateIp(a, b)) continue;
      const host = from.replace(IPV4, ' ').match(HOST)?.[0];
      return { ip16: `${a}.${b}`, domain: host ? registeredDomain(host) : 'none' };
    }
  }
  return undefined;
}

const MAX_SENDER = 120;

/** The sender-history token of a message under `key`, or undefined when it has no sender address. */
export function senderHistoryToken(email: EmailFields, key: SenderHistoryKey): string | undefined {
  const address = email.fromAddress;
  if (address.indexOf('@') <= 0) return undefined;
  if (key === 'domain') return 'hist:dom:' + registeredDomain(email.fromDomain).slice(0, MAX_SENDER);
  const addr = address.slice(0, MAX_SENDER);
  if (key === 'address') return 'hist:addr:' + addr;
  const relay = originatingRelay(email);
  return key === 'address+relay' ? `hist:addr+relay:${addr}|${relay?.domain ?? 'none'}` : `hist:addr+ip16:${addr}|${relay?.ip16 ?? 'none'}`;
}

/**
 * The email tokens of a message: the fields the parser gives plus the groups switched on.
 * `textUrls`: the URLs the text analysis found (read only for `urlPartsText`).
 */
export function collectEmailFeatures(email: EmailFields, options: EmailFeatureOptions, add: (token: string) => void, textUrls: readonly { readonly url: string }[] = []): void {
  if (email.fromDomain) add('fromdom:' + email.fromDomain);
  if (email.replyToDomain && email.replyToDomain !== email.fromDomain) add('replyto:other');
  if (options.subjectCase) {
    for (const w of email.subject.split(/[^\p{L}\p{N}$£€!]+/u)) if (w) add('subj:' + w.slice(0, MAX_WORD));
    for (const w of email.subject.match(/[^\p{L}\p{N}\s]{2,}/gu) ?? []) add('subj:' + w.slice(0, MAX_WORD));
  } else for (const w of email.subject.toLowerCase().split(/[^\p{L}\p{N}$£€!]+/u)) if (w) add('subj:' + w.slice(0, MAX_WORD));
  const mailer = first(email, 'x-mailer') ?? first(email, 'user-agent');
  if (mailer) {
    const lower = mailer.toLowerCase();
    add('mailer:' + lower.split(/[\s/(]/)[0]);
    if (options.mailerFull) add('mailer:full:' + lower.trim().replace(/\s+/g, ' ').slice(0, 60));
  }
  const type = first(email, 'content-type');
  if (type) add('ctype:' + type.toLowerCase().split(';')[0]!.trim());
  if (email.html) add('body:html');
  for (const a of email.attachments) add('attach:' + a.contentType.toLowerCase());
  if (options.relays) relayTokens(email, add);
  if (options.messageId) messageIdTokens(email, add);
  if (options.headerNames) headerNameTokens(email, add);
  if (options.encoding) encodingTokens(email, add);
  if (options.links) linkTokens(email, add);
  if (options.recipients) recipientTokens(email, add);
  if (options.date) dateTokens(email, add);
  if (options.headerFacts) headerFactTokens(email, add);
  if (options.sender) senderTokens(email, add);
  if (options.urlParts) for (let i = 0; i < email.linkUrls.length && i < MAX_URLS; i++) urlPartTokens(email.linkUrls[i]!, add);
  const unscored = email.unscored;
  if (unscored?.htmlStructure && options.htmlStructure !== 'off') htmlStructureTokens(unscored.htmlStructure, options.htmlStructure, add);
  if (unscored?.otherText && (options.otherPart === 'words' || options.otherPart === 'prefixed' || options.otherPart === (email.html ? 'fromHtml' : 'fromText'))) {
    otherPartTokens(unscored.otherText, options, add);
  }
  if (options.urlPartsText) for (let i = 0; i < textUrls.length && i < MAX_URLS; i++) urlPartTokens(textUrls[i]!.url, add);
  // Last of all (email features are collected after the body's), so the classifier can leave it
  // out of what the combiner reads by scoring one feature fewer (sender-history.ts).
  if (options.senderHistory !== 'off') {
    const history = senderHistoryToken(email, options.senderHistory);
    if (history !== undefined) add(history);
  }
}
