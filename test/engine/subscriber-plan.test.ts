/**
 * The engine reads subscriber rules through a compact plan and looks into the compiled rules
 * only where the plan says a list may match. This holds it to the straightforward reading of
 * the compiled rules (allow, block, quiet hours, keywords, in that order) on random
 * subscribers and random messages: exact numbers, number prefixes in national and
 * international form, globs that can and cannot match a number, sender IDs, short codes.
 */
import { describe, expect, it } from 'vitest';
import { AddressNormaliser } from '../../src/message/address.js';
import { containsPhraseIn } from '../../src/rules/keyword-index.js';
import { compileSubscriber } from '../../src/rules/subscriber.js';
import type { SubscriberRules } from '../../src/rules/subscriber-types.js';
import { inWindow } from '../../src/rules/time.js';
import { analyseText } from '../../src/text/analysis.js';
import { prng } from '../../bench/lib/measure.js';
import { engineWith } from './helpers.js';

const NUMBERS = ['+447700900123', '+447700900124', '+447700900999', '+447700901000', '+12025550143', '+4490012345', '+447700900', '+33612345678'];
const PATTERNS = [
  ...NUMBERS,
  '07700 900123', '07700900*', '+4477009001*', '0900*', '+1*', '*', '+*', '+44770090012?', '*123', '*BET*', 'PRIZE*', 'MYBANK', '87121', '8712*', '00447700900999',
];
const SENDERS = [...NUMBERS, '+447700900125', '+447700901999', 'PRIZEDRAW', 'MYBANK', 'BETWAY', '87121', '87129', '+12025550100', '+4490012399'];
const WORDS = ['prize', 'free entry', 'call now', 'win', 'cash', 'urgent reply'];
const TEXTS = ['You WIN a prize! call now', 'free entry to win cash', 'see you at 5', 'URGENT reply needed', 'prize draw', 'hello'];
const WINDOWS = [
  { from: '22:00', to: '07:00', tz: 'Europe/London' },
  { from: '09:00', to: '17:00', tz: 'America/New_York' },
  { from: '00:00', to: '00:00', tz: 'UTC' },
  { from: '13:00', to: '14:00' },
];

function sample<T>(random: () => number, xs: readonly T[], max: number): T[] {
  const n = Math.floor(random() * (max + 1));
  return Array.from({ length: n }, () => xs[Math.floor(random() * xs.length)]!);
}

const normaliser = new AddressNormaliser('GB');

/** The straightforward reading of the compiled rules: the first subscriber reason, or none. */
function expected(rules: SubscriberRules, from: string, text: string, time: number): string {
  const sub = compileSubscriber(rules, normaliser, 'UTC');
  const sender = normaliser.normalise(from);
  if (!sub.enabled) return 'SUBSCRIBER_FILTER_OFF';
  const allowed = sub.allow?.match(sender);
  if (allowed !== undefined) return `SUBSCRIBER_ALLOW ${allowed}`;
  const blocked = sub.block?.match(sender);
  if (blocked !== undefined) return `SUBSCRIBER_BLOCK ${blocked}`;
  const quiet = sub.quiet.find((w) => inWindow(w, time));
  if (quiet !== undefined) return `SUBSCRIBER_QUIET_HOURS ${quiet.label}`;
  const analysis = analyseText(text);
  const keyword = sub.keywords.find((k) => containsPhraseIn(analysis, k.words, k.first));
  if (keyword !== undefined) return `SUBSCRIBER_KEYWORD ${keyword.text}`;
  return 'none';
}

function actual(reasons: ReadonlyArray<{ rule: string; detail: string }>): string {
  const r = reasons.find((x) => x.rule.startsWith('SUBSCRIBER_'));
  if (r === undefined) return 'none';
  const quoted = /\('([^']*)'\)/.exec(r.detail)?.[1] ?? /'([^']*)'/.exec(r.detail)?.[1];
  if (r.rule === 'SUBSCRIBER_QUIET_HOURS') return `${r.rule} ${r.detail.replace("sent during the subscriber's quiet hours ", '')}`;
  return r.rule === 'SUBSCRIBER_FILTER_OFF' ? r.rule : `${r.rule} ${quoted}`;
}

describe('subscriber rules read through the compact plan', () => {
  it('give the same decision as the compiled rules on 3,000 random subscribers × 8 messages', () => {
    const random = prng(5);
    const engine = engineWith('rules: []\n');
    let decided = 0;
    for (let s = 0; s < 3000; s++) {
      const number = '+4477' + String(20_000_000 + s);
      const rules: SubscriberRules = {
        block: sample(random, PATTERNS, 4),
        allow: sample(random, PATTERNS, 3),
        keywords: sample(random, WORDS, 2),
        quiet: sample(random, WINDOWS, 2),
        enabled: random() > 0.1,
      };
      engine.setSubscriber(number, rules);
      for (let m = 0; m < 8; m++) {
        const from = SENDERS[Math.floor(random() * SENDERS.length)]!;
        const text = TEXTS[Math.floor(random() * TEXTS.length)]!;
        const time = Date.UTC(2026, 10, 24) + Math.floor(random() * 7 * 24) * 3_600_000 + 1_800_000;
        const verdict = engine.check({ from, to: number, text, time });
        const want = expected(rules, from, text, time);
        if (want !== 'none') decided++;
        expect({ number, rules, from, text, time, decision: actual(verdict.reasons) }).toEqual({ number, rules, from, text, time, decision: want });
      }
    }
    expect(decided).toBeGreaterThan(10_000); // every kind of decision is well represented
  });

  it('stay right while rules are replaced and removed over and over (plans released, the live ones moved out of emptied chunks, looked up again)', () => {
    const random = prng(11);
    const engine = engineWith('rules: []\n');
    const numbers = Array.from({ length: 1500 }, (_, s) => (s % 50 === 0 ? String(80_000 + s) : '+4477' + String(30_000_000 + s)));
    const current = new Map<string, SubscriberRules | null>();
    for (let round = 0; round < 16; round++) {
      for (const number of numbers) {
        // Half are kept each round: their plans are the ones moved out of chunks others released.
        if (round > 0 && random() < 0.5) continue;
        const rules: SubscriberRules | null =
          random() < 0.1 ? null : { block: sample(random, PATTERNS, 4), allow: sample(random, PATTERNS, 3), keywords: sample(random, WORDS, 2), quiet: sample(random, WINDOWS, 2), enabled: random() > 0.1 };
        engine.setSubscriber(number, rules);
        current.set(number, rules);
        // Checked at once, so that the new rules get a plan (and the last one is released).
        engine.check({ from: SENDERS[0]!, to: number, text: 'hello', time: 0 });
      }
      for (const number of numbers) {
        const rules = current.get(number)!;
        const from = SENDERS[Math.floor(random() * SENDERS.length)]!;
        const text = TEXTS[Math.floor(random() * TEXTS.length)]!;
        const time = Date.UTC(2026, 10, 24) + Math.floor(random() * 7 * 24) * 3_600_000 + 1_800_000;
        const decision = actual(engine.check({ from, to: number, text, time }).reasons);
        expect({ round, number, decision }).toEqual({ round, number, decision: rules === null ? 'none' : expected(rules, from, text, time) });
      }
    }
    // Released plans' chunks were emptied and filled again: 16 rounds of plans live in about what one round needs.
    const chunks = (engine as unknown as { plans: { chunkCount: number } }).plans.chunkCount;
    expect(chunks).toBeLessThanOrEqual(6);
  });
});
