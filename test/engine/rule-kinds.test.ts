import { describe, expect, it } from 'vitest';
import { engineWith, firing } from './helpers.js';

const rule = (id: string, body: string, score = 1) => `  - id: ${id}\n    description: test rule ${id}\n    score: ${score}\n${body.replace(/^/gm, '    ')}\n`;
const rules = (...r: string[]) => `rules:\n${r.join('')}`;

describe('each rule condition kind', () => {
  it('sender: exact number in any format, national prefix, glob and sender ID', () => {
    const e = engineWith(rules(
      rule('EXACT', 'sender: ["07700 900999"]'),
      rule('PREFIX', 'sender: ["0900*"]'),
      rule('GLOB', 'sender: ["*BANK*"]'),
      rule('SENDER_ID', 'sender: ["PrizeDraw"]'),
    ));
    expect(firing(e, 'hi', { from: '+447700900999' })).toEqual(['EXACT']);
    expect(firing(e, 'hi', { from: '0044 900 123456' })).toEqual(['PREFIX']);
    expect(firing(e, 'hi', { from: 'MYBANKUK' })).toEqual(['GLOB']);
    expect(firing(e, 'hi', { from: 'PRIZEDRAW' })).toEqual(['SENDER_ID']);
    expect(firing(e, 'hi', { from: '+447700900998' })).toEqual([]);
  });

  it('recipient and sender_kind', () => {
    const e = engineWith(rules(rule('TO_RANGE', 'recipient: ["+4477009001*"]'), rule('ALNUM', 'sender_kind: alphanumeric')));
    expect(firing(e, 'x', { to: '+447700900123' })).toEqual(['TO_RANGE']);
    expect(firing(e, 'x', { from: 'SHOPNOW', to: '+447700900200' })).toEqual(['ALNUM']);
  });

  it('keywords: any phrase on word boundaries, through obfuscation; min distinct phrases', () => {
    const e = engineWith(rules(rule('KW', 'keywords: ["free entry", "prize"]'), rule('KW2', 'keywords: { any: [loan, cash, credit], min: 2 }')));
    expect(firing(e, 'F.R.E.E entry to our draw')).toEqual(['KW']);
    expect(firing(e, 'Win a PR1ZE')).toEqual(['KW']);
    expect(firing(e, 'a prizefighter')).toEqual([]);
    expect(firing(e, 'free of entry')).toEqual([]);
    expect(firing(e, 'loan loan loan')).toEqual([]);
    expect(firing(e, 'cash loan')).toEqual(['KW2']);
    const detail = engineWith(rules(rule('KW', 'keywords: ["free entry"]'))).check({ from: '1', to: '2', text: 'Free Entry!' }).reasons[0]!.detail;
    expect(detail).toBe("keyword 'free entry'");
  });

  it('a rule of one keyword list is settled from the keyword hits alone, with the detail and meta-rule answers its condition gives', () => {
    // ONLY is the one-list kind the rule set settles itself; MIN and CAPS go through their conditions.
    const e = engineWith(rules(
      rule('ONLY', 'keywords: ["free entry", prize, win]'),
      rule('MIN', 'keywords: { any: ["free entry", prize, win], min: 1 }\ncaps_ratio: { max: 1 }'),
      rule('CAPS', 'keywords: [prize]\ncaps_ratio: { min: 0.5 }'),
      rule('META', 'all: [ONLY]'),
      rule('NOT_ONLY', 'not: ONLY'),
      rule('TWO', 'keywords: { any: [prize, win], min: 2 }'),
    ));
    const reasons = (text: string) => Object.fromEntries(e.check({ from: '1', to: '2', text }).reasons.map((r) => [r.rule, r.detail]));
    expect(reasons('Free entry: win a prize')).toEqual({
      ONLY: "keyword 'free entry' and 2 more",
      TWO: "keyword 'win' and 1 more",
      MIN: expect.stringMatching(/^keyword 'free entry' and 2 more; capitals /), // the same keyword detail, by the condition
      META: 'rule ONLY',
    });
    expect(reasons('PRIZE WIN FOR YOU TODAY')).toMatchObject({ ONLY: "keyword 'prize' and 1 more", CAPS: expect.stringContaining("keyword 'prize'") });
    expect(reasons('nothing here')).toEqual({ NOT_ONLY: expect.any(String) });
    expect(reasons('a prize')).toEqual({ ONLY: "keyword 'prize'", META: 'rule ONLY' }); // one phrase is not two
    expect(reasons('win a prize').TWO).toBe("keyword 'win' and 1 more");
  });

  it('regex over folded text, or the original text when asked', () => {
    const e = engineWith(rules(rule('RE', "regex: 'claim\\s+code\\s+[a-z]{2}\\d+'"), rule('RE_ORIG', "regex: { pattern: '[A-Z]{5,}', on: original }")));
    expect(firing(e, 'Your claim code KL341')).toEqual(['RE']);
    expect(firing(e, 'shout LOUDLY')).toEqual(['RE_ORIG']);
  });

  it('domains (with subdomains and bare TLDs), shortener, ip_url, url_count', () => {
    const e = engineWith(rules(
      rule('DOM', 'domains: [evil.example, tk]'),
      rule('SHORT', 'shortener: true'),
      rule('IP', 'ip_url: true'),
      rule('TWO_LINKS', 'url_count: { min: 2 }'),
    ));
    expect(firing(e, 'go to https://login.evil.example/x')).toEqual(['DOM']);
    expect(firing(e, 'go to promo.tk')).toEqual(['DOM']);
    expect(firing(e, 'see bit.ly/abc')).toEqual(['SHORT']);
    expect(firing(e, 'http://198.51.100.4/login')).toEqual(['IP']);
    expect(firing(e, 'a.com and b.com')).toEqual(['TWO_LINKS']);
    expect(firing(e, 'notevil.example.org')).toEqual([]);
  });

  it('money and number_in_text', () => {
    const e = engineWith(rules(rule('MONEY', 'money: true'), rule('PREMIUM', 'number_in_text: ["09*"]')));
    expect(firing(e, 'win £500 today')).toEqual(['MONEY']);
    expect(firing(e, 'call 0906 170 1461')).toEqual(['PREMIUM']);
    expect(firing(e, 'call 020 7946 0018')).toEqual([]);
    expect(firing(e, 'call ０９０６ １７０ １４６１')).toEqual(['PREMIUM']); // fullwidth digits fold to ASCII ones
  });

  // Rules without keywords are listed by what a text must have for them (a link, a digit, an
  // obfuscation undone); a rule must still be tried on every text it could match.
  it('rules that need a digit, an obfuscation or a link, or their absence, fire on every text they match', () => {
    const e = engineWith(rules(
      rule('FIVE_DIGITS', 'regex: "\\\\d{5}"'),
      rule('PRICE', 'regex: "\\\\dp/(?:min|msg)|£\\\\d"'),
      rule('NO_MONEY', 'money: false'),
      rule('MONEY', 'money: true'),
      rule('PREMIUM', 'number_in_text: ["09*"]'),
      rule('OBFUSCATED', 'obfuscation: 1'),
      rule('NO_LINKS', 'url_count: { max: 0 }'),
      rule('DIGIT_AND_LINK', 'all: [{ regex: "\\\\d" }, { url_count: 1 }]'),
    ));
    expect(firing(e, 'see you soon')).toEqual(['NO_MONEY', 'NO_LINKS']);
    expect(firing(e, 'code 12345 here')).toEqual(['FIVE_DIGITS', 'NO_MONEY', 'NO_LINKS']);
    expect(firing(e, 'code １２３４５ here')).toEqual(['FIVE_DIGITS', 'NO_MONEY', 'NO_LINKS']); // fullwidth digits fold to ASCII ones
    expect(firing(e, 'txt 150p/msg or £5')).toEqual(['PRICE', 'MONEY', 'NO_LINKS']);
    expect(firing(e, 'ring 09061701461')).toEqual(['FIVE_DIGITS', 'NO_MONEY', 'PREMIUM', 'NO_LINKS']);
    expect(firing(e, 'fr33 c@sh')).toEqual(['NO_MONEY', 'OBFUSCATED', 'NO_LINKS']);
    expect(firing(e, 'go to win2.example.com now')).toEqual(['NO_MONEY', 'DIGIT_AND_LINK']);
  });

  it('message properties: length, caps_ratio, script, obfuscation', () => {
    const e = engineWith(rules(
      rule('LONG', 'length: { min: 100 }'),
      rule('CAPS', 'caps_ratio: 0.7'),
      rule('CYR', 'script: [cyrillic]'),
      rule('OBF', 'obfuscation: 2'),
    ));
    expect(firing(e, 'x'.repeat(150))).toEqual(['LONG']);
    expect(firing(e, 'WIN A FREE PHONE TODAY')).toEqual(['CAPS']);
    expect(firing(e, 'OK GO')).toEqual([]); // too short for a capitals share to mean shouting
    expect(firing(e, 'Привет друг')).toEqual(['CYR']);
    expect(firing(e, 'fr33 c@sh')).toEqual(['OBF']);
  });

  it('channel', () => {
    const e = engineWith(rules(rule('EMAIL_ONLY', 'channel: email')));
    expect(e.check({ from: 'a@b.example', to: 'c@d.example', text: 'x', channel: 'email' }).reasons.map((r) => r.rule)).toEqual(['EMAIL_ONLY']);
    expect(firing(e, 'x')).toEqual([]);
  });

  it('time: days and hours in a zone, crossing midnight', () => {
    const e = engineWith(rules(rule('NIGHT', 'time: { from: "23:00", to: "05:00", tz: Asia/Tokyo }'), rule('SUNDAY', 'time: { days: [sun], tz: Europe/London }')));
    expect(firing(e, 'x', { time: '2026-03-04T15:00:00Z' })).toEqual(['NIGHT']); // 00:00 in Tokyo, Thursday
    expect(firing(e, 'x', { time: '2026-03-08T12:00:00Z' })).toEqual(['SUNDAY']);
    expect(firing(e, 'x', { time: '2026-03-04T10:00:00Z' })).toEqual([]);
  });

  it('all / any / not over rule ids and inline conditions; helper rules never score', () => {
    const e = engineWith(rules(
      rule('__HAS_LINK', 'url_count: 1', 0),
      rule('__URGENT', 'keywords: [urgent, immediately]', 0),
      rule('META_ALL', 'all: [__HAS_LINK, __URGENT]', 5),
      rule('META_ANY', 'any: [__URGENT, { money: true }]', 1),
      rule('META_NOT', 'all:\n  - __HAS_LINK\n  - not: { domains: [good.com] }', 2),
    ));
    expect(firing(e, 'URGENT: verify at bad-site.com now')).toEqual(['META_ALL', 'META_ANY', 'META_NOT']);
    expect(firing(e, 'urgent, see www.good.com')).toEqual(['META_ALL', 'META_ANY']);
    expect(firing(e, 'won £5')).toEqual(['META_ANY']);
    expect(firing(e, 'hello')).toEqual([]);
  });

  it('a rule that requires a keyword rule, or has keywords inside all, is gated by them; not and any do not pass the gate on', () => {
    const e = engineWith(rules(
      rule('__LOAN', 'keywords: [loan, payday]', 0),
      rule('LOAN_AMOUNT', 'all: [__LOAN]\nmoney: true', 2),
      rule('NESTED', 'all:\n  - { all: [LOAN_AMOUNT], length: { min: 10 } }', 1),
      rule('NO_LOAN', 'not: __LOAN\nmoney: true', 1),
      rule('LOAN_OR_LINK', 'any: [__LOAN, { url_count: 1 }]', 1),
      rule('BRAND_LINK', 'all:\n  - keywords: [paypal]\n  - url_count: 1', 1),
    ));
    const gates = (e.rules as unknown as { ruleGate: Int32Array }).ruleGate;
    const gated = (id: string): boolean => gates[e.rules.byId.get(id)!.index]! >= 0;
    expect([gated('LOAN_AMOUNT'), gated('NESTED'), gated('NO_LOAN'), gated('LOAN_OR_LINK'), gated('BRAND_LINK')]).toEqual([true, true, false, false, true]);
    expect(firing(e, 'Payday loan of £500 today')).toEqual(['LOAN_AMOUNT', 'NESTED', 'LOAN_OR_LINK']);
    expect(firing(e, 'You owe me £500')).toEqual(['NO_LOAN']);
    expect(firing(e, 'see example.com')).toEqual(['LOAN_OR_LINK']);
    expect(firing(e, 'paypal: verify at example.com')).toEqual(['LOAN_OR_LINK', 'BRAND_LINK']);
    expect(firing(e, 'paypal sent it')).toEqual([]);
  });

  it('several conditions in one rule must all hold, and the detail lists each', () => {
    const e = engineWith(rules(rule('BOTH', 'keywords: [refund]\nshortener: true', 3)));
    const v = e.check({ from: '1', to: '2', text: 'Your refund: bit.ly/r' });
    expect(v.reasons).toEqual([{ rule: 'BOTH', score: 3, detail: "keyword 'refund'; link shortener bit.ly" }]);
    expect(firing(e, 'Your refund is ready')).toEqual([]);
  });
});

describe('scores, actions and thresholds', () => {
  const yaml = `thresholds: { tag: 2, quarantine: 4, block: 8 }
rules:
  - { id: AA, description: a, score: 2.5, keywords: [alpha] }
  - { id: BB, description: b, score: 2, keywords: [beta] }
  - { id: CC, description: c, action: block, keywords: [gamma] }
  - { id: NEG, description: known good sender, score: -5, sender: [MYBANK] }
  - { id: OK, description: operator allow, action: allow, sender: [TRUSTED] }
`;
  const e = engineWith(yaml);
  const check = (text: string, from = '+447700900000') => e.check({ from, to: '+447700900001', text });

  it('adds scores and maps the total through the thresholds', () => {
    expect(check('alpha').action).toBe('tag');
    expect(check('alpha beta')).toMatchObject({ action: 'quarantine', score: 4.5 });
    expect(check('hello').action).toBe('deliver');
  });

  it('an explicit action wins over a lower score; negative scores pull down', () => {
    expect(check('gamma').action).toBe('block');
    expect(check('alpha beta', 'MYBANK').action).toBe('deliver');
  });

  it('an operator allow rule delivers', () => {
    expect(check('alpha beta gamma', 'TRUSTED').action).toBe('deliver');
  });

  it('thresholds from the engine options override the rule files', () => {
    const strict = engineWith(yaml, { thresholds: { quarantine: 2 } });
    expect(strict.check({ from: '1', to: '2', text: 'alpha' }).action).toBe('quarantine');
  });

  it('keeps matching when the per-check generation stamp wraps around', () => {
    const e = engineWith(rules(rule('KW', 'keywords: ["free entry"]'), rule('META', 'all: [KW, { keywords: [prize] }]'), rule('LEN', 'length: { min: 5 }')));
    // Two checks short of the wrap, through it, and past it: the same rules fire each time.
    (e.rules as unknown as { generation: number }).generation = 0x7fffffff - 2;
    for (let i = 0; i < 5; i++) expect(firing(e, 'free entry to win a prize')).toEqual(['KW', 'META', 'LEN']);
    expect((e.rules as unknown as { generation: number }).generation).toBeLessThan(10);
  });
});

