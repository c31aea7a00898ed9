import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEngine } from '../../src/engine/engine.js';
import { createSubscriberService } from '../../src/service/index.js';
import type { SubscriberService } from '../../src/service/types.js';
import { call, N1, N2, SPAM_TEXT, start, SUB1, SUB2, type Running } from './helpers.js';

const E1 = encodeURIComponent(N1);
const E2 = encodeURIComponent(N2);
const SERVICE_NUMBER = '+447700900500';

describe('HTTP API with the subscriber service', () => {
  let r: Running;
  let service: SubscriberService;
  beforeAll(async () => {
    const engine = createEngine();
    const dir = mkdtempSync(join(tmpdir(), 'spamgate-http-'));
    service = createSubscriberService({ engine, dbPath: join(dir, 'spamgate.db'), feedbackRate: { perHour: 4, perDay: 10 }, serviceNumber: SERVICE_NUMBER });
    r = await start({ engine, service });
  });
  afterAll(async () => {
    await r.close();
    service.close();
  });

  it("a subscriber's life cycle: set rules, a check quarantines, list the spam box, release, feedback", async () => {
    const put = await call(r, 'PUT', `/v1/subscribers/${E1}/rules`, {
      token: SUB1,
      body: { block: ['0900*'], allow: ['+447700900123'], keywords: ['prize draw'], quiet: [], enabled: true },
    });
    expect(put.status).toBe(200);
    expect(put.json.rules.block).toEqual(['0900*']);
    expect((await call(r, 'GET', `/v1/subscribers/${E1}/rules`, { token: SUB1 })).json.rules.keywords).toEqual(['prize draw']);

    const added = await call(r, 'POST', `/v1/subscribers/${E1}/rules/block`, { token: SUB1, body: { value: 'PRIZEDRAW' } });
    expect(added.json.rules.block).toEqual(['0900*', 'PRIZEDRAW']);
    const removed = await call(r, 'DELETE', `/v1/subscribers/${E1}/rules/keywords?value=${encodeURIComponent('prize draw')}`, { token: SUB1 });
    expect(removed.status).toBe(200);
    expect(removed.json.rules.keywords).toEqual([]);

    const check = await call(r, 'POST', '/v1/check', { body: { id: 'smpp-1', from: '09001234567', to: '07700 900001', text: 'hello from a premium line' } });
    expect(check.status).toBe(200);
    expect(check.json).toMatchObject({ id: 'smpp-1', action: 'quarantine', outcome: 'quarantined' });
    expect(check.json.reasons[0].rule).toBe('SUBSCRIBER_BLOCK');
    const id = check.json.spamBoxId as number;
    expect(id).toBeGreaterThan(0);

    const box = await call(r, 'GET', `/v1/subscribers/${E1}/spambox?limit=10`, { token: SUB1 });
    expect(box.status).toBe(200);
    expect(box.json).toMatchObject({ subscriber: N1, total: 1, limit: 10, offset: 0 });
    expect(box.json.items[0]).toMatchObject({ id, from: '+449001234567', text: 'hello from a premium line', messageId: 'smpp-1' });
    const one = await call(r, 'GET', `/v1/subscribers/${E1}/spambox/${id}`, { token: SUB1 });
    expect(one.json.verdict.action).toBe('quarantine');

    const fb = await call(r, 'POST', '/v1/feedback', { token: SUB1, body: { subscriber: N1, label: 'ham', spamBoxId: id } });
    expect(fb.status).toBe(200);
    expect(fb.json).toMatchObject({ subscriber: N1, label: 'ham', accepted: true, relabelled: false });

    const released = await call(r, 'POST', `/v1/subscribers/${E1}/spambox/${id}/release`, { token: SUB1 });
    expect(released.status).toBe(200);
    expect(released.json.released).toMatchObject({ id, text: 'hello from a premium line' });
    expect((await call(r, 'GET', `/v1/subscribers/${E1}/spambox/${id}`, { token: SUB1 })).status).toBe(404);
    expect((await call(r, 'POST', `/v1/subscribers/${E1}/spambox/${id}/release`, { token: SUB1 })).status).toBe(404);
    expect((await call(r, 'GET', `/v1/subscribers/${E1}/spambox`, { token: SUB1 })).json.total).toBe(0);
    expect(r.api.metrics.messages.get({ action: 'quarantine', outcome: 'quarantined' })).toBe(1);
    expect(r.api.metrics.ruleHits.get({ rule: 'SUBSCRIBER_BLOCK' })).toBe(1);
  });

  it('deletes a held message once, and a batch check stores what it quarantines', async () => {
    const batch = await call(r, 'POST', '/v1/check/batch', {
      body: { messages: [{ from: '09001234567', to: N1, text: 'one' }, { from: '+447700900123', to: N1, text: 'allowed friend' }, { from: '0900 111222', to: N1, text: 'two' }] },
    });
    const results = batch.json.results;
    expect(results.map((x: { outcome: string }) => x.outcome)).toEqual(['quarantined', 'deliver', 'quarantined']);
    expect(results[1].reasons[0].rule).toBe('SUBSCRIBER_ALLOW');
    const box = await call(r, 'GET', `/v1/subscribers/${E1}/spambox?limit=1&offset=1`, { token: SUB1 });
    expect(box.json.total).toBe(2);
    expect(box.json.items).toHaveLength(1);
    const id = results[0].spamBoxId;
    expect((await call(r, 'DELETE', `/v1/subscribers/${E1}/spambox/${id}`, { token: SUB1 })).json).toEqual({ id, deleted: true });
    expect((await call(r, 'DELETE', `/v1/subscribers/${E1}/spambox/${id}`, { token: SUB1 })).status).toBe(404);
  });

  it('a subscriber token gets 403 on every other number; the operator may act on any', async () => {
    const other: Array<[string, string, unknown?]> = [
      ['GET', `/v1/subscribers/${E2}/rules`],
      ['PUT', `/v1/subscribers/${E2}/rules`, { block: ['0900*'] }],
      ['DELETE', `/v1/subscribers/${E2}/rules`],
      ['POST', `/v1/subscribers/${E2}/rules/block`, { value: '0900*' }],
      ['DELETE', `/v1/subscribers/${E2}/rules/block`, { value: '0900*' }],
      ['GET', `/v1/subscribers/${E2}/spambox`],
      ['GET', `/v1/subscribers/${E2}/spambox/1`],
      ['POST', `/v1/subscribers/${E2}/spambox/1/release`],
      ['DELETE', `/v1/subscribers/${E2}/spambox/1`],
    ];
    for (const [method, path, body] of other) {
      const res = await call(r, method, path, { token: SUB1, body });
      expect(res.status, `${method} ${path}`).toBe(403);
      expect(res.json.error.code).toBe('forbidden');
    }
    const fb = await call(r, 'POST', '/v1/feedback', { token: SUB1, body: { subscriber: N2, label: 'spam', spamBoxId: 1 } });
    expect(fb.status).toBe(403);
    // The same number written another way is still their own.
    expect((await call(r, 'GET', `/v1/subscribers/${encodeURIComponent('07700 900001')}/rules`, { token: SUB1 })).status).toBe(200);
    expect((await call(r, 'GET', `/v1/subscribers/${E1}/rules`, { token: SUB2 })).status).toBe(403);
    const op = await call(r, 'PUT', `/v1/subscribers/${E2}/rules`, { body: { keywords: ['casino'] } });
    expect(op.status).toBe(200);
    expect(op.json.rules).toEqual({ block: [], allow: [], keywords: ['casino'], quiet: [], enabled: true });
    const list = await call(r, 'GET', '/v1/subscribers?limit=10');
    expect(list.json.items).toEqual(expect.arrayContaining([N1, N2]));
  });

  it('refuses bad rules, numbers, ids and lists with errors naming the field', async () => {
    const cases: Array<[string, string, unknown, number, string | undefined, RegExp]> = [
      ['PUT', `/v1/subscribers/${E1}/rules`, { block: [1] }, 400, 'block[0]', /block\[0\]/],
      ['PUT', `/v1/subscribers/${E1}/rules`, { blocks: [] }, 400, undefined, /unknown key 'blocks'.*did you mean 'block'/],
      ['PUT', `/v1/subscribers/${E1}/rules`, { quiet: [{ from: '25:00', to: '07:00' }] }, 400, 'quiet[0]', /quiet\[0\]/],
      ['PUT', `/v1/subscribers/${E1}/rules`, { keywords: Array.from({ length: 500 }, (_, i) => `word${i}`) }, 400, 'rules', /too many rules: 500/],
      ['POST', `/v1/subscribers/${E1}/rules/block`, { value: '' }, 400, 'value', /non-empty/],
      ['POST', `/v1/subscribers/${E1}/rules/block`, {}, 400, 'value', /required/],
      ['POST', `/v1/subscribers/${E1}/rules/colours`, { value: 'x' }, 404, 'list', /expected block, allow or keywords/],
      ['GET', `/v1/subscribers/abc/rules`, undefined, 400, 'number', /not a subscriber number/],
      ['GET', `/v1/subscribers/%E0%A4%A/rules`, undefined, 400, 'number', /malformed URL escape/],
      ['GET', `/v1/subscribers/${E1}/spambox/abc`, undefined, 400, 'id', /positive integer/],
      ['GET', `/v1/subscribers/${E1}/spambox?limit=0`, undefined, 400, 'limit', /from 1 to 1000/],
      ['GET', `/v1/subscribers/${E1}/spambox?offset=-1`, undefined, 400, 'offset', /integer/],
      ['POST', '/v1/feedback', { subscriber: N1, label: 'maybe', spamBoxId: 1 }, 400, 'label', /'spam' or 'ham'/],
      ['POST', '/v1/feedback', { subscriber: N1, label: 'spam' }, 400, 'spamBoxId', /exactly one/],
      ['POST', '/v1/feedback', { subscriber: N1, label: 'spam', spamBoxId: 999999 }, 404, 'spamBoxId', /no message 999999/],
      ['POST', '/v1/feedback', { subscriber: N1, label: 'spam', message: { from: 'X', to: N2, text: 'hi' } }, 400, 'message.to', /not to \+447700900001/],
      ['POST', '/v1/feedback', { subscriber: N1, label: 'spam', message: { from: 'X', text: 5 } }, 400, 'message.text', /expected a string/],
    ];
    for (const [method, path, body, status, field, message] of cases) {
      const res = await call(r, method, path, { body });
      expect(res.status, `${method} ${path} ${JSON.stringify(body)?.slice(0, 80)}`).toBe(status);
      if (field !== undefined) expect(res.json.error.field, path).toBe(field);
      expect(res.json.error.message).toMatch(message);
    }
    const huge = await call(r, 'PUT', `/v1/subscribers/${E1}/rules`, { body: { keywords: ['x'.repeat(70 * 1024)] } });
    expect(huge.status).toBe(413);
    expect((await call(r, 'GET', `/v1/subscribers/${E1}/rules`)).json.rules.block).toEqual(['0900*', 'PRIZEDRAW']);
  });

  it('feedback on a delivered message is accepted, and past the rate limit answers 429', async () => {
    let status = 0;
    const statuses: number[] = [];
    for (let i = 0; i < 8 && status !== 429; i++) {
      const res = await call(r, 'POST', '/v1/feedback', { token: SUB1, body: { subscriber: N1, label: 'spam', message: { from: '+447700900777', text: `${SPAM_TEXT} #${i}` } } });
      status = res.status;
      statuses.push(status);
      if (status === 429) expect(res.json.error.code).toBe('rate_limited');
    }
    expect(statuses[0]).toBe(200);
    expect(statuses.at(-1)).toBe(429);
  });

  it('messages to the service number are commands: the check answers with the reply SMS', async () => {
    const res = await call(r, 'POST', '/v1/check', { body: { from: N2, to: SERVICE_NUMBER, text: 'block 0900*' } });
    expect(res.status).toBe(200);
    expect(res.json.command.reply.length).toBeGreaterThan(0);
    expect(res.json.command.reply.length).toBeLessThanOrEqual(160);
    expect((await call(r, 'GET', `/v1/subscribers/${E2}/rules`)).json.rules.block).toContain('0900*');
  });

  it('DELETE …/rules removes the subscriber; a second time is 404', async () => {
    expect((await call(r, 'DELETE', `/v1/subscribers/${E2}/rules`, { token: SUB2 })).json).toEqual({ subscriber: N2, deleted: true });
    expect((await call(r, 'DELETE', `/v1/subscribers/${E2}/rules`, { token: SUB2 })).status).toBe(404);
    expect((await call(r, 'GET', `/v1/subscribers/${E2}/rules`, { token: SUB2 })).status).toBe(404);
  });
});
