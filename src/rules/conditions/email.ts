/**
 * Condition kinds for email: headers, sender and reply-to addresses and domains, subject and
 * body, link hosts and domains (text URLs and HTML hrefs), attachments and size. They look at
 * `message.email`, which the mail room fills from mailparser. A message of channel `email`
 * without those fields (a rule example, or a raw message posted as text) has them derived
 * from its text, read as `Header: value` lines, a blank line, then the body.
 */
import { globMatch } from '../patterns.js';
import { RegexError, compileSafeRegex, execBounded } from '../safe-regex.js';
import { parseUrl } from '../../text/urls.js';
import { htmlToText } from '../../mail/html.js';
import { foldText } from '../../text/fold.js';
import type { EmailFields, Message } from '../../message/types.js';
import type { Field } from '../source.js';
import type { ConditionKind, MatchContext } from './types.js';
import { describeRange, inRange, parseRange } from './ranges.js';

// ---- email fields, from the message or from its text ----------------------------------------

const derived = new WeakMap<Message, EmailFields | null>();

function domainOf(address: string): string {
  const at = address.lastIndexOf('@');
  return at < 0 ? '' : address.slice(at + 1);
}

function addressIn(value: string): string {
  const angle = /<([^<>\s]+@[^<>\s]+)>/.exec(value);
  if (angle) return angle[1]!.toLowerCase();
  const bare = /[^\s<>"',;:]+@[^\s<>"',;:]+/.exec(value);
  return bare ? bare[0].toLowerCase() : '';
}

/**
 * Email fields from a message written as text: header lines, a blank line, the body. No
 * MIME: enough for rule examples and raw messages given as text. Null when the text does not
 * start with a header line.
 */
export function emailFieldsFromText(text: string): EmailFields | null {
  if (!/^[A-Za-z][A-Za-z0-9_.-]{0,99}:/.test(text)) return null;
  const headers = new Map<string, string[]>();
  const lines = text.split(/\r?\n/);
  let i = 0;
  let last: string | null = null;
  for (; i < lines.length; i++) {
    const line = lines[i]!;
    if (line === '') {
      i++;
      break;
    }
    if ((line.startsWith(' ') || line.startsWith('\t')) && last) {
      const list = headers.get(last)!;
      list[list.length - 1] += ' ' + line.trim();
      continue;
    }
    const colon = line.indexOf(':');
    if (colon <= 0) break; // the body starts without a blank line
    last = line.slice(0, colon).trim().toLowerCase();
    const list = headers.get(last) ?? [];
    list.push(line.slice(colon + 1).trim());
    headers.set(last, list);
  }
  const body = lines.slice(i).join('\n');
  const hrefs: string[] = [];
  for (const m of body.matchAll(/\bhref\s*=\s*["']?([^"'\s>]+)/gi)) hrefs.push(m[1]!);
  const attachments = (headers.get('x-attachment') ?? []).map((v) => {
    // `X-Attachment: name.pdf; type=application/pdf; size=1234` in examples.
    const [name, ...params] = v.split(';').map((s) => s.trim());
    const p = new Map(params.map((s) => s.split('=').map((x) => x.trim()) as [string, string]));
    return { filename: name ?? '', contentType: (p.get('type') ?? 'application/octet-stream').toLowerCase(), size: Number(p.get('size') ?? 0) || 0 };
  });
  const from = addressIn(headers.get('from')?.[0] ?? '');
  const replyTo = addressIn(headers.get('reply-to')?.[0] ?? '');
  return {
    headers,
    subject: headers.get('subject')?.[0] ?? '',
    fromAddress: from,
    fromDomain: domainOf(from),
    replyToAddress: replyTo,
    replyToDomain: domainOf(replyTo),
    linkUrls: hrefs,
    attachments,
    size: Buffer.byteLength(text),
    html: /<html|<body|<a\s/i.test(body),
  };
}

function emailOf(c: MatchContext): EmailFields | null {
  const m = c.message;
  if (m.email) return m.email;
  if (m.channel !== 'email') return null;
  let e = derived.get(m);
  if (e === undefined) {
    e = emailFieldsFromText(m.text);
    derived.set(m, e);
  }
  return e;
}

/** The body: the text after the subject line the mail reader puts first. */
function bodyOf(c: MatchContext, e: EmailFields): string {
  const t = c.message.text;
  if (!c.message.email) {
    const blank = t.search(/\r?\n\r?\n/);
    const raw = blank < 0 ? '' : t.slice(blank).trim();
    return e.html ? htmlToText(raw).text : raw;
  }
  if (e.subject && t.startsWith(e.subject)) return t.slice(e.subject.length + 1);
  return t;
}

// ---- shared compilers ------------------------------------------------------------------------

function short(value: string, n = 40): string {
  return value.length > n ? value.slice(0, n - 1) + '…' : value;
}

interface TextMatcher {
  /** `folded` gives the folded form of `value`, computed once per message by the caller. */
  test(value: string, folded: () => string): string | null;
}

function fold(value: string): string {
  return foldText(value.length > 65536 ? value.slice(0, 65536) : value).text;
}

/** Body and folded forms, once per message however many rules look at them. */
interface MessageCache {
  body?: string;
  foldedBody?: string;
  foldedSubject?: string;
}
const perMessage = new WeakMap<Message, MessageCache>();

function cacheOf(c: MatchContext): MessageCache {
  let x = perMessage.get(c.message);
  if (!x) {
    x = {};
    perMessage.set(c.message, x);
  }
  return x;
}

/**
 * What a text condition accepts: a list of phrases (case-insensitive, after folding look-alikes),
 * or `{ pattern, flags }` for a safe regular expression on the text as written.
 */
function textMatcher(field: Field, what: string): TextMatcher {
  if (field.isMap()) {
    const f = field.fields(['pattern', 'flags', 'phrases']);
    const phrasesField = f.get('phrases');
    if (phrasesField) return phraseMatcher(phrasesField, what);
    const at = f.get('pattern') ?? field.fail("expected 'pattern' (a regular expression) or 'phrases' (a list)");
    return regexMatcher(at, f.get('flags')?.string() ?? 'i', what);
  }
  return phraseMatcher(field, what);
}

function regexMatcher(at: Field, flags: string, what: string): TextMatcher {
  const pattern = at.string();
  let re: RegExp;
  try {
    re = compileSafeRegex(pattern, flags);
  } catch (err) {
    if (err instanceof RegexError) at.fail(err.message);
    throw err;
  }
  return {
    test(value) {
      const m = execBounded(re, value);
      return m ? `${what} matches /${short(pattern)}/ ('${short(m[0])}')` : null;
    },
  };
}

function phraseMatcher(field: Field, what: string): TextMatcher {
  const phrases = field.textList().map((f) => {
    const p = foldText(f.text()).text.trim();
    if (p.length === 0) f.fail('empty phrase');
    return p;
  });
  return {
    test(_value, folded) {
      const f = folded();
      for (const p of phrases) if (f.includes(p)) return `${what} contains '${short(p)}'`;
      return null;
    },
  };
}

const DOMAIN = /^(?:[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?\.)*[a-z0-9-]{2,63}$/;

function domainSet(field: Field): Set<string> {
  const set = new Set<string>();
  for (const item of field.textList()) {
    const d = item.text().trim().toLowerCase().replace(/^\*\./, '').replace(/^@/, '');
    if (!DOMAIN.test(d)) item.fail(`invalid domain '${item.text()}': expected a name such as example.com (subdomains are included)`);
    set.add(d);
  }
  return set;
}

/** The listed domain `host` is, or is under. */
function underDomain(host: string, domains: ReadonlySet<string>): string | undefined {
  if (host.length === 0) return undefined;
  if (domains.has(host)) return host;
  for (let i = host.indexOf('.'); i >= 0; i = host.indexOf('.', i + 1)) {
    const parent = host.slice(i + 1);
    if (domains.has(parent)) return parent;
  }
  return undefined;
}

function globList(field: Field, check: RegExp, expected: string): string[] {
  return field.textList().map((f) => {
    const g = f.text().trim().toLowerCase();
    if (g.length === 0 || g.length > 200 || !check.test(g)) f.fail(`invalid pattern '${f.text()}': ${expected}`);
    return g;
  });
}

function firstGlob(globs: readonly string[], value: string): string | undefined {
  for (const g of globs) if (globMatch(g, value)) return g;
  return undefined;
}

// ---- kinds -----------------------------------------------------------------------------------

const header: ConditionKind = {
  key: 'header',
  summary: 'a header: { name, pattern|phrases } matches its value, { name, exists: true } or { name, missing: true }',
  compile(field) {
    const f = field.fields(['name', 'pattern', 'flags', 'phrases', 'exists', 'missing']);
    const nameField = f.get('name') ?? field.fail("expected 'name': the header name, e.g. X-Mailer");
    const name = nameField.text().trim().toLowerCase();
    if (!/^[a-z0-9][a-z0-9_.-]{0,99}$/.test(name)) nameField.fail(`invalid header name '${nameField.text()}'`);
    const exists = f.get('exists')?.boolean();
    const missing = f.get('missing')?.boolean();
    const hasText = f.has('pattern') || f.has('phrases');
    if ([exists !== undefined, missing !== undefined, hasText].filter(Boolean).length !== 1) {
      field.fail("give exactly one of 'pattern', 'phrases', 'exists' or 'missing'");
    }
    if (exists !== undefined || missing !== undefined) {
      const want = exists ?? !missing;
      return {
        test: (c) => {
          const e = emailOf(c);
          if (!e) return null;
          const present = (e.headers.get(name)?.length ?? 0) > 0;
          return present === want ? `header ${name} ${present ? 'present' : 'missing'}` : null;
        },
      };
    }
    let m: TextMatcher;
    if (f.has('phrases')) m = phraseMatcher(f.get('phrases')!, `header ${name}`);
    else m = regexMatcher(f.get('pattern')!, f.get('flags')?.string() ?? 'i', `header ${name}`);
    return {
      test: (c) => {
        const e = emailOf(c);
        for (const v of e?.headers.get(name) ?? []) {
          const d = m.test(v, () => fold(v));
          if (d) return d;
        }
        return null;
      },
    };
  },
};

function addressKind(key: 'from_address' | 'reply_to_address', pick: (e: EmailFields) => string, label: string): ConditionKind {
  return {
    key,
    summary: `${label} address is one of: addresses or globs (*@example.com, noreply@*, *.ru)`,
    compile(field) {
      const globs = globList(field, /^[^\s]+$/, 'expected an address or glob without spaces');
      return {
        test: (c) => {
          const e = emailOf(c);
          const a = e ? pick(e) : '';
          if (!a) return null;
          const g = firstGlob(globs, a);
          return g === undefined ? null : `${label} ${short(a)} matches '${g}'`;
        },
      };
    },
  };
}

function domainKind(key: 'from_domain' | 'reply_to_domain', pick: (e: EmailFields) => string, label: string): ConditionKind {
  return {
    key,
    summary: `${label} domain is one of these domains or under one (a bare TLD such as tk lists every name under it)`,
    compile(field) {
      const set = domainSet(field);
      return {
        test: (c) => {
          const e = emailOf(c);
          const d = e ? pick(e) : '';
          const hit = underDomain(d, set);
          return hit === undefined ? null : `${label} domain ${d} (listed ${hit})`;
        },
      };
    },
  };
}

const replyToDiffers: ConditionKind = {
  key: 'reply_to_differs',
  summary: "true: a Reply-To domain is set and differs from the sender's domain (replies go elsewhere)",
  compile(field) {
    const want = field.boolean();
    return {
      test: (c) => {
        const e = emailOf(c);
        if (!e) return null;
        const differs = e.replyToDomain !== '' && e.fromDomain !== '' && e.replyToDomain !== e.fromDomain;
        if (differs === want) return differs ? `reply-to ${e.replyToDomain} differs from sender ${e.fromDomain}` : 'reply-to matches sender';
        return null;
      },
    };
  },
};

const subject: ConditionKind = {
  key: 'subject',
  summary: 'subject contains one of these phrases (case-insensitive), or { pattern, flags } matches it',
  compile(field) {
    const m = textMatcher(field, 'subject');
    return {
      test: (c) => {
        const e = emailOf(c);
        if (!e) return null;
        return m.test(e.subject, () => {
          const x = cacheOf(c);
          return (x.foldedSubject ??= fold(e.subject));
        });
      },
    };
  },
};

/** The phrase list of a `body` value, or null when it is a `{ pattern }`. */
function bodyPhrases(field: Field): Field[] | null {
  if (!field.isMap()) return field.textList();
  const f = field.fields(['pattern', 'flags', 'phrases']);
  return f.get('phrases')?.textList() ?? null;
}

const body: ConditionKind = {
  key: 'body',
  summary: 'message text contains one of these phrases as whole words (as keywords match), or { pattern, flags } matches the body\'s first 16 KiB',
  compile(field, ctx) {
    const phrases = bodyPhrases(field);
    if (phrases !== null) {
      // Phrases go into the rule set's keyword automaton: one pass over the message's words
      // finds every phrase of every rule (a substring search per phrase over the folded body
      // cost 5-8 % of a mail scan), and the rule is evaluated only when one is there.
      const leaf = ctx.addKeywordLeaf(phrases);
      return {
        keywordLeaf: leaf,
        test: (c) => (emailOf(c) && c.keywordHits(leaf) > 0 ? `text contains '${short(c.firstKeyword(leaf))}'` : null),
      };
    }
    const m = textMatcher(field, 'body');
    return {
      test: (c) => {
        const e = emailOf(c);
        if (!e) return null;
        const x = cacheOf(c);
        const b = (x.body ??= bodyOf(c, e));
        return m.test(b, () => (x.foldedBody ??= fold(b)));
      },
    };
  },
};

/** Hosts of every link: URLs in the text and HTML hrefs. */
function linkHosts(c: MatchContext, e: EmailFields): string[] {
  const hosts: string[] = [];
  for (const u of c.analysis.urls) hosts.push(u.host);
  for (const raw of e.linkUrls) {
    const u = parseUrl(raw.toLowerCase());
    if (u) hosts.push(u.host);
  }
  return hosts;
}

const urlDomains: ConditionKind = {
  key: 'url_domains',
  summary: 'a link (in the text or an HTML href) points to one of these domains or under one',
  compile(field) {
    const set = domainSet(field);
    return {
      test: (c) => {
        const e = emailOf(c);
        if (!e) return null;
        for (const h of linkHosts(c, e)) {
          const hit = underDomain(h, set);
          if (hit !== undefined) return `link to ${h} (listed ${hit})`;
        }
        return null;
      },
    };
  },
};

const urlHosts: ConditionKind = {
  key: 'url_hosts',
  summary: 'a link host matches one of these host names or globs (*.example.com, login-*.*)',
  compile(field) {
    const globs = globList(field, /^[a-z0-9*?.-]+$/, 'expected a host name or glob such as *.example.com');
    return {
      test: (c) => {
        const e = emailOf(c);
        if (!e) return null;
        for (const h of linkHosts(c, e)) {
          const g = firstGlob(globs, h);
          if (g !== undefined) return `link host ${h} matches '${g}'`;
        }
        return null;
      },
    };
  },
};

const linkIp: ConditionKind = {
  key: 'link_ip',
  summary: 'true: a link (in the text or an HTML href) uses a bare IP address as host',
  compile(field) {
    const want = field.boolean();
    return {
      test: (c) => {
        const e = emailOf(c);
        if (!e) return null;
        const ip = linkHosts(c, e).find((h) => /^\d{1,3}(\.\d{1,3}){3}$/.test(h));
        if (want) return ip ? `link to IP address ${ip}` : null;
        return ip ? null : 'no link to an IP address';
      },
    };
  },
};

const htmlOnly: ConditionKind = {
  key: 'html_body',
  summary: 'true: the body was read from an HTML part (no useful plain-text part)',
  compile(field) {
    const want = field.boolean();
    return {
      test: (c) => {
        const e = emailOf(c);
        if (!e) return null;
        return e.html === want ? (want ? 'body from HTML' : 'plain-text body') : null;
      },
    };
  },
};

const attachmentName: ConditionKind = {
  key: 'attachment_name',
  summary: 'an attachment file name matches one of these globs (*.exe, *.scr, invoice*.zip), case-insensitive',
  compile(field) {
    const globs = globList(field, /^[^/\\]+$/, 'expected a file name glob such as *.exe');
    return {
      test: (c) => {
        const e = emailOf(c);
        for (const a of e?.attachments ?? []) {
          const name = a.filename.toLowerCase();
          const g = name ? firstGlob(globs, name) : undefined;
          if (g !== undefined) return `attachment ${short(a.filename)} matches '${g}'`;
        }
        return null;
      },
    };
  },
};

const attachmentType: ConditionKind = {
  key: 'attachment_type',
  summary: 'an attachment content type matches one of these (application/x-msdownload, application/*)',
  compile(field) {
    const globs = globList(field, /^[a-z0-9*?.+-]+\/[a-z0-9*?.+-]+$/, 'expected a MIME type such as application/zip or image/*');
    return {
      test: (c) => {
        const e = emailOf(c);
        for (const a of e?.attachments ?? []) {
          const g = firstGlob(globs, a.contentType);
          if (g !== undefined) return `attachment of type ${a.contentType}`;
        }
        return null;
      },
    };
  },
};

const HIGHEST_SIZE = 1024 * 1024 * 1024;

const messageSize: ConditionKind = {
  key: 'message_size',
  summary: 'raw message size in bytes: N (at least N) or { min, max }',
  compile(field) {
    const r = parseRange(field, 0, HIGHEST_SIZE);
    return {
      test: (c) => {
        const e = emailOf(c);
        if (!e) return null;
        return inRange(r, e.size) ? `message size ${e.size} bytes (${describeRange(r, HIGHEST_SIZE)})` : null;
      },
    };
  },
};

const attachmentCount: ConditionKind = {
  key: 'attachments',
  summary: 'number of attachments: N (at least N) or { min, max }',
  compile(field) {
    const r = parseRange(field, 0, 10_000);
    return {
      test: (c) => {
        const e = emailOf(c);
        if (!e) return null;
        return inRange(r, e.attachments.length) ? `${e.attachments.length} attachment(s)` : null;
      },
    };
  },
};

// Every kind here looks at headers or MIME parts an SMS does not have: marked for email so the
// compiler never evaluates email rules for SMS.
export const EMAIL_CONDITIONS: readonly ConditionKind[] = [
  header,
  addressKind('from_address', (e) => e.fromAddress, 'sender'),
  domainKind('from_domain', (e) => e.fromDomain, 'sender'),
  addressKind('reply_to_address', (e) => e.replyToAddress, 'reply-to'),
  domainKind('reply_to_domain', (e) => e.replyToDomain, 'reply-to'),
  replyToDiffers,
  subject,
  body,
  urlDomains,
  urlHosts,
  linkIp,
  htmlOnly,
  attachmentName,
  attachmentType,
  attachmentCount,
  messageSize,
].map((kind) => ({ ...kind, channel: 'email' as const }));

