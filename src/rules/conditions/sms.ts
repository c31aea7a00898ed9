/**
 * Condition kinds for any message: who sent it, what it says, what it links to, when it came
 * and what it looks like. Email-only kinds live in email.ts; volume and campaign kinds in volume.ts.
 */
import { AddressMatcher, PatternError, compilePattern, type CompiledPattern } from '../patterns.js';
import { RegexError, compileSafeRegex, execBounded, mayMatch, mayMatchLiterals, requiredChars } from '../safe-regex.js';
import { SCRIPTS, type Script } from '../../text/analysis.js';
import { ALL_DAYS, TimeError, inWindow, makeWindow, parseDays } from '../time.js';
import type { Field } from '../source.js';
import type { AddressKind } from '../../message/types.js';
import { allOf, keywordDetail, type CompileContext, type Condition, type ConditionKind, type MatchContext } from './types.js';
import { describeRange, inRange, parseRange } from './ranges.js';

function addressMatcher(field: Field, ctx: CompileContext): AddressMatcher {
  const compiled: CompiledPattern[] = [];
  for (const item of field.textList()) {
    try {
      compiled.push(...compilePattern(item.text(), ctx.normaliser));
    } catch (err) {
      if (err instanceof PatternError) item.fail(err.message);
      throw err;
    }
  }
  return new AddressMatcher(compiled);
}

function short(value: string): string {
  return value.length > 8 ? value.slice(0, 7) + '…' : value;
}

const sender: ConditionKind = {
  key: 'sender',
  summary: 'sender is one of: numbers in any format, prefixes (0900*), globs (*BANK*), sender IDs',
  compile(field, ctx) {
    const m = addressMatcher(field, ctx);
    return {
      test: (c) => {
        const hit = m.match(c.message.from);
        return hit === undefined ? null : `sender ${short(c.message.from.value)} matches '${hit}'`;
      },
    };
  },
};

const recipient: ConditionKind = {
  key: 'recipient',
  summary: 'recipient is one of the given numbers, prefixes or globs',
  compile(field, ctx) {
    const m = addressMatcher(field, ctx);
    return {
      test: (c) => {
        const hit = m.match(c.message.to);
        return hit === undefined ? null : `recipient ${short(c.message.to.value)} matches '${hit}'`;
      },
    };
  },
};

const ADDRESS_KINDS: readonly AddressKind[] = ['e164', 'shortcode', 'alphanumeric', 'email', 'unknown'];

const senderKind: ConditionKind = {
  key: 'sender_kind',
  summary: `sender address kind is one of: ${ADDRESS_KINDS.join(', ')}`,
  compile(field) {
    const kinds = new Set(field.textList().map((f) => f.oneOf(ADDRESS_KINDS)));
    return { test: (c) => (kinds.has(c.message.from.kind) ? `sender is ${c.message.from.kind}` : null) };
  },
};

const channel: ConditionKind = {
  key: 'channel',
  summary: 'message channel: sms or email',
  compile(field) {
    const want = field.oneOf(['sms', 'email'] as const);
    return { channel: want, test: (c) => (c.message.channel === want ? `channel ${want}` : null) };
  },
};

const keywords: ConditionKind = {
  key: 'keywords',
  summary: 'any of these words or phrases, after normalisation (case, look-alikes, leetspeak, s.p.a.c.i.n.g); or { any: [...], min: N }',
  compile(field, ctx) {
    let phrases: Field[];
    let min = 1;
    if (field.isMap()) {
      const f = field.fields(['any', 'min']);
      const any = f.get('any') ?? field.fail("expected 'any' with a list of phrases");
      phrases = any.textList();
      min = f.get('min')?.number(1, phrases.length) ?? 1;
    } else {
      phrases = field.textList();
    }
    const leaf = ctx.addKeywordLeaf(phrases);
    return {
      keywordLeaf: leaf,
      ...(min === 1 ? { keywordDetailOnly: true } : {}),
      test: (c) => {
        const n = c.keywordHits(leaf);
        return n < min ? null : keywordDetail(c.firstKeywordDetail(leaf), n);
      },
    };
  },
};

const regex: ConditionKind = {
  key: 'regex',
  summary: 'a regular expression over the folded text (lower case, look-alikes mapped); or { pattern, flags, on: folded|original }; operator rules only',
  compile(field) {
    let pattern: string;
    let flags = '';
    let on: 'folded' | 'original' = 'folded';
    let at = field;
    if (field.isMap()) {
      const f = field.fields(['pattern', 'flags', 'on']);
      at = f.get('pattern') ?? field.fail("expected 'pattern'");
      pattern = at.string();
      flags = f.get('flags')?.string() ?? '';
      on = f.get('on')?.oneOf(['folded', 'original'] as const) ?? 'folded';
    } else {
      pattern = field.string();
    }
    let re: RegExp;
    try {
      re = compileSafeRegex(pattern, flags);
    } catch (err) {
      if (err instanceof RegexError) at.fail(err.message);
      throw err;
    }
    const required = requiredChars(pattern, flags);
    // A digit the pattern needs in every branch is an ASCII one, in the original as in the folded text.
    const digitInEveryBranch = required !== undefined && required.branches.every((b) => b.some((p) => p.digits));
    return {
      ...(digitInEveryBranch ? { needsDigit: true } : {}),
      test: (c) => {
        const a = c.analysis;
        if (required !== undefined) {
          // A required character is absent: no need to run the regex, nor to lower-case the text for it.
          const absent =
            on === 'folded' && required.caseless && a.foldedIsLowerCase
              ? !mayMatch(required, a.original, a.mayHoldDigit('folded'), true)
              : !mayMatch(required, on === 'folded' ? a.folded : a.original, a.mayHoldDigit(on));
          if (absent) return null;
        }
        const text = on === 'folded' ? a.folded : a.original;
        if (required !== undefined && required.literals.length > 0 && !mayMatchLiterals(required, text)) return null;
        const m = execBounded(re, text);
        if (m === null) return null;
        const excerpt = m[0].length > 40 ? m[0].slice(0, 39) + '…' : m[0];
        return `text matches /${pattern.length > 40 ? pattern.slice(0, 39) + '…' : pattern}/ ('${excerpt}')`;
      },
    };
  },
};

function hostInDomains(host: string, domains: ReadonlySet<string>): string | undefined {
  if (domains.has(host)) return host;
  for (let i = host.indexOf('.'); i >= 0; i = host.indexOf('.', i + 1)) {
    const parent = host.slice(i + 1);
    if (domains.has(parent)) return parent;
  }
  return undefined;
}

/** A domain, or a bare top-level domain (`tk`) to list every name under it. */
const DOMAIN = /^(?:\*\.)?(?:[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?\.)*[a-z0-9-]{2,63}$/;

const domains: ConditionKind = {
  key: 'domains',
  summary: 'a link in the text points to one of these domains or their subdomains (a bare TLD such as tk lists every name under it)',
  compile(field) {
    const set = new Set<string>();
    for (const item of field.textList()) {
      const d = item.text().trim().toLowerCase().replace(/^\*\./, '');
      if (!DOMAIN.test(d)) item.fail(`invalid domain '${item.text()}': expected a name such as example.com`);
      set.add(d);
    }
    return {
      needsUrls: true,
      test: (c) => {
        for (const u of c.analysis.urls) {
          const d = hostInDomains(u.host, set);
          if (d !== undefined) return `link to ${u.host} (listed domain ${d})`;
        }
        return null;
      },
    };
  },
};

/** What of a text a condition cannot hold without (when it asks for the thing, not for its absence). */
type Need = 'urls' | 'digit' | 'obfuscation';

function needs(need: Need | undefined, asked: boolean): Pick<Condition, 'needsUrls' | 'needsDigit' | 'needsObfuscation'> {
  if (!asked || need === undefined) return {};
  return need === 'urls' ? { needsUrls: true } : need === 'digit' ? { needsDigit: true } : { needsObfuscation: true };
}

function flag(key: string, summary: string, test: (c: MatchContext) => string | null, need?: Need): ConditionKind {
  return {
    key,
    summary,
    compile(field) {
      const want = field.boolean();
      return {
        ...needs(need, want),
        test: (c) => {
          const detail = test(c);
          if (want) return detail;
          return detail === null ? `no ${key.replace(/_/g, ' ')}` : null;
        },
      };
    },
  };
}

const shortener = flag('shortener', 'true: the text links through a URL shortener (bit.ly, tinyurl.com, …)', (c) => {
  const u = c.analysis.urls.find((x) => x.shortener);
  return u ? `link shortener ${u.host}` : null;
}, 'urls');

const ipUrl = flag('ip_url', 'true: a link uses a bare IP address as host', (c) => {
  const u = c.analysis.urls.find((x) => x.ipHost);
  return u ? `link to IP address ${u.host}` : null;
}, 'urls');

const money = flag('money', 'true: the text mentions an amount of money (£500, 1000 dollars)', (c) => {
  const m = c.analysis.moneyAmounts[0];
  return m !== undefined ? `money amount '${m}'` : null;
}, 'digit'); // both forms of an amount hold a digit

const numberInText: ConditionKind = {
  key: 'number_in_text',
  summary: 'a phone number written in the text matches one of these numbers, prefixes or globs (e.g. premium rate 09*)',
  compile(field, ctx) {
    const m = addressMatcher(field, ctx);
    return {
      needsDigit: true, // a phone number is five digits or more
      test: (c) => {
        for (const raw of c.analysis.phoneNumbers) {
          const value = c.normaliseNumber(raw);
          const kind = value.startsWith('+') ? 'e164' : 'shortcode';
          const hit = m.match({ raw, value, kind });
          if (hit !== undefined) return `number ${raw} in text matches '${hit}'`;
        }
        return null;
      },
    };
  },
};

/** `need`: what the measured thing counts, so that a range from 1 up cannot hold without it. */
function numeric(key: string, summary: string, lowest: number, highest: number, measure: (c: MatchContext) => number, label: string, need?: Need): ConditionKind {
  return {
    key,
    summary,
    compile(field) {
      const r = parseRange(field, lowest, highest);
      return {
        ...needs(need, r.min >= 1),
        test: (c) => {
          const v = measure(c);
          return inRange(r, v) ? `${label} ${Number.isInteger(v) ? v : v.toFixed(2)} (${describeRange(r, highest)})` : null;
        },
      };
    },
  };
}

const length = numeric('length', 'text length in characters: N (at least) or { min, max }', 0, Number.MAX_SAFE_INTEGER, (c) => c.analysis.length, 'length');
const urlCount = numeric('url_count', 'number of links in the text: N (at least) or { min, max }', 0, 10_000, (c) => c.analysis.urls.length, 'links', 'urls');
const obfuscation = numeric('obfuscation', 'number of obfuscations undone (look-alikes, invisible characters, leetspeak, spaced letters)', 0, 100_000, (c) => c.analysis.obfuscations, 'obfuscations', 'obfuscation');

/** Share of capitals only means something with enough letters: "OK" is not shouting. */
const MIN_LENGTH_FOR_CAPS = 12;
const capsRatio: ConditionKind = {
  key: 'caps_ratio',
  summary: `share of upper-case letters, 0 to 1: N (at least) or { min, max }; texts under ${MIN_LENGTH_FOR_CAPS} characters never match`,
  compile(field) {
    const r = parseRange(field, 0, 1);
    return {
      test: (c) =>
        c.analysis.length >= MIN_LENGTH_FOR_CAPS && inRange(r, c.analysis.capsRatio)
          ? `capitals ${(c.analysis.capsRatio * 100).toFixed(0)}% (${describeRange(r, 1)})`
          : null,
    };
  },
};

const script: ConditionKind = {
  key: 'script',
  summary: `dominant script of the text is one of: ${SCRIPTS.join(', ')}`,
  compile(field) {
    const set = new Set<Script>(field.textList().map((f) => f.oneOf(SCRIPTS)));
    return { test: (c) => (set.has(c.analysis.script) ? `script ${c.analysis.script}` : null) };
  },
};

const time: ConditionKind = {
  key: 'time',
  summary: 'sent within a window: { days: [mon…sun|weekdays|weekend], from: "HH:MM", to: "HH:MM", tz: IANA zone }; windows may cross midnight',
  compile(field, ctx) {
    const f = field.fields(['days', 'from', 'to', 'tz']);
    const fromField = f.get('from');
    const toField = f.get('to');
    if ((fromField === undefined) !== (toField === undefined)) field.fail("expected both 'from' and 'to', or neither");
    if (fromField === undefined && f.get('days') === undefined) field.fail("expected 'days' and/or 'from' and 'to'");
    let days = ALL_DAYS;
    try {
      const d = f.get('days');
      if (d) days = parseDays(d.textList().map((x) => x.text()));
    } catch (err) {
      if (err instanceof TimeError) f.get('days')!.fail(err.message);
      throw err;
    }
    const tzField = f.get('tz');
    const zone = tzField?.string() ?? ctx.defaultTimeZone;
    let window;
    try {
      window = makeWindow(fromField?.text() ?? '00:00', toField?.text() ?? '00:00', zone, days);
    } catch (err) {
      if (err instanceof TimeError) {
        const at = /zone/.test(err.message) ? (tzField ?? field) : /'(.*)'/.exec(err.message)?.[1] === toField?.text() ? toField! : (fromField ?? field);
        at.fail(err.message);
      }
      throw err;
    }
    const w = window;
    return { test: (c) => (inWindow(w, c.message.time) ? `sent within ${w.label}` : null) };
  },
};

function list(field: Field): Field[] {
  const items = field.items();
  if (items.length === 0) field.fail('expected at least one condition or rule id');
  return items;
}

function operand(item: Field, ctx: CompileContext): Condition {
  if (item.isScalar()) return ctx.ruleReference(item.string(), item);
  return ctx.compileConditions(item);
}

const all: ConditionKind = {
  key: 'all',
  summary: 'every listed condition holds; items are rule ids or inline condition mappings',
  compile(field, ctx) {
    const parts = list(field).map((i) => operand(i, ctx));
    return {
      ...allOf(parts),
      test: (c) => {
        // Joined as they come, not through an array: most evaluations stop at the first part.
        let details = '';
        for (let i = 0; i < parts.length; i++) {
          const d = parts[i]!.test(c);
          if (d === null) return null;
          details = i === 0 ? d : `${details} and ${d}`;
        }
        return details;
      },
    };
  },
};

const any: ConditionKind = {
  key: 'any',
  summary: 'at least one listed condition holds; items are rule ids or inline condition mappings',
  compile(field, ctx) {
    const parts = list(field).map((i) => operand(i, ctx));
    return {
      test: (c) => {
        for (const p of parts) {
          const d = p.test(c);
          if (d !== null) return d;
        }
        return null;
      },
    };
  },
};

const not: ConditionKind = {
  key: 'not',
  summary: 'the condition (a rule id or an inline mapping) does not hold',
  compile(field, ctx) {
    const inner = operand(field, ctx);
    const label = field.isScalar() ? `not ${field.string()}` : `not (${field.entries().map(([k]) => k).join(', ')})`;
    return { test: (c) => (inner.test(c) === null ? label : null) };
  },
};

export const MESSAGE_CONDITIONS: readonly ConditionKind[] = [
  sender, recipient, senderKind, channel, keywords, regex, domains, shortener, ipUrl, money, numberInText,
  length, urlCount, capsRatio, script, obfuscation, time, all, any, not,
];
