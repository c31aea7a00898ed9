/**
 * Faults with real peers, counted: every message the ESME sent ends delivered exactly once (the
 * SMSC acknowledged it and the ESME saw that id), held once in a spam box, or refused with an
 * error the ESME saw; nothing the ESME saw acknowledged is missing at the SMSC.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pino } from 'pino';
import smpp from 'smpp';
import { afterEach, describe, expect, it } from 'vitest';
import { createEngine } from '../../src/engine/engine.js';
import { loadRuleSet } from '../../src/rules/load.js';
import { createSubscriberService } from '../../src/service/index.js';
import { EsmeClient, SmscSimulator, type SubmitResult } from '../../src/smpp/sim.js';
import { DEFAULT_CONFIG, gsmSubmit, startStack, TEST_RULES, waitFor, type Stack } from './harness.js';

const ROOT = resolve(import.meta.dirname, '..', '..');
const MAIN = join(ROOT, 'src', 'cli', 'main.ts');

/** `spamgate smpp-proxy` in a child process (so it can be killed), its port read from the startup log. */
async function proxyProcess(dir: string, simPort: number): Promise<{ child: ChildProcess; port: number }> {
  const args = ['--import', 'tsx', MAIN, 'smpp-proxy', '--config', join(dir, 'proxy.yaml'), '--upstream', `127.0.0.1:${simPort}`, '--listen', '127.0.0.1:0'];
  const child = spawn(process.execPath, [...args, '--db', join(dir, 'sg.db'), '--rules', join(dir, 'rules.yaml'), '--no-watch', '--no-bayes'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  await waitFor(`the proxy process to bind upstream:\n${out}`, () => out.includes('bound to the SMSC') || child.exitCode !== null, 30_000);
  const m = /"listen":"127\.0\.0\.1:(\d+)"/.exec(out);
  if (!m) throw new Error(`proxy process did not start:\n${out}`);
  return { child, port: Number(m[1]) };
}

const E = smpp.errors;
let stack: Stack | undefined;
let extraSim: SmscSimulator | undefined;
const cleanups: (() => Promise<void> | void)[] = [];

afterEach(async () => {
  await stack?.stop();
  await extraSim?.close();
  stack = undefined;
  extraSim = undefined;
  for (const c of cleanups.splice(0).reverse()) await c();
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

  it('the proxy killed (SIGKILL) mid-burst: every ESME_ROK is at the SMSC or in the spam box; what was unanswered is resent and counted', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'spamgate-smpp-crash-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    writeFileSync(join(dir, 'proxy.yaml'), DEFAULT_CONFIG);
    writeFileSync(join(dir, 'rules.yaml'), TEST_RULES);
    const sim = new SmscSimulator();
    await sim.start();
    cleanups.push(() => sim.close());
    const first = await proxyProcess(dir, sim.port);
    cleanups.push(() => void first.child.kill('SIGKILL'));
    let esme = await EsmeClient.connect('127.0.0.1', first.port, { systemId: 'shop', password: 's3cret' });
    cleanups.push(() => esme.destroy());
    const all = Array.from({ length: N }, (_, i) => i);
    let answered = 0;
    const promises = pacedBurst(esme, all, 2).map((p) => p.then((r) => (answered++, r)));
    await waitFor('300 answers', () => answered >= 300, 30_000);
    first.child.kill('SIGKILL');
    const t = tally(all, await Promise.all(promises));
    await waitFor('the simulator to see the link die', () => sim.boundSessions === 0);

    expect(t.delivered.size + t.quarantined.size + t.refused.size + t.unanswered.length).toBe(N);
    expect(t.unanswered.length).toBeGreaterThan(0);
    // Nothing acknowledged that was not forwarded or stored.
    const simById = new Map(sim.received.map((m) => [m.messageId, m]));
    for (const [i, id] of t.delivered) expect(simById.get(id)?.text).toBe(textOf(i));
    const engine = createEngine({ rules: loadRuleSet(join(dir, 'rules.yaml')) });
    const service = createSubscriberService({ engine, dbPath: join(dir, 'sg.db'), modelPath: false, logger: pino({ level: 'silent' }) });
    const heldTexts = new Set(service.listSpamBox(RECIPIENT, { limit: 1000 }).items.map((h) => h.text));
    service.close();
    for (const [i] of t.quarantined) expect(heldTexts.has(textOf(i))).toBe(true);
    // What died unanswered may have reached the SMSC or the spam box already: SMPP cannot say.
    const atSmsc = new Set(sim.received.map((m) => m.text));
    const forwardedUnanswered = t.unanswered.filter((i) => atSmsc.has(textOf(i)));
    const storedUnanswered = t.unanswered.filter((i) => heldTexts.has(textOf(i)));

    // A new proxy; the ESME resends what it never heard back about.
    const second = await proxyProcess(dir, sim.port);
    cleanups.push(() => void second.child.kill('SIGKILL'));
    esme = await EsmeClient.connect('127.0.0.1', second.port, { systemId: 'shop', password: 's3cret' });
    const retried = tally(t.unanswered, await Promise.all(burst(esme, t.unanswered)));
    expect(retried.unanswered).toEqual([]);
    const counts = simCounts(sim);
    const duplicates = [...counts].filter(([, c]) => c > 1).map(([text]) => text);
    // The only messages the SMSC has twice are those forwarded before the crash whose answer died with it.
    expect(duplicates.sort()).toEqual(forwardedUnanswered.map(textOf).sort());
    for (const c of counts.values()) expect(c).toBeLessThanOrEqual(2);
    console.info(
      `proxy SIGKILL after 300 of ${N} answers: delivered ${t.delivered.size}, held ${t.quarantined.size}, refused ${t.refused.size}, unanswered ${t.unanswered.length} ` +
        `(of which already at the SMSC ${forwardedUnanswered.length}, already held ${storedUnanswered.length}); after resending: ${duplicates.length} duplicates at the SMSC, all of them among those`,
    );
    await esme.unbind();
    second.child.kill('SIGTERM');
  });
});
