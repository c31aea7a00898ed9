import { describe, expect, it } from 'vitest';
import type { SubscriberRules } from '../../src/rules/subscriber-types.js';
import { engineWith } from './helpers.js';

const operator = `rules:
  - { id: PRIZE, description: prize spam, score: 7, keywords: [prize] }
  - { id: FRAUD, description: known fraud number, action: block, enforce: true, sender: ["+254700000666"] }
`;
const subscriber: SubscriberRules = {
  block: ['+447700900999', '0900*', 'PRIZEDRAW'],
  allow: ['+447700900123', '+254700000666'],
  keywords: ['free entry'],
  quiet: [{ from: '22:00', to: '07:00', tz: 'Europe/London' }],
  enabled: true,
};
const SUB = '+447700900001';
const DAY = '2026-06-10T12:00:00Z';
const NIGHT = '2026-06-10T22:30:00Z'; // 23:30 in London (BST)

function verdict(from: string, text: string, time = DAY, rules: SubscriberRules = subscriber) {
  const e = engineWith(operator, { subscribers: { '07700 900001': rules } });
  return e.check({ from, to: SUB, text, time });
}
const ids = (v: ReturnType<typeof verdict>) => v.reasons.map((r) => r.rule);

describe('precedence: allow list, block list, quiet hours, keywords, then operator rules', () => {
  it('1. the allow list delivers, even over the block list, quiet hours, keywords and operator scores', () => {
    const v = verdict('+447700900123', 'free entry prize', NIGHT, { ...subscriber, block: [...subscriber.block, '+447700900123'] });
    expect(v.action).toBe('deliver');
    expect(ids(v)).toEqual(['SUBSCRIBER_ALLOW']);
  });

  it('but an enforced operator rule is never bypassed by the allow list', () => {
    const v = verdict('+254700000666', 'hello');
    expect(v.action).toBe('block');
    expect(ids(v)).toEqual(['SUBSCRIBER_ALLOW', 'FRAUD']);
  });

  it('2. the block list quarantines (held in the spam box) with a detail naming the sender and pattern', () => {
    for (const from of ['+447700900999', '09001234567', 'PRIZEDRAW']) {
      const v = verdict(from, 'hello');
      expect(v.action).toBe('quarantine');
      expect(v.reasons[0]!.rule).toBe('SUBSCRIBER_BLOCK');
    }
    expect(verdict('+447700900999', 'hi').reasons[0]!.detail).toBe("sender +447700… on the subscriber's block list ('+447700900999')");
  });

  it("3. quiet hours hold everything not allowed, in the subscriber's zone", () => {
    expect(ids(verdict('+447700900555', 'hello', NIGHT))).toEqual(['SUBSCRIBER_QUIET_HOURS']);
    expect(verdict('+447700900555', 'hello', NIGHT).action).toBe('quarantine');
    expect(verdict('+447700900555', 'hello', DAY).action).toBe('deliver');
  });

  it('4. subscriber keywords hold a message, with the same normalisation as operator keywords', () => {
    const v = verdict('+447700900555', 'F R E E  entry inside');
    expect(v.action).toBe('quarantine');
    expect(v.reasons[0]).toMatchObject({ rule: 'SUBSCRIBER_KEYWORD', detail: "keyword 'free entry' on the subscriber's list" });
  });

  it('5. operator rules still add their score, and the strongest action wins', () => {
    const v = verdict('+447700900555', 'free entry prize');
    expect(ids(v)).toEqual(['SUBSCRIBER_KEYWORD', 'PRIZE']);
    expect(v.action).toBe('quarantine');
    expect(verdict('+447700900555', 'a prize').action).toBe('quarantine'); // operator score 7 ≥ 6
  });

  it('filtering off: only enforced operator rules apply', () => {
    const off = { ...subscriber, enabled: false };
    expect(verdict('+447700900999', 'free entry prize', NIGHT, off).action).toBe('deliver');
    expect(verdict('+254700000666', 'hi', DAY, off).action).toBe('block');
  });

  it('a subscriber without rules gets operator rules only; other subscribers are unaffected', () => {
    const e = engineWith(operator, { subscribers: { [SUB]: subscriber } });
    expect(e.check({ from: '+447700900999', to: '+447700900002', text: 'hello' }).action).toBe('deliver');
  });
});

describe('subscriber rules are validated and can change while the engine runs', () => {
  it('refuses regex-like or invalid patterns and too many rules, naming the field', () => {
    const e = engineWith(operator);
    expect(() => e.setSubscriber(SUB, { ...subscriber, block: ['+44abc*'] })).toThrow(/block\[0\]: invalid/);
    expect(() => e.setSubscriber(SUB, { ...subscriber, block: ['(a+)+'] })).toThrow(/block\[0\]/);
    expect(() => e.setSubscriber(SUB, { ...subscriber, keywords: ['!!!'] })).toThrow(/keywords\[0\].*no letters/);
    expect(() => e.setSubscriber(SUB, { ...subscriber, quiet: [{ from: '25:00', to: '07:00' }] })).toThrow(/quiet\[0\]: invalid time '25:00'/);
    expect(() => e.setSubscriber(SUB, { ...subscriber, block: Array.from({ length: 500 }, (_, i) => `+4477009${String(i).padStart(5, '0')}`) })).toThrow(/too many rules: 50\d, the limit is 200/);
    expect(() => e.setSubscriber('not-a-number', subscriber)).toThrow(/not a subscriber number/);
  });

  it('setSubscriber takes effect on the next check, and null removes the rules', () => {
    const e = engineWith(operator);
    const m = { from: '+447700900999', to: SUB, text: 'hello', time: DAY };
    expect(e.check(m).action).toBe('deliver');
    e.setSubscriber(SUB, subscriber);
    expect(e.check(m).action).toBe('quarantine');
    e.setSubscriber(SUB, null);
    expect(e.check(m).action).toBe('deliver');
  });
});
