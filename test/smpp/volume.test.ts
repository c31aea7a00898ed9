/**
 * Volume and campaign rules (X.1231) seen through the proxy: a bulk sender and a campaign of
 * near-identical texts, each message counted to its fate.
 */
import smpp from 'smpp';
import { afterEach, describe, expect, it } from 'vitest';
import type { SubmitResult } from '../../src/smpp/sim.js';
import { gsmSubmit, startStack, type Stack } from './harness.js';

const E = smpp.errors;
let stack: Stack | undefined;

afterEach(async () => {
  await stack?.stop();
  stack = undefined;
});

const VOLUME_RULES = `
rules:
  - id: BULK_SENDER
    description: one sender blasting messages
    rate: { per: sender, min: 20, window: 1m }
    action: block
  - id: CAMPAIGN_TEXT
    description: the same text, names and numbers changed, to many recipients from several senders
    campaign: { min_recipients: 40, min_senders: 5, window: 1h }
    action: quarantine
`;

const NAMES = ['Alice', 'Bob', 'Chen', 'Dara', 'Eve', 'Farid', 'Gita', 'Hugo', 'Ines', 'Jon'];

describe('SMPP proxy with volume and campaign rules', () => {
  it('a bulk sender trips the rate rule: the first 19 pass, the rest are refused', async () => {
    stack = await startStack({ rules: VOLUME_RULES });
    const esme = await stack.esme();
    const results: SubmitResult[] = [];
    for (let i = 0; i < 50; i++) {
      results.push(await esme.submit(gsmSubmit('+447700911111', `+4477009${String(20000 + i)}`, `Reminder ${i}: your appointment is at ${9 + (i % 8)}:00`)));
    }
    const ok = results.filter((r) => r.status === 0);
    const blocked = results.filter((r) => r.status === E.ESME_RSUBMITFAIL);
    expect(ok.length + blocked.length).toBe(50);
    expect(ok).toHaveLength(19);
    expect(results.slice(0, 19).every((r) => r.status === 0)).toBe(true);
    expect(stack.sim.received.map((m) => m.messageId)).toEqual(ok.map((r) => r.messageId));
    // Another sender is not affected.
    expect((await esme.submit(gsmSubmit('+447700922222', '+447700930000', 'Reminder: your appointment is at 9:00'))).status).toBe(0);
  });

  it('a campaign of 200 near-identical texts from 20 senders is held once it is seen, every message accounted for', async () => {
    stack = await startStack({ rules: VOLUME_RULES });
    const esme = await stack.esme();
    const recipients: string[] = [];
    const results: SubmitResult[] = [];
    for (let i = 0; i < 200; i++) {
      const sender = `+4477009${String(40000 + (i % 20))}`;
      const recipient = `+4477009${String(50000 + i)}`;
      recipients.push(recipient);
      const text = `Hi ${NAMES[i % NAMES.length]}, your parcel ${100000 + i * 37} is waiting. Pay the ${(1 + (i % 3)).toFixed(2)} GBP redelivery fee at parcel-desk.example/p/${i * 7919} today`;
      results.push(await esme.submit(gsmSubmit(sender, recipient, text)));
    }
    const delivered = results.filter((r) => r.status === 0 && !r.messageId.startsWith('SGQ'));
    const held = results.filter((r) => r.status === 0 && r.messageId.startsWith('SGQ'));
    expect(delivered.length + held.length).toBe(200);
    // The campaign is recognised once 40 recipients have had it: the early ones went out, the rest are held.
    expect(held.length).toBeGreaterThanOrEqual(150);
    expect(results.slice(0, 30).every((r) => !r.messageId.startsWith('SGQ'))).toBe(true);
    expect(stack.sim.received).toHaveLength(delivered.length);
    let inBoxes = 0;
    for (const r of recipients) inBoxes += stack.service.listSpamBox(r).total;
    expect(inBoxes).toBe(held.length);
    console.info(`campaign of 200 from 20 senders: delivered ${delivered.length} before it was recognised, held ${held.length}`);
  });
});
