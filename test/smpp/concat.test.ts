import { describe, expect, it } from 'vitest';
import { isMultipart, Reassembler, type FlushReason, type SegmentSet } from '../../src/smpp/concat.js';

function setup(options: { timeoutMs?: number; maxPendingSets?: number } = {}) {
  let clock = 1_000;
  const flushed: { set: SegmentSet<string>; reason: FlushReason }[] = [];
  const r = new Reassembler<string>({ ...options, now: () => clock }, (set, reason) => flushed.push({ set, reason }));
  return { r, flushed, tick: (ms: number) => (clock += ms) };
}

const info = (reference: number, total: number, seq: number) => ({ reference, total, seq, referenceBits: 8 as const });

describe('Reassembler', () => {
  it('completes a set arriving out of order and joins the texts in sequence order', () => {
    const { r } = setup();
    const key = Reassembler.key('esme', '+447700900001', '+447700900002', info(7, 3, 1));
    expect(r.add(key, info(7, 3, 3), 'prize now', 'c').kind).toBe('pending');
    expect(r.add(key, info(7, 3, 1), 'You have ', 'a').kind).toBe('pending');
    const done = r.add(key, info(7, 3, 2), 'won a cash ', 'b');
    expect(done.kind).toBe('complete');
    if (done.kind !== 'complete') return;
    expect(done.set.text).toBe('You have won a cash prize now');
    expect(done.set.parts.map((p) => p.item)).toEqual(['a', 'b', 'c']);
    expect(r.pendingSets).toBe(0);
    r.close();
  });

  it('keeps sets with the same reference apart by sender, recipient and scope', () => {
    const { r } = setup();
    const a = Reassembler.key('esme', 'A', 'X', info(1, 2, 1));
    const b = Reassembler.key('esme', 'B', 'X', info(1, 2, 1));
    const c = Reassembler.key('other', 'A', 'X', info(1, 2, 1));
    expect(new Set([a, b, c]).size).toBe(3);
    r.add(a, info(1, 2, 1), 'a1', 'a1');
    r.add(b, info(1, 2, 2), 'b2', 'b2');
    expect(r.pendingSets).toBe(2);
    r.close();
  });

  it('refuses a duplicate sequence number without losing the first part', () => {
    const { r } = setup();
    const key = 'k';
    r.add(key, info(1, 2, 1), 'first', 'x');
    expect(r.add(key, info(1, 2, 1), 'again', 'y').kind).toBe('duplicate');
    const done = r.add(key, info(1, 2, 2), ' second', 'z');
    expect(done.kind === 'complete' && done.set.text).toBe('first second');
    r.close();
  });

  it('flushes an incomplete set after the timeout with the parts that arrived', () => {
    const { r, flushed, tick } = setup({ timeoutMs: 30_000 });
    r.add('k1', info(1, 3, 2), 'middle', 'm');
    tick(10_000);
    r.add('k2', info(2, 2, 1), 'young', 'y');
    tick(20_001);
    r.sweep();
    expect(flushed).toHaveLength(1);
    expect(flushed[0]!.reason).toBe('timeout');
    expect(flushed[0]!.set.complete).toBe(false);
    expect(flushed[0]!.set.parts.map((p) => p.item)).toEqual(['m']);
    expect(r.pendingSets).toBe(1);
    r.close();
  });

  it('bounds memory: past maxPendingSets the oldest set is flushed early, not dropped', () => {
    const { r, flushed } = setup({ maxPendingSets: 100 });
    for (let i = 0; i < 250; i++) r.add(`k${i}`, info(i & 0xff, 2, 1), `t${i}`, `p${i}`);
    expect(r.pendingSets).toBe(100);
    expect(flushed).toHaveLength(150);
    expect(flushed.every((f) => f.reason === 'evicted')).toBe(true);
    expect(flushed[0]!.set.parts[0]!.item).toBe('p0');
    r.flushAll();
    expect(flushed).toHaveLength(250);
    expect(r.pendingSets).toBe(0);
  });

  it('removes the parts of an ESME that went away', () => {
    const { r } = setup();
    r.add('k', info(1, 3, 1), 'a', 'esme1:1');
    r.add('k', info(1, 3, 2), 'b', 'esme2:1');
    expect(r.remove((item) => item.startsWith('esme1'))).toEqual(['esme1:1']);
    expect(r.pendingParts).toBe(1);
    r.close();
  });

  it('treats total 1, seq 0 and seq past total as a single message', () => {
    expect(isMultipart(info(1, 1, 1))).toBe(false);
    expect(isMultipart(info(1, 3, 0))).toBe(false);
    expect(isMultipart(info(1, 3, 4))).toBe(false);
    expect(isMultipart(info(1, 3, 3))).toBe(true);
    expect(isMultipart(undefined)).toBe(false);
  });
});
