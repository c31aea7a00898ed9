import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createEngine, type Engine } from '../../src/engine/engine.js';
import type { MessageInput } from '../../src/message/types.js';
import { MessageError } from '../../src/message/normalise.js';
import { compileRules } from '../../src/rules/compile.js';
import { loadRuleSet, shippedRulesDir } from '../../src/rules/load.js';
import { RuleLoadError } from '../../src/rules/source.js';
import { keyHash, MemoryVolumeStore } from '../../src/rules/volume-store.js';
import { campaignKeys } from '../../src/rules/fingerprint.js';
import { analyseText } from '../../src/text/analysis.js';
import { runRuleExamples } from '../../src/cli/commands/rules.js';

const T0 = Date.parse('2026-11-24T10:00:00Z');
const rule = (id: string, body: string) => `  - id: ${id}\n    description: test rule ${id}\n    score: 1\n${body.replace(/^/gm, '    ')}\n`;
const rules = (...r: string[]) => `rules:\n${r.join('')}`;
const engineWith = (yaml: string, store = new MemoryVolumeStore()) =>
  createEngine({ rules: compileRules([{ file: 'volume.yaml', text: yaml }]), volumeStore: store });

function fired(engine: Engine, m: Partial<MessageInput> & { at?: number }): string[] {
  const { at, ...rest } = m;
  return engine.check({ from: '+447700900000', to: '+447700900001', text: 'hello there', time: T0 + (at ?? 0), ...rest }).reasons.map((r) => r.rule);
}

const recipient = (i: number) => `+4477009${String(10000 + i).slice(1)}`;
const sender = (i: number) => `+4477001${String(10000 + i).slice(1)}`;

function problems(yaml: string): string[] {
  try {
    compileRules([{ file: 'bad.yaml', text: yaml }]);
  } catch (err) {
    if (err instanceof RuleLoadError) return err.problems.map((p) => `${p.file}:${p.line}:${p.column}: ${p.message}`);
    throw err;
  }
  return [];
}

describe('volume rules: per-sender distinct recipients (bulk)', () => {
  it('trips at exactly the threshold and not before; repeats to one recipient do not count', () => {
    const e = engineWith(rules(rule('BULK', 'distinct_recipients: { per: sender, min: 50, window: 10m }')));
    for (let i = 0; i < 49; i++) {
      expect(fired(e, { to: recipient(i), at: i * 1000 })).toEqual([]);
      expect(fired(e, { to: recipient(i), at: i * 1000 + 1 })).toEqual([]); // same recipient again
    }
    expect(fired(e, { to: recipient(49), at: 49_000 })).toEqual(['BULK']);
    expect(fired(e, { to: recipient(50), at: 50_000 })).toEqual(['BULK']);
    // Another sender has its own count.
    expect(fired(e, { from: '+447700900999', to: recipient(1), at: 51_000 })).toEqual([]);
    const detail = e.check({ from: '+447700900000', to: recipient(51), text: 'x', time: T0 + 52_000 }).reasons[0]!.detail;
    expect(detail).toBe('sender +4477009000… wrote to 52 recipients in 10m (≥ 50)');
  });

  it('a recipient seen again counts from its latest message', () => {
    const e = engineWith(rules(rule('BULK', 'distinct_recipients: { min: 2, window: 1m }')));
    expect(fired(e, { to: recipient(1), at: 0 })).toEqual([]);
    expect(fired(e, { to: recipient(2), at: 5_000 })).toEqual(['BULK']);
    expect(fired(e, { to: recipient(1), at: 50_000 })).toEqual(['BULK']);
    expect(fired(e, { to: recipient(3), at: 70_000 })).toEqual(['BULK']); // 1 (at 50s) and 3; 2 has expired
    expect(fired(e, { to: recipient(4), at: 135_000 })).toEqual([]); // only 4: 1 and 3 are over a minute old
  });

  it('recipients older than the window no longer count', () => {
    const e = engineWith(rules(rule('BULK', 'distinct_recipients: { min: 3, window: 1m }')));
    expect(fired(e, { to: recipient(1), at: 0 })).toEqual([]);
    expect(fired(e, { to: recipient(2), at: 10_000 })).toEqual([]);
    expect(fired(e, { to: recipient(3), at: 61_000 })).toEqual([]); // recipient 1 has expired
    expect(fired(e, { to: recipient(4), at: 62_000 })).toEqual(['BULK']);
  });
});

describe('volume rules: rate', () => {
  it('per sender: the min-th message within the window fires, other senders are apart', () => {
    const e = engineWith(rules(rule('RATE', 'rate: { per: sender, min: 5, window: 1m }')));
    for (let i = 0; i < 4; i++) expect(fired(e, { at: i * 100 })).toEqual([]);
    expect(fired(e, { from: '+447700900555', at: 450 })).toEqual([]);
    expect(fired(e, { at: 500 })).toEqual(['RATE']);
  });

  it('per source (ESME system_id): many senders through one client add up; messages without a source are not counted', () => {
    const e = engineWith(rules(rule('ESME_RATE', 'rate: { per: source, min: 3, window: 1m }')));
    expect(fired(e, { from: sender(1), source: 'esme-a' })).toEqual([]);
    expect(fired(e, { from: sender(2), source: 'esme-a' })).toEqual([]);
    expect(fired(e, { from: sender(3), source: 'esme-b' })).toEqual([]);
    for (let i = 0; i < 5; i++) expect(fired(e, { from: sender(4) })).toEqual([]);
    const v = e.check({ from: sender(5), to: recipient(1), text: 'hi', time: T0, source: 'esme-a' });
    expect(v.reasons.map((r) => [r.rule, r.detail])).toEqual([['ESME_RATE', 'client esme-a sent 3 messages in 1m (≥ 3)']]);
  });

  it('per recipient: a flooded subscriber', () => {
    const e = engineWith(rules(rule('FLOOD', 'rate: { per: recipient, min: 3, window: 1m }')));
    expect(fired(e, { from: sender(1) })).toEqual([]);
    expect(fired(e, { from: sender(2) })).toEqual([]);
    expect(fired(e, { from: sender(3) })).toEqual(['FLOOD']);
  });

  it('the window slides: traffic older than the window expires', () => {
    const e = engineWith(rules(rule('RATE', 'rate: { min: 3, window: 1m }')));
    expect(fired(e, { at: 0 })).toEqual([]);
    expect(fired(e, { at: 1_000 })).toEqual([]);
    expect(fired(e, { at: 61_000 })).toEqual([]); // the first two are over a minute old
    expect(fired(e, { at: 62_000 })).toEqual([]);
    expect(fired(e, { at: 63_000 })).toEqual(['RATE']);
    expect(fired(e, { at: 30 * 60_000 })).toEqual([]);
  });

  it('one message with a clock far ahead does not stop its key from counting afterwards', () => {
    const e = engineWith(rules(rule('RATE', 'rate: { min: 3, window: 1m }')));
    expect(fired(e, { at: 365 * 86_400_000 })).toEqual([]);
    expect(fired(e, { at: 0 })).toEqual([]);
    expect(fired(e, { at: 1 })).toEqual([]);
    expect(fired(e, { at: 2 })).toEqual(['RATE']);
  });
});

describe('volume rules: counted once per check', () => {
  it('a message is counted even when the rule reading the counter is gated out by its keywords', () => {
    const e = engineWith(rules(rule('PROMO_BURST', 'keywords: [promo]\nrate: { min: 3, window: 1m }')));
    expect(fired(e, { text: 'hello' })).toEqual([]);
    expect(fired(e, { text: 'hello again' })).toEqual([]);
    expect(fired(e, { text: 'promo today' })).toEqual(['PROMO_BURST']);
  });

  it('rules with the same counter share it and count each message once', () => {
    const e = engineWith(rules(
      rule('THREE', 'rate: { min: 3, window: 1m }'),
      rule('FOUR', 'rate: { per: sender, min: 4, window: 60s }'),
      rule('META', 'all: [THREE, { rate: { min: 3, window: 1m } }]'),
    ));
    expect(e.rules.volume?.counters.length).toBe(1);
    expect(fired(e, {})).toEqual([]);
    expect(fired(e, {})).toEqual([]);
    expect(fired(e, {})).toEqual(['THREE', 'META']);
    expect(fired(e, {})).toEqual(['THREE', 'FOUR', 'META']);
  });

  it('a rule set without volume rules has no counters to observe', () => {
    const e = engineWith(rules(rule('KW', 'keywords: [promo]')));
    expect(e.rules.volume).toBeUndefined();
    fired(e, { text: 'promo' });
    expect(e.volume.stats()).toEqual({ counters: 0, keys: 0, members: 0 });
  });
});

const TEMPLATES = [
  'Hi {name}, your parcel could not be delivered. Pay the £{amount} redelivery fee at https://royal-redeliver.com/t/{code} within 24 hours or it will be returned',
];
const NAMES = ['John', 'Mary', 'Aisha', 'Tom', 'Priya', 'Olu', 'Chen', 'Sara', 'Luca', 'Nina', 'Omar', 'Eve', 'Raj', 'Kate', 'Ivan', 'Zoe', 'Ben', 'Ana', 'Lee', 'Max'];

function campaignText(i: number): string {
  return TEMPLATES[0]!.replace('{name}', NAMES[i % NAMES.length]!).replace('{amount}', `${1 + (i % 7)}.${10 + (i % 89)}`).replace('{code}', `x${(i * 7919).toString(36)}`);
}

function uciHam(n: number): string[] {
  const file = resolve(import.meta.dirname, '..', '..', '..', 'shared', 'corpora', 'sms-spam-collection', 'SMSSpamCollection.tsv');
  const seen = new Set<string>();
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const [label, text] = line.split('\t');
    if (label === 'ham' && text !== undefined && !seen.has(text)) seen.add(text);
    if (seen.size === n) break;
  }
  return [...seen];
}

describe('volume rules: campaigns of near-identical texts', () => {
  const yaml = rules(rule('CAMPAIGN', 'campaign: { min_recipients: 20, window: 1h }'), rule('CAMPAIGN_MANY_SENDERS', 'campaign: { min_recipients: 20, min_senders: 5, window: 1h }'));

  it('catches 200 texts with names, amounts and links changed per recipient, from 20 senders', () => {
    const e = engineWith(yaml);
    const firedAt: number[] = [];
    const manySenders: number[] = [];
    for (let i = 0; i < 200; i++) {
      const r = fired(e, { from: sender(i % 20), to: recipient(i), text: campaignText(i), at: i * 5_000 });
      if (r.includes('CAMPAIGN')) firedAt.push(i);
      if (r.includes('CAMPAIGN_MANY_SENDERS')) manySenders.push(i);
    }
    // Not before 20 recipients have had it, and then nearly every copy.
    expect(firedAt[0]).toBeGreaterThanOrEqual(19);
    expect(firedAt.length).toBeGreaterThanOrEqual(170);
    expect(manySenders.length).toBeGreaterThanOrEqual(170);
  });

  it('one sender sending the campaign alone is caught by the campaign rule but not by the many-senders one', () => {
    const e = engineWith(yaml);
    const hits = new Set<string>();
    for (let i = 0; i < 100; i++) for (const id of fired(e, { to: recipient(i), text: campaignText(i), at: i * 1000 })) hits.add(id);
    expect([...hits]).toEqual(['CAMPAIGN']);
  });

  it('does not flag 200 different ham texts from the UCI corpus sent the same way', () => {
    const e = engineWith(yaml);
    const ham = uciHam(200);
    expect(ham.length).toBe(200);
    const flagged = ham.filter((text, i) => fired(e, { from: sender(i % 20), to: recipient(i), text, at: i * 5_000 }).length > 0);
    expect(flagged).toEqual([]);
  });

  it('the same text to the same recipient again is one recipient; a copy after the window starts afresh', () => {
    const e = engineWith(rules(rule('CAMPAIGN', 'campaign: { min_recipients: 3, window: 1h }')));
    expect(fired(e, { to: recipient(1), text: campaignText(1) })).toEqual([]);
    expect(fired(e, { to: recipient(1), text: campaignText(2) })).toEqual([]);
    expect(fired(e, { to: recipient(2), text: campaignText(3) })).toEqual([]);
    expect(fired(e, { to: recipient(3), text: campaignText(4), at: 3 * 3600_000 })).toEqual([]);
  });

  it('fingerprints: edits that change names, numbers and link paths keep most bands; short texts get none', () => {
    const keys = (t: string) => campaignKeys(analyseText(t));
    const a = keys(campaignText(1))!;
    const b = keys(campaignText(2))!;
    expect(a.length).toBe(4);
    expect(a.filter((k, i) => b[i] === k).length).toBeGreaterThanOrEqual(2);
    expect(keys('ok see you later')).toBeNull();
    const other = keys('Are we still meeting for lunch at the usual place tomorrow, or shall we move it?')!;
    expect(other.filter((k, i) => a[i] === k).length).toBeLessThanOrEqual(1);
  });
});

describe('volume store: memory stays bounded', () => {
  it('1,000,000 distinct senders leave at most maxKeys keys', () => {
    const store = new MemoryVolumeStore({ maxKeys: 50_000 });
    const spec = { name: 'rate:sender:60000', windowMs: 60_000, cap: 0 };
    for (let i = 0; i < 1_000_000; i++) store.count(spec, `+44770${i}`, T0 + i);
    expect(store.stats()).toEqual({ counters: 1, keys: 50_000, members: 0 });
    // The most recent senders are the ones kept, with their counts.
    expect(store.count(spec, '+44770999999', T0 + 1_000_000)).toBe(2);
    expect(store.count(spec, '+44770950000', T0 + 1_000_000)).toBe(2);
    expect(store.count(spec, '+447700', T0 + 1_000_001)).toBe(1);
  });

  it('distinct counts remember at most maxMembers pairs, and stay exact while the table grows', () => {
    const store = new MemoryVolumeStore({ maxKeys: 100_000, maxMembers: 20_000 });
    const spec = { name: 'recipients:sender:600000', windowMs: 600_000, cap: 50 };
    for (let i = 0; i < 200_000; i++) store.distinct(spec, `s${i % 40_000}`, `r${i}`, T0 + i);
    expect(store.stats().members).toBeLessThanOrEqual(20_000);
    expect(store.stats().keys).toBe(40_000);
    // One key, 5,000 recipients (the table doubles from 4,096 entries on the way), then the
    // same 5,000 again: each is one recipient however often seen.
    const big = new MemoryVolumeStore();
    let n = 0;
    for (let round = 0; round < 2; round++) for (let i = 0; i < 5000; i++) n = big.distinct(spec, 'heavy', `r${i}`, T0 + round);
    expect(n).toBe(5000);
  });

  it('long keys are held as hashes', () => {
    const store = new MemoryVolumeStore();
    const spec = { name: 'rate:source:60000', windowMs: 60_000, cap: 0 };
    const long = 'x'.repeat(10_000);
    expect(store.count(spec, long, T0)).toBe(1);
    expect(store.count(spec, long, T0)).toBe(2);
  });
});

describe('volume store: hashed tables against a reference', () => {
  /** Deterministic pseudo-random numbers (xorshift), so a failure replays. */
  const rng = (seed: number) => () => ((seed ^= seed << 13, seed ^= seed >>> 17, seed ^= seed << 5) >>> 0) / 2 ** 32;

  /**
   * Sender-to-recipient distinct counts of a MemoryVolumeStore (16 s window) against a naive set
   * per key: each member with the last 1 s bucket it was seen in, all forgotten when the key's
   * whole ring has expired. `member` picks the event's member after its key is drawn.
   */
  function expectDistinctAsNaiveSets(seed: number, events: number, stepMs: number, member: (i: number, random: () => number) => string): void {
    const store = new MemoryVolumeStore({ maxKeys: 1000, maxMembers: 100_000 });
    const spec = { name: 'recipients:sender:16000', windowMs: 16_000, cap: 0 };
    const last = new Map<string, Map<string, number>>(); // key -> member -> last bucket
    const heads = new Map<string, number>();
    const random = rng(seed);
    for (let i = 0; i < events; i++) {
      const time = i * stepMs;
      const key = `s${Math.floor(random() * 50)}`;
      const m = member(i, random);
      const got = store.distinct(spec, key, m, T0 + time);
      const bucket = Math.floor((T0 + time) / 1000);
      const members = last.get(key) ?? new Map<string, number>();
      const head = heads.get(key) ?? bucket;
      if (bucket - head >= 16) members.clear(); // the whole ring has expired: the key restarts
      members.set(m, bucket);
      heads.set(key, bucket);
      last.set(key, members);
      expect(got).toBe([...members.values()].filter((b) => b > bucket - 16).length);
    }
  }

  it('with room for every key, counts equal a naive sliding window over 16 buckets, times out of order included', () => {
    const store = new MemoryVolumeStore({ maxKeys: 10_000 });
    const spec = { name: 'rate:sender:16000', windowMs: 16_000, cap: 0 };
    const events = new Map<string, number[]>(); // key -> bucket numbers (1 s buckets)
    const random = rng(1);
    let now = 0;
    for (let i = 0; i < 20_000; i++) {
      now += Math.floor(random() * 40);
      const time = now - Math.floor(random() * 3000); // up to 3 s late
      const key = `k${Math.floor(random() * 300)}`;
      const got = store.count(spec, key, T0 + time);
      const bucket = Math.floor((T0 + time) / 1000);
      const list = events.get(key) ?? [];
      const head = Math.max(bucket, ...list.slice(-64));
      const kept = list.filter((b) => b > head - 16 && b <= head);
      kept.push(bucket);
      events.set(key, kept);
      expect(got).toBe(kept.length);
    }
  });

  it('under heavy churn (keys given up and reused), a key kept is found with its count and never over-counted', () => {
    const store = new MemoryVolumeStore({ maxKeys: 500 });
    const spec = { name: 'rate:sender:3600000', windowMs: 3_600_000, cap: 0 };
    const truth = new Map<number, number>();
    const random = rng(2);
    for (let i = 0; i < 100_000; i++) {
      const k = Math.floor(random() * 5_000);
      const got = store.count(spec, `s${k}`, T0 + i);
      const exact = (truth.get(k) ?? 0) + 1;
      truth.set(k, exact);
      expect(got).toBeGreaterThanOrEqual(1);
      expect(got).toBeLessThanOrEqual(exact);
      // Just touched, so kept: the next event finds it.
      expect(store.count(spec, `s${k}`, T0 + i)).toBe(got + 1);
      truth.set(k, exact + 1);
    }
    expect(store.stats().keys).toBe(500);
  });

  it('distinct counts equal a naive set per key while nothing is given up', () => {
    expectDistinctAsNaiveSets(3, 20_000, 7, (_i, random) => `r${Math.floor(random() * 400)}`);
  });
  it('distinct counts equal a naive set per key across the members a record holds and those it spills to the pair table', () => {
    // Few members per key, so keys go past the 4 a record holds and back as members expire.
    expectDistinctAsNaiveSets(4, 40_000, 40, (i, random) => `r${Math.floor(random() * (1 + (i >> 12) % 8))}`);
  });

  it('campaign bands count as a naive set per key, the largest band of a message returned', () => {
    const store = new MemoryVolumeStore({ maxKeys: 1000, maxMembers: 100_000 });
    const spec = { name: 'campaign-recipients:16000', windowMs: 16_000, cap: 0 };
    const last = new Map<number, Map<number, number>>();
    const heads = new Map<number, number>();
    const random = rng(5);
    for (let i = 0; i < 40_000; i++) {
      const time = i * 40;
      const bucket = Math.floor((T0 + time) / 1000);
      const keys = Array.from({ length: 4 }, () => keyHash(`band${Math.floor(random() * 200)}`));
      const member = keyHash(`r${Math.floor(random() * (1 + (i >> 12) % 8))}`);
      const got = store.distinctMaxHashed(spec, keys, member, T0 + time);
      let most = 0;
      for (const key of keys) {
        const members = last.get(key) ?? new Map<number, number>();
        const head = heads.get(key) ?? bucket;
        if (bucket - head >= 16) members.clear();
        members.set(member, bucket);
        heads.set(key, bucket);
        last.set(key, members);
        most = Math.max(most, [...members.values()].filter((b) => b > bucket - 16).length);
      }
      expect(got).toBe(most);
    }
  });
});

describe('volume rules: bad values and examples', () => {
  it('names file:line:column for every bad value', () => {
    const got = problems(rules(
      rule('AA', 'rate: { min: 5, window: 25h }'),
      rule('BB', 'rate: { min: 1, window: 1m }'),
      rule('CC', "rate: { per: banana, min: 5, window: 1m }"),
      rule('DD', 'distinct_recipients: { min: 2.5, window: soon }'),
      rule('EE', 'campaign: { window: 1h }'),
      rule('FF', 'distinct_recipients: { per: recipient, min: 5, window: 1m }'),
      rule('GG', 'campaign: { min_recipients: 20000, window: 1h }'),
      rule('HH', 'rate: { min: 2, window: soon }'),
    ));
    expect(got).toEqual([
      'bad.yaml:5:29: rules[0].rate.window: window 25h is out of range: from 1s to 24h',
      'bad.yaml:9:18: rules[1].rate.min: expected a number from 2 to 10000000, got 1',
      'bad.yaml:13:18: rules[2].rate.per: expected one of sender, source, recipient, got string "banana"',
      'bad.yaml:17:33: rules[3].distinct_recipients.min: expected a whole number, got 2.5',
      "bad.yaml:21:15: rules[4].campaign: expected 'min_recipients': the count at which the rule fires",
      'bad.yaml:25:33: rules[5].distinct_recipients.per: expected one of sender, source, got string "recipient"',
      'bad.yaml:29:33: rules[6].campaign.min_recipients: expected a number from 2 to 10000, got 20000',
      'bad.yaml:33:29: rules[7].rate.window: expected a window such as 30s, 10m or 1h, got "soon"',
    ]);
  });

  it('refuses examples on a volume rule, saying why', () => {
    const got = problems('rules:\n  - id: BULK\n    description: bulk\n    score: 1\n    distinct_recipients: { min: 5, window: 1m }\n    examples:\n      match: ["hello"]\n');
    expect(got).toHaveLength(1);
    expect(got[0]).toMatch(/^bad\.yaml:7:7: .*rule BULK reads volume counters .* a single example cannot show/);
  });

  it('rules test judges each example against empty counters, so volume never leaks between examples', () => {
    const set = compileRules([{ file: 'x.yaml', text: rules(
      rule('RATE', 'rate: { min: 2, window: 1m }'),
      rule('KW', 'keywords: [promo]\nnot: RATE\nexamples:\n  match: [promo one, promo two, promo three]'),
    ) }]);
    expect(set.rules[0]!.volume).toBe(true);
    expect(set.rules[1]!.volume).toBeUndefined();
    expect(runRuleExamples(set).failures).toEqual([]);
  });

  it('the shipped rules load with the volume rules and their self-check passes', () => {
    const set = loadRuleSet(shippedRulesDir());
    const volume = set.rules.filter((r) => r.volume).map((r) => r.id);
    expect(volume.length).toBeGreaterThanOrEqual(4);
    expect(runRuleExamples(set).failures).toEqual([]);
  });
});

describe('volume counters across rule reloads and message sources', () => {
  it('counts survive replaceRules for counters the new set still has; others are dropped', () => {
    const e = engineWith(rules(rule('RATE', 'rate: { min: 3, window: 1m }'), rule('BULK', 'distinct_recipients: { min: 9, window: 1m }')));
    fired(e, {});
    fired(e, {});
    e.replaceRules(compileRules([{ file: 'v2.yaml', text: rules(rule('RENAMED_RATE', 'rate: { per: sender, min: 3, window: 60s }')) }]));
    expect(e.volume.stats().counters).toBe(1);
    expect(fired(e, {})).toEqual(['RENAMED_RATE']);
  });

  it('a bad source is refused with the field named; the source is trimmed', () => {
    const e = engineWith(rules(rule('RATE', 'rate: { per: source, min: 2, window: 1m }')));
    expect(() => e.check({ from: '1', to: '2', text: 'x', source: '' })).toThrow(MessageError);
    expect(() => e.check({ from: '1', to: '2', text: 'x', source: 'e'.repeat(65) })).toThrow(/source/);
    expect(e.normalise({ from: '1', to: '2', text: 'x', source: ' esme1 ' }).source).toBe('esme1');
    expect(fired(e, { source: 'esme1' })).toEqual([]);
    expect(fired(e, { source: ' esme1' })).toEqual(['RATE']);
  });
});
