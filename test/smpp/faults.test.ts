/**
 * Faults with real peers, counted: every message the ESME sent ends delivered exactly once (the
 * SMSC acknowledged it and the ESME saw that id), held once in a spam box, or refused with an
 * error the ESME saw; nothing the ESME saw acknowledged is missing at the SMSC.
 */
import smpp from 'smpp';
import { afterEach, describe, expect, it } from 'vitest';
import { SmscSimulator, type EsmeClient, type SubmitResult } from '../../src/smpp/sim.js';
import { gsmSubmit, startStack, waitFor, type Stack } from './harness.js';

const E = smpp.errors;
let stack: Stack | undefined;
let extraSim: SmscSimulator | undefined;

afterEach(async () => {
  await stack?.stop();
  await extraSim?.close();
  stack = undefined;
  extraSim = undefined;
});

const N = 1000;
const RECIPIENT = '+447700900002';

/** Message i: mostly clean, every 10th blocked, every 7th (not 10th) quarantined; each text unique. */
function textOf(i: number): string {
  if (i % 10 === 0) return `forbidden offer number ${i}`;
  if (i % 7 === 0) return `claim your cash prize ticket ${i}`;
  return `order ${i} is on its way`;
}

function burst(esme: EsmeClient, indexes: readonly number[]): Promise<SubmitResult>[] {
  return indexes.map((i) => esme.submit(gsmSubmit('+447700900001', RECIPIENT, textOf(i))));
}

/** The same, paced: `perTick` submits every 2 ms, so a fault can land in the middle. */
function pacedBurst(esme: EsmeClient, indexes: readonly number[], perTick = 10): Promise<SubmitResult>[] {
  return indexes.map(
    (i, k) =>
      new Promise<SubmitResult>((resolve) => {
        setTimeout(() => resolve(esme.submit(gsmSubmit('+447700900001', RECIPIENT, textOf(i)))), 2 * Math.floor(k / perTick));
      }),
  );
}

interface Tally {
  delivered: Map<number, string>;
  quarantined: Map<number, string>;
  refused: Map<number, number>;
  unanswered: number[];
}

function tally(indexes: readonly number[], results: readonly SubmitResult[]): Tally {
  const t: Tally = { delivered: new Map(), quarantined: new Map(), refused: new Map(), unanswered: [] };
  results.forEach((r, k) => {
    const i = indexes[k]!;
    if (r.status === undefined) t.unanswered.push(i);
    else if (r.status !== 0) t.refused.set(i, r.status);
    else if (r.messageId.startsWith('SGQ')) t.quarantined.set(i, r.messageId);
    else t.delivered.set(i, r.messageId);
  });
  return t;
}

function simCounts(sim: SmscSimulator): Map<string, number> {
  const counts = new Map<string, number>();
  for (const m of sim.received) counts.set(m.text, (counts.get(m.text) ?? 0) + 1);
  return counts;
}

describe('SMPP proxy under faults', () => {
  it('the SMSC dropping the connection mid-burst: every ESME_ROK is at the SMSC exactly once, the rest refused with errors the ESME saw', async () => {
    stack = await startStack();
    const esme = await stack.esme();
    const all = Array.from({ length: N }, (_, i) => i);
    stack.sim.dropAfter(300);
    const first = tally(all, await Promise.all(pacedBurst(esme, all)));

    const simById = new Map(stack.sim.received.map((m) => [m.messageId, m]));
    expect(first.unanswered).toEqual([]); // the ESME's own link never broke
    expect(first.delivered.size + first.quarantined.size + first.refused.size).toBe(N);
    for (const [i, id] of first.delivered) expect(simById.get(id)?.text).toBe(textOf(i));
    // Refusals: blocked by the filter, or temporary errors for the SMSC outage (never ESME_ROK).
    const statuses = new Set(first.refused.values());
    for (const s of statuses) expect([E.ESME_RSUBMITFAIL, E.ESME_RSYSERR, E.ESME_RTHROTTLED]).toContain(s);
    expect(statuses.has(E.ESME_RSYSERR) || statuses.has(E.ESME_RTHROTTLED)).toBe(true);
    // The SMSC holds no message the ESME was told was blocked, held or throttled. What it holds beyond
    // the acknowledged ones can only be messages answered ESME_RSYSERR (the SMSC took them, its answer
    // died with the link): SMPP cannot tell those apart, so the ESME is told to retry.
    const ambiguous = stack.sim.received.filter((m) => ![...first.delivered.values()].includes(m.messageId));
    for (const m of ambiguous) {
      const i = Number(/(\d+)/.exec(m.text)![1]);
      expect(first.refused.get(i)).toBe(E.ESME_RSYSERR);
    }
    for (const [i] of first.quarantined) expect(textOf(i)).toMatch(/claim your cash prize/);
    expect(stack.service.listSpamBox(RECIPIENT, { limit: 1000 }).total).toBe(first.quarantined.size);

    // The proxy reconnects and re-binds by itself; the ESME retries what got a temporary error.
    await waitFor('the proxy to re-bind', () => stack!.proxy.upstreamState === 'bound');
    const retry = [...first.refused].filter(([, s]) => s !== E.ESME_RSUBMITFAIL).map(([i]) => i);
    const second = tally(retry, await Promise.all(burst(esme, retry)));
    // Messages refused while the link was down were never judged; now the blocked ones are blocked.
    const blockedNow = [...second.refused.values()];
    expect(blockedNow.every((s) => s === E.ESME_RSUBMITFAIL)).toBe(true);
    expect(second.delivered.size + second.quarantined.size + blockedNow.length).toBe(retry.length);

    const clean = all.filter((i) => i % 10 !== 0 && i % 7 !== 0);
    const counts = simCounts(stack.sim);
    for (const i of clean) expect(counts.get(textOf(i)), textOf(i)).toBeGreaterThanOrEqual(1);
    const duplicates = [...counts.values()].filter((c) => c > 1).length;
    expect(duplicates).toBeLessThanOrEqual(ambiguous.length);
    console.info(`SMSC drop after 300 of ${N}: delivered ${first.delivered.size}, held ${first.quarantined.size}, refused ${first.refused.size} (${[...statuses].map((s) => '0x' + s.toString(16)).join(', ')}), at the SMSC with lost answer ${ambiguous.length}; after retry all ${clean.length} clean messages delivered, duplicates ${duplicates}`);
  });

  it('the proxy restarted mid-burst: each message delivered once, held once, refused, or never read (and then absent everywhere)', async () => {
    stack = await startStack();
    let esme = await stack.esme();
    const all = Array.from({ length: N }, (_, i) => i);
    let answered = 0;
    const promises = pacedBurst(esme, all, 2).map((p) => p.then((r) => (answered++, r)));
    await waitFor('300 answers', () => answered >= 300);
    const restarting = stack.restartProxy();
    const first = tally(all, await Promise.all(promises));
    await restarting;

    expect(first.delivered.size + first.quarantined.size + first.refused.size + first.unanswered.length).toBe(N);
    // With a clean stop nothing is ambiguous: the SMSC holds exactly the acknowledged messages.
    expect(stack.sim.received.map((m) => m.messageId).sort()).toEqual([...first.delivered.values()].sort());
    for (const [i, id] of first.delivered) expect(stack.sim.received.find((m) => m.messageId === id)!.text).toBe(textOf(i));
    const held = stack.service.listSpamBox(RECIPIENT, { limit: 1000 });
    expect(held.total).toBe(first.quarantined.size);
    const heldTexts = new Set(held.items.map((h) => h.text));
    for (const i of first.unanswered) {
      expect(heldTexts.has(textOf(i))).toBe(false);
      expect(stack.sim.received.some((m) => m.text === textOf(i))).toBe(false);
    }
    for (const s of new Set(first.refused.values())) expect([E.ESME_RSUBMITFAIL, E.ESME_RTHROTTLED]).toContain(s);

    // The ESME reconnects to the new proxy and resends what was not answered or was throttled.
    esme = await stack.esme();
    const retry = [...first.unanswered, ...[...first.refused].filter(([, s]) => s === E.ESME_RTHROTTLED).map(([i]) => i)];
    const second = tally(retry, await Promise.all(burst(esme, retry)));
    expect(second.unanswered).toEqual([]);

    const delivered = new Map([...first.delivered, ...second.delivered]);
    const quarantined = new Map([...first.quarantined, ...second.quarantined]);
    const blocked = [...first.refused, ...second.refused].filter(([, s]) => s === E.ESME_RSUBMITFAIL);
    expect(delivered.size + quarantined.size + blocked.length).toBe(N);
    const counts = simCounts(stack.sim);
    expect(stack.sim.received).toHaveLength(delivered.size);
    expect([...counts.values()].every((c) => c === 1)).toBe(true);
    expect(stack.service.listSpamBox(RECIPIENT, { limit: 1000 }).total).toBe(quarantined.size);
    console.info(`proxy restart after 300 of ${N} answers: first pass delivered ${first.delivered.size}, held ${first.quarantined.size}, refused ${first.refused.size}, unread ${first.unanswered.length}; after resending: delivered ${delivered.size}, held ${quarantined.size}, blocked ${blocked.length}, duplicates 0`);
  });

  it('with the SMSC down: an in-flight submit gets ESME_RSYSERR, new ones ESME_RTHROTTLED, and service resumes after the re-bind', async () => {
    stack = await startStack();
    const esme = await stack.esme();
    const port = stack.sim.port;
    stack.sim.dropAfter(1);
    const inFlight = await esme.submit(gsmSubmit('+447700900001', RECIPIENT, 'lost with the link'));
    expect(inFlight.status).toBe(E.ESME_RSYSERR);
    await stack.sim.close();
    await waitFor('the proxy to see the link down', () => stack!.proxy.upstreamState !== 'bound');
    const down = await esme.submit(gsmSubmit('+447700900001', RECIPIENT, 'while down'));
    expect(down.status).toBe(E.ESME_RTHROTTLED);
    extraSim = new SmscSimulator({ port });
    await extraSim.start();
    await waitFor('the proxy to re-bind', () => stack!.proxy.upstreamState === 'bound');
    const back = await esme.submit(gsmSubmit('+447700900001', RECIPIENT, 'after the re-bind'));
    expect(back.status).toBe(0);
    expect(extraSim.received.map((m) => [m.messageId, m.text])).toEqual([[back.messageId, 'after the re-bind']]);
  });
});
