import { writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { pino } from 'pino';
import smpp from 'smpp';
import { afterEach, describe, expect, it } from 'vitest';
import { watchRules } from '../../src/engine/reload.js';
import { createEngine } from '../../src/engine/engine.js';
import { loadRuleSet } from '../../src/rules/load.js';
import { parsePrometheusText } from '../../src/server/metrics.js';
import { createSubscriberService } from '../../src/service/index.js';
import { concatUdh, encodeShortMessage } from '../../src/smpp/codec.js';
import { gsmSubmit, startStack, TEST_RULES, waitFor, type Stack } from './harness.js';

const E = smpp.errors;
let stack: Stack | undefined;

afterEach(async () => {
  await stack?.stop();
  stack = undefined;
});

const SENDER = '+447700900001';
const RECIPIENT = '+447700900002';

describe('SMPP proxy: verdicts', () => {
  it('forwards a clean message and relays the SMSC message id to the ESME', async () => {
    stack = await startStack();
    const esme = await stack.esme();
    const r = await esme.submit(gsmSubmit(SENDER, RECIPIENT, 'See you at 6 by the station'));
    expect(r.status).toBe(E.ESME_ROK);
    expect(stack.sim.received).toHaveLength(1);
    expect(r.messageId).toBe(stack.sim.received[0]!.messageId);
    expect(stack.sim.received[0]).toMatchObject({ source: SENDER, destination: RECIPIENT, text: 'See you at 6 by the station', systemId: 'proxy' });
  });

  it('refuses a blocked message with ESME_RSUBMITFAIL and does not forward it', async () => {
    stack = await startStack();
    const esme = await stack.esme();
    const r = await esme.submit(gsmSubmit(SENDER, RECIPIENT, 'A forbidden offer just for you'));
    expect(r.status).toBe(E.ESME_RSUBMITFAIL);
    expect(stack.sim.received).toHaveLength(0);
  });

  it('answers a quarantined message with ESME_ROK and a proxy id, and holds it in the recipient spam box', async () => {
    stack = await startStack();
    const esme = await stack.esme();
    const r = await esme.submit(gsmSubmit(SENDER, RECIPIENT, 'Hurry and claim your cash prize today'));
    expect(r.status).toBe(E.ESME_ROK);
    expect(r.messageId).toMatch(/^SGQ\d+$/);
    expect(stack.sim.received).toHaveLength(0);
    const box = stack.service.listSpamBox(RECIPIENT);
    expect(box.total).toBe(1);
    expect(box.items[0]).toMatchObject({ from: SENDER, text: 'Hurry and claim your cash prize today' });
    expect(r.messageId).toBe(`SGQ${box.items[0]!.id}`);
  });

  it('answers a quarantined message with the configured error instead, when configured', async () => {
    stack = await startStack({ config: 'upstream: { system_id: p, password: p }\nesmes: [{ system_id: shop, password: s3cret }]\nactions: { quarantine_status: 0x45, block_status: 0x58 }\n' });
    const esme = await stack.esme();
    expect((await esme.submit(gsmSubmit(SENDER, RECIPIENT, 'claim your cash prize'))).status).toBe(0x45);
    expect((await esme.submit(gsmSubmit(SENDER, RECIPIENT, 'forbidden offer'))).status).toBe(0x58);
    expect(stack.service.listSpamBox(RECIPIENT).total).toBe(1);
  });

  it('forwards a tagged message marked with the configured TLV holding the score', async () => {
    stack = await startStack();
    const esme = await stack.esme();
    const r = await esme.submit(gsmSubmit(SENDER, RECIPIENT, 'Sale for a limited time only'));
    expect(r.status).toBe(E.ESME_ROK);
    const got = stack.sim.received[0]!;
    const mark = got.tlvs['5121'] as Buffer; // 0x1401
    expect(Buffer.isBuffer(mark) && mark.toString('latin1')).toMatch(/^score=/);
  });

  it('decodes GSM 03.38 extension characters and UCS-2 (with a surrogate pair) before judging', async () => {
    stack = await startStack();
    const esme = await stack.esme();
    // Braces and € are two septets each; the phrase only matches if they decode right around it.
    const gsm = await esme.submit({ ...gsmSubmit(SENDER, RECIPIENT, ''), short_message: encodeShortMessage('{forbidden offer} €5 [now]', 0x00) });
    expect(gsm.status).toBe(E.ESME_RSUBMITFAIL);
    const ucs2 = await esme.submit({ source_addr: SENDER, destination_addr: RECIPIENT, data_coding: 0x08, short_message: encodeShortMessage('😀 Claim your cash prize — Ура!', 0x08) });
    expect(ucs2.status).toBe(E.ESME_ROK);
    expect(ucs2.messageId).toMatch(/^SGQ/);
    expect(stack.service.listSpamBox(RECIPIENT).items[0]!.text).toBe('😀 Claim your cash prize — Ура!');
    const latin1 = await esme.submit({ source_addr: SENDER, destination_addr: RECIPIENT, data_coding: 0x03, short_message: Buffer.from('Café: forbidden offer!', 'latin1') });
    expect(latin1.status).toBe(E.ESME_RSUBMITFAIL);
    expect(stack.sim.received).toHaveLength(0);
  });
});

describe('SMPP proxy: concatenated messages', () => {
  const udhPart = (ref: number, total: number, seq: number, text: string, bits: 8 | 16 = 8) => ({
    source_addr: SENDER,
    destination_addr: RECIPIENT,
    data_coding: 0x00,
    esm_class: 0x40,
    short_message: encodeShortMessage(text, 0x00, { udh: concatUdh(ref, total, seq, bits) }),
  });

  it('judges spam split across 3 parts (UDH 8-bit reference) whole and refuses every part', async () => {
    stack = await startStack();
    const esme = await stack.esme();
    // No part holds the phrase on its own.
    const results = await Promise.all([udhPart(7, 3, 1, 'Today only: a forb'), udhPart(7, 3, 2, 'idden of'), udhPart(7, 3, 3, 'fer for you')].map((p) => esme.submit(p)));
    expect(results.map((r) => r.status)).toEqual([E.ESME_RSUBMITFAIL, E.ESME_RSUBMITFAIL, E.ESME_RSUBMITFAIL]);
    expect(stack.sim.received).toHaveLength(0);
    for (const text of ['Today only: a forb', 'idden of', 'fer for you']) {
      expect((await esme.submit(gsmSubmit(SENDER, RECIPIENT, text))).status).toBe(E.ESME_ROK);
    }
  });

  it('forwards every part of a clean 3-part message in order, each answered with its own SMSC id (16-bit reference, parts sent out of order)', async () => {
    stack = await startStack();
    const esme = await stack.esme();
    const texts = ['Meeting moved ', 'to room 4 at ', 'three, bring slides'];
    const order = [2, 0, 1];
    const results = await Promise.all(order.map((i) => esme.submit(udhPart(0xa1b2, 3, i + 1, texts[i]!, 16))));
    expect(results.every((r) => r.status === E.ESME_ROK)).toBe(true);
    expect(stack.sim.received.map((m) => m.text)).toEqual(texts);
    const ids = new Set(results.map((r) => r.messageId));
    expect(ids.size).toBe(3);
    for (const m of stack.sim.received) expect(ids.has(m.messageId)).toBe(true);
  });

  it('reassembles SAR-TLV parts and holds the whole message once in the spam box, acknowledging every part', async () => {
    stack = await startStack();
    const esme = await stack.esme();
    const sar = (seq: number, text: string) => gsmSubmit(SENDER, RECIPIENT, text, { sar_msg_ref_num: 513, sar_total_segments: 3, sar_segment_seqnum: seq });
    const results = await Promise.all([sar(1, 'Winner! Cl'), sar(2, 'aim your cash pr'), sar(3, 'ize at the shop')].map((p) => esme.submit(p)));
    expect(results.map((r) => r.status)).toEqual([0, 0, 0]);
    const box = stack.service.listSpamBox(RECIPIENT);
    expect(box.total).toBe(1);
    expect(box.items[0]!.text).toBe('Winner! Claim your cash prize at the shop');
    expect(results.map((r) => r.messageId)).toEqual([1, 2, 3].map((i) => `SGQ${box.items[0]!.id}-${i}`));
    expect(stack.sim.received).toHaveLength(0);
  });

  it('judges a part whose siblings never come on its own after the timeout', async () => {
    stack = await startStack({ config: 'upstream: { system_id: p, password: p }\nesmes: [{ system_id: shop, password: s3cret }]\nconcat: { timeout_seconds: 0.2 }\n' });
    const esme = await stack.esme();
    const lone = await esme.submit(udhPart(9, 2, 1, 'only the first half'));
    expect(lone.status).toBe(E.ESME_ROK);
    expect(stack.sim.received.map((m) => m.text)).toEqual(['only the first half']);
  });
});

describe('SMPP proxy: protocol', () => {
  it('refuses bad credentials and unknown system ids alike with ESME_RBINDFAIL', async () => {
    stack = await startStack();
    await expect(stack.esme({ password: 'wrong' })).rejects.toMatchObject({ status: E.ESME_RBINDFAIL });
    await expect(stack.esme({ systemId: 'nobody', password: 's3cret' })).rejects.toMatchObject({ status: E.ESME_RBINDFAIL });
  });

  it('refuses submit_sm on a receiver bind with ESME_RINVBNDSTS', async () => {
    stack = await startStack();
    const rx = await stack.esme({ bindType: 'receiver' });
    expect((await rx.submit(gsmSubmit(SENDER, RECIPIENT, 'hello'))).status).toBe(E.ESME_RINVBNDSTS);
  });

  it('answers enquire_link, generic_nack for an unknown command and for a garbled body, and keeps the bind', async () => {
    stack = await startStack();
    const port = stack.proxy.port;
    const socket = connect({ host: '127.0.0.1', port });
    const got: Buffer[] = [];
    let pending = Buffer.alloc(0);
    socket.on('data', (d: Buffer) => {
      pending = Buffer.concat([pending, d]);
      while (pending.length >= 4 && pending.length >= pending.readUInt32BE(0)) {
        got.push(pending.subarray(0, pending.readUInt32BE(0)));
        pending = pending.subarray(pending.readUInt32BE(0));
      }
    });
    await new Promise((r) => socket.once('connect', r));
    socket.write(new smpp.PDU('bind_transceiver', { system_id: 'shop', password: 's3cret', sequence_number: 1 }).toBuffer());
    socket.write(new smpp.PDU('enquire_link', { sequence_number: 2 }).toBuffer());
    const unknown = Buffer.alloc(16);
    unknown.writeUInt32BE(16, 0);
    unknown.writeUInt32BE(0x00000777, 4);
    unknown.writeUInt32BE(3, 12);
    socket.write(unknown);
    // submit_sm whose body stops in the middle of its fields
    const garbled = Buffer.from([0, 0, 0, 20, 0, 0, 0, 4, 0, 0, 0, 0, 0, 0, 0, 4, 0x41, 0x42, 0x43, 0x44]);
    socket.write(garbled);
    socket.write(new smpp.PDU('submit_sm', { sequence_number: 5, source_addr: SENDER, destination_addr: RECIPIENT, data_coding: 0, short_message: 'still bound' }).toBuffer());
    await waitFor('five answers', () => got.length >= 5);
    const head = got.map((b) => ({ id: b.readUInt32BE(4), status: b.readUInt32BE(8), seq: b.readUInt32BE(12) }));
    expect(head).toEqual([
      { id: 0x80000009, status: 0, seq: 1 },
      { id: 0x80000015, status: 0, seq: 2 },
      { id: 0x80000000, status: E.ESME_RINVCMDID, seq: 3 },
      { id: 0x80000000, status: E.ESME_RINVCMDLEN, seq: 4 },
      { id: 0x80000004, status: 0, seq: 5 },
    ]);
    socket.destroy();
  });

  it('relays query_sm to the SMSC and its answer back, and refuses data_sm (text the filter would not see)', async () => {
    stack = await startStack();
    const esme = await stack.esme();
    const sent = await esme.submit(gsmSubmit(SENDER, RECIPIENT, 'where is it?'));
    const ask = (fields: Record<string, unknown>, command = 'query_sm') =>
      new Promise<{ status: number; state: unknown }>((resolve) => esme.session.send(new smpp.PDU(command, fields), (r) => resolve({ status: r.command_status, state: r.message_state })));
    expect(await ask({ message_id: sent.messageId, source_addr: SENDER })).toEqual({ status: 0, state: 2 });
    expect((await ask({ message_id: 'nope', source_addr: SENDER })).status).toBe(E.ESME_RQUERYFAIL);
    expect((await ask({ source_addr: SENDER, destination_addr: RECIPIENT, message_payload: Buffer.from('forbidden offer') }, 'data_sm')).status).toBe(E.ESME_RINVCMDID);
    expect(stack.sim.received).toHaveLength(1);
  });

  it('hangs up on a PDU whose length cannot be framed, after a generic_nack', async () => {
    stack = await startStack();
    const socket = connect({ host: '127.0.0.1', port: stack.proxy.port });
    const chunks: Buffer[] = [];
    socket.on('data', (d: Buffer) => chunks.push(d));
    const closed = new Promise((r) => socket.once('close', r));
    await new Promise((r) => socket.once('connect', r));
    const huge = Buffer.alloc(16);
    huge.writeUInt32BE(0x7fffffff, 0);
    huge.writeUInt32BE(4, 4);
    huge.writeUInt32BE(9, 12);
    socket.write(huge);
    await closed;
    const reply = Buffer.concat(chunks);
    expect(reply.readUInt32BE(4)).toBe(0x80000000);
    expect(reply.readUInt32BE(8)).toBe(E.ESME_RINVCMDLEN);
  });

  it('throttles beyond the window: parts waiting for siblings count as outstanding', async () => {
    // A long concatenation timeout, so the two parts are surely still waiting when the third message comes.
    stack = await startStack({ config: 'upstream: { system_id: p, password: p }\nesmes: [{ system_id: shop, password: s3cret, window: 2 }]\nconcat: { timeout_seconds: 2 }\n' });
    const esme = await stack.esme();
    const waiting = [1, 2].map((seq) => esme.submit({ source_addr: SENDER, destination_addr: RECIPIENT, data_coding: 0, esm_class: 0x40, short_message: encodeShortMessage(`part ${seq}`, 0, { udh: concatUdh(1, 3, seq) }) }));
    const third = await esme.submit(gsmSubmit(SENDER, RECIPIENT, 'one more'));
    expect(third.status).toBe(E.ESME_RTHROTTLED);
    expect((await Promise.all(waiting)).map((r) => r.status)).toEqual([0, 0]);
    expect((await esme.submit(gsmSubmit(SENDER, RECIPIENT, 'room again'))).status).toBe(0);
  });

  it('throttles beyond the per-ESME rate with ESME_RTHROTTLED', async () => {
    stack = await startStack({ config: 'upstream: { system_id: p, password: p }\nesmes: [{ system_id: shop, password: s3cret, rate: 2 }]\n' });
    const esme = await stack.esme();
    const results = await Promise.all(Array.from({ length: 40 }, (_, i) => esme.submit(gsmSubmit(SENDER, RECIPIENT, `note ${i}`))));
    const ok = results.filter((r) => r.status === 0).length;
    const throttled = results.filter((r) => r.status === E.ESME_RTHROTTLED).length;
    expect(ok + throttled).toBe(40);
    expect(ok).toBeGreaterThanOrEqual(2);
    expect(ok).toBeLessThan(20); // a bucket of 2 refilled at 2/s would need 9 s to pass 20 of 40 sent at once
    expect(stack.sim.received).toHaveLength(ok);
  });

  it('waits for outstanding submits before answering unbind', async () => {
    stack = await startStack();
    const esme = await stack.esme();
    const r = esme.submit(gsmSubmit(SENDER, RECIPIENT, 'last one'));
    await esme.unbind();
    expect((await r).status).toBe(0);
    expect(esme.closed).toBe(true);
  });
});

describe('SMPP proxy: mobile-originated messages and receipts', () => {
  it('relays a clean MO message to the receiver whose addresses match and its answer back to the SMSC', async () => {
    stack = await startStack();
    const esme = await stack.esme();
    await waitFor('the simulator to see the proxy', () => stack!.sim.boundSessions > 0);
    const status = await stack.sim.deliver({ source_addr: '+447700900555', destination_addr: '87121', data_coding: 0, short_message: 'STOP' });
    expect(status).toBe(0);
    expect(esme.delivered).toHaveLength(1);
    expect(esme.delivered[0]!.destination_addr).toBe('87121');
  });

  it('refuses a spam MO message to the SMSC with ESME_RX_P_APPN and never shows it to the ESME', async () => {
    stack = await startStack();
    const esme = await stack.esme();
    const status = await stack.sim.deliver({ source_addr: '+447700900555', destination_addr: '87121', data_coding: 0, short_message: 'forbidden offer inside' });
    expect(status).toBe(E.ESME_RX_P_APPN);
    expect(esme.delivered).toHaveLength(0);
  });

  it('holds a quarantined MO message (ESME_ROK to the SMSC) and judges a 2-part MO message whole', async () => {
    stack = await startStack();
    const esme = await stack.esme();
    expect(await stack.sim.deliver({ source_addr: '+447700900555', destination_addr: '87121', data_coding: 0, short_message: 'claim your cash prize' })).toBe(0);
    expect(stack.service.listSpamBox('87121').total).toBe(1);
    const part = (seq: number, text: string) => ({ source_addr: '+447700900556', destination_addr: '87121', data_coding: 0, esm_class: 0x40, short_message: encodeShortMessage(text, 0, { udh: concatUdh(3, 2, seq) }) });
    const statuses = await Promise.all([stack.sim.deliver(part(1, 'a forbid')), stack.sim.deliver(part(2, 'den offer'))]);
    expect(statuses).toEqual([E.ESME_RX_P_APPN, E.ESME_RX_P_APPN]);
    expect(esme.delivered).toHaveLength(0);
  });

  it('executes a subscriber command sent to the service number, replies through the SMSC, and applies it', async () => {
    stack = await startStack({ serviceNumber: '88000' });
    const esme = await stack.esme();
    await waitFor('the simulator to see the proxy', () => stack!.sim.boundSessions > 0);
    const status = await stack.sim.deliver({ source_addr: RECIPIENT, destination_addr: '88000', data_coding: 0, short_message: 'BLOCK +447700900999' });
    expect(status).toBe(0);
    await waitFor('the reply', () => stack!.sim.received.length === 1);
    expect(stack.sim.received[0]).toMatchObject({ source: '88000', destination: RECIPIENT });
    expect(stack.sim.received[0]!.text).toMatch(/447700900999/);
    expect(esme.delivered).toHaveLength(0);
    const held = await esme.submit(gsmSubmit('+447700900999', RECIPIENT, 'hello again'));
    expect(held.messageId).toMatch(/^SGQ/);
  });

  it('asks the SMSC to retry (ESME_RX_T_APPN) when no receiver is bound for the address', async () => {
    stack = await startStack();
    await stack.esme({ bindType: 'transmitter' });
    expect(await stack.sim.deliver({ source_addr: '+447700900555', destination_addr: '87121', data_coding: 0, short_message: 'hello' })).toBe(E.ESME_RX_T_APPN);
  });

  it('passes delivery receipts through untouched to the ESME that submitted the message', async () => {
    stack = await startStack({ sim: { receipts: true } });
    const other = await stack.esme({ systemId: 'other', password: 'pw2' });
    const shop = await stack.esme();
    // The receipt text holds a blocked phrase: it must still pass, receipts are never filtered.
    const r = await other.submit(gsmSubmit('OTHERCO', '+15550001', 'your order forbidden offer shipped', { registered_delivery: 1 }));
    expect(r.status).toBe(E.ESME_RSUBMITFAIL);
    const ok = await other.submit(gsmSubmit('OTHERCO', '+15550001', 'your order shipped', { registered_delivery: 1 }));
    expect(ok.status).toBe(0);
    await waitFor('the receipt', () => other.delivered.length === 1);
    expect(other.delivered[0]!.esm_class).toBe(0x04);
    expect(other.delivered[0]!.receipted_message_id).toBe(ok.messageId);
    expect(shop.delivered).toHaveLength(0);
  });
});

describe('SMPP proxy: failure policy', () => {
  const throwing = (service: { process: (i: never) => never }) => ({
    process(input: { text: string }) {
      if (input.text.includes('boom')) throw new Error('filter exploded');
      return (service.process as (i: unknown) => ReturnType<typeof service.process>)(input);
    },
  });

  it('fail-closed (default): a message the filter throws on gets ESME_RSYSERR and is not forwarded', async () => {
    stack = await startStack({ filter: (s) => throwing(s as never) as never });
    const esme = await stack.esme();
    expect((await esme.submit(gsmSubmit(SENDER, RECIPIENT, 'boom'))).status).toBe(E.ESME_RSYSERR);
    expect(stack.sim.received).toHaveLength(0);
    expect((await esme.submit(gsmSubmit(SENDER, RECIPIENT, 'fine'))).status).toBe(0);
  });

  it('fail-open: a message the filter throws on is forwarded', async () => {
    stack = await startStack({ failOpen: true, filter: (s) => throwing(s as never) as never });
    const esme = await stack.esme();
    const r = await esme.submit(gsmSubmit(SENDER, RECIPIENT, 'boom'));
    expect(r.status).toBe(0);
    expect(stack.sim.received[0]!.messageId).toBe(r.messageId);
  });

  it('reports what it did on /metrics', async () => {
    stack = await startStack();
    const esme = await stack.esme();
    await esme.submit(gsmSubmit(SENDER, RECIPIENT, 'forbidden offer'));
    await esme.submit(gsmSubmit(SENDER, RECIPIENT, 'hello there'));
    const parsed = parsePrometheusText(stack.proxy.metrics.render());
    const value = (name: string, labels: Record<string, string>) =>
      parsed.samples.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value;
    expect(value('spamgate_smpp_messages_out_total', { direction: 'mt', outcome: 'blocked' })).toBe(1);
    expect(value('spamgate_smpp_messages_out_total', { direction: 'mt', outcome: 'forwarded' })).toBe(1);
    expect(value('spamgate_smpp_binds', { type: 'transceiver' })).toBe(1);
    expect(value('spamgate_smpp_upstream_bound', {})).toBe(1);
    expect(value('spamgate_smpp_added_latency_seconds_count', { direction: 'mt' })).toBe(2);
  });
});

describe('SMPP proxy: changes while bound', () => {
  it('a subscriber rule written by another process (the CLI) takes effect without a restart, on the same bind', async () => {
    stack = await startStack();
    const esme = await stack.esme();
    expect((await esme.submit(gsmSubmit('+447700900777', RECIPIENT, 'lunch at noon?'))).messageId).not.toMatch(/^SGQ/);
    const cliEngine = createEngine({ rules: loadRuleSet(join(stack.dir, 'rules.yaml')) });
    const cli = createSubscriberService({ engine: cliEngine, dbPath: join(stack.dir, 'spamgate.db'), modelPath: false, loadSubscribers: false, logger: pino({ level: 'silent' }) });
    cli.addRule(RECIPIENT, 'block', '+447700900777', { kind: 'operator', name: 'test' });
    cli.close();
    let held = '';
    const deadline = Date.now() + 5000;
    while (!held.startsWith('SGQ') && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
      held = (await esme.submit(gsmSubmit('+447700900777', RECIPIENT, 'lunch at noon?'))).messageId;
    }
    expect(held).toMatch(/^SGQ/);
    expect(esme.closed).toBe(false);
  });

  it('an operator rule file edited on disk is reloaded without dropping the bind; a broken edit is refused and the running rules stay', async () => {
    stack = await startStack();
    const esme = await stack.esme();
    const file = join(stack.dir, 'rules.yaml');
    const watcher = watchRules({ engine: stack.engine, paths: file, sighup: false, pollMs: 50, debounceMs: 20, logger: pino({ level: 'silent' }) });
    try {
      expect((await esme.submit(gsmSubmit(SENDER, RECIPIENT, 'fresh durian delivery'))).status).toBe(0);
      writeFileSync(file, TEST_RULES + '  - id: TEST_DURIAN\n    description: new\n    keywords: [durian]\n    action: block\n');
      await waitFor('the new rule', () => stack!.engine.rules.rules.some((r) => r.id === 'TEST_DURIAN'));
      expect((await esme.submit(gsmSubmit(SENDER, RECIPIENT, 'fresh durian delivery'))).status).toBe(E.ESME_RSUBMITFAIL);
      writeFileSync(file, 'rules:\n  - id: broken\n');
      await new Promise((r) => setTimeout(r, 300));
      expect((await esme.submit(gsmSubmit(SENDER, RECIPIENT, 'fresh durian delivery'))).status).toBe(E.ESME_RSUBMITFAIL);
      expect(esme.closed).toBe(false);
    } finally {
      watcher.close();
    }
  });
});
