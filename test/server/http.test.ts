import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parsePrometheusText } from '../../src/server/metrics.js';
import { call, HAM_TEXT, N1, N2, OPERATOR, SPAM_TEXT, start, SUB1, type Running } from './helpers.js';

describe('HTTP API without a subscriber store', () => {
  let r: Running;
  beforeAll(async () => {
    r = await start({ limits: { maxBodyBytes: 64 * 1024, maxBatch: 20 } });
  });
  afterAll(() => r.close());

  it('GET /healthz answers without a token', async () => {
    const res = await call(r, 'GET', '/healthz', { token: null });
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ status: 'ok', subscriberStore: false });
  });

  it('POST /v1/check returns the verdict, the outcome and the caller id', async () => {
    const spam = await call(r, 'POST', '/v1/check', { body: { id: 'm1', from: '+447700900999', to: N1, text: SPAM_TEXT } });
    expect(spam.status).toBe(200);
    expect(spam.json.id).toBe('m1');
    expect(spam.json.action).toBe('quarantine');
    expect(spam.json.outcome).toBe('hold'); // no spam box to keep it in
    expect(spam.json.reasons.map((x: { rule: string }) => x.rule)).toContain('SMS_PRIZE_CLAIM');
    const ham = await call(r, 'POST', '/v1/check', { body: { from: '+447700900999', to: N1, text: HAM_TEXT, time: '2026-11-24T10:00:00Z', channel: 'sms' } });
    expect(ham.json).toMatchObject({ action: 'deliver', outcome: 'deliver' });
    expect(ham.json.id).toBeUndefined();
  });

  it('POST /v1/check refuses bad bodies with 400 naming the field', async () => {
    const cases: Array<[unknown, string, RegExp]> = [
      [{ from: 1, to: N1, text: 'x' }, 'from', /from: expected a string, got the number 1/],
      [{ from: 'a', to: N1 }, 'text', /text: required/],
      [{ from: 'a', to: N1, text: 'x', frm: 'b' }, 'frm', /unknown field/],
      [{ from: 'a', to: N1, text: 'x', time: 'yesterday' }, 'time', /not ISO-8601/],
      [{ from: 'a', to: N1, text: 'x', channel: 'fax' }, 'channel', /expected 'sms' or 'email'/],
      [[1, 2], 'body', /expected an object, got a list/],
    ];
    for (const [body, field, message] of cases) {
      const res = await call(r, 'POST', '/v1/check', { body });
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.json.error.field).toBe(field);
      expect(res.json.error.message).toMatch(message);
      expect(res.json.error.code).toBe('invalid_request');
    }
  });

  it('malformed JSON, bad UTF-8 and an empty body are 400s, not crashes; JSON is read whatever the content type says', async () => {
    const bad = await call(r, 'POST', '/v1/check', { raw: '{"from": "a", ' });
    expect(bad.status).toBe(400);
    expect(bad.json.error.code).toBe('invalid_json');
    const utf = await call(r, 'POST', '/v1/check', { raw: Buffer.from([0x7b, 0xff, 0xfe, 0x7d]) });
    expect(utf.json.error.message).toMatch(/UTF-8/);
    const form = await call(r, 'POST', '/v1/check', { raw: 'from=a', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    expect(form.json.error.code).toBe('invalid_json');
    const curl = await call(r, 'POST', '/v1/check', { raw: JSON.stringify({ from: 'a', to: N1, text: 'hi' }), headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    expect(curl.status).toBe(200);
    const empty = await call(r, 'POST', '/v1/check', { raw: '' });
    expect(empty.status).toBe(400);
    expect(empty.json.error.message).toMatch(/expected an object/);
    expect((await call(r, 'GET', '/healthz')).status).toBe(200);
  });

  it('random bodies get 200 or a 4xx naming a field, never a 500', async () => {
    let seed = 12345;
    const rnd = (): number => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const value = (depth: number): unknown => {
      const k = Math.floor(rnd() * 9);
      if (k === 0) return null;
      if (k === 1) return rnd() < 0.5;
      if (k === 2) return Math.floor(rnd() * 2e6) - 1e6;
      if (k === 3) return '+4477009' + String(Math.floor(rnd() * 1e5)).padStart(5, '0');
      if (k === 4) return ['', ' ', '2026-11-24T10:00:00Z', 'sms', 'email', '\u0000\uffff', 'x'.repeat(300)][Math.floor(rnd() * 7)];
      if (k === 5 && depth < 3) return Array.from({ length: Math.floor(rnd() * 3) }, () => value(depth + 1));
      if (k === 6 && depth < 3) return { from: value(depth + 1), to: value(depth + 1), text: value(depth + 1) };
      return 'You have won ' + Math.floor(rnd() * 100);
    };
    const keys = ['from', 'to', 'text', 'time', 'id', 'channel'];
    const valid: Record<string, unknown> = { from: '+447700900999', to: N1, text: SPAM_TEXT, time: '2026-11-24T10:00:00Z', id: 'm1', channel: 'sms' };
    // Mostly valid fields, some random, some missing: every path from 200 to each 400.
    const message = (): Record<string, unknown> => Object.fromEntries(keys.filter(() => rnd() < 0.95).map((k) => [k, rnd() < 0.85 ? valid[k] : value(0)]));
    const seen = new Set<number>();
    for (let i = 0; i < 60; i++) {
      const single = await call(r, 'POST', '/v1/check', { body: rnd() < 0.9 ? message() : value(0) });
      expect([200, 400], JSON.stringify(single.json)).toContain(single.status);
      seen.add(single.status);
      if (single.status === 400) expect(single.json.error.field).toBeTypeOf('string');
      const batch = await call(r, 'POST', '/v1/check/batch', { body: { messages: Array.from({ length: 5 }, () => (rnd() < 0.8 ? message() : value(0))) } });
      expect(batch.status).toBe(200);
      expect(batch.json.results).toHaveLength(5);
      for (const item of batch.json.results) expect(item.action ?? item.error.field).toBeTypeOf('string');
    }
    expect([...seen].sort()).toEqual([200, 400]); // the generator reaches both paths
  });

  it('POST /v1/check/batch answers in order and reports bad items by index without failing the batch', async () => {
    const res = await call(r, 'POST', '/v1/check/batch', {
      body: {
        messages: [
          { id: 'a', from: '+447700900999', to: N1, text: SPAM_TEXT },
          { id: 'b', from: '+447700900999', to: N1, text: HAM_TEXT },
          { id: 'c', from: '+447700900999', to: N1 },
          { id: 'd', from: 7, to: N1, text: 'x' },
          'not a message',
        ],
      },
    });
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ checked: 2, failed: 3 });
    const results = res.json.results;
    expect(results.map((x: { index: number }) => x.index)).toEqual([0, 1, 2, 3, 4]);
    expect(results[0]).toMatchObject({ id: 'a', action: 'quarantine' });
    expect(results[1]).toMatchObject({ id: 'b', action: 'deliver' });
    expect(results[2].error).toEqual({ code: 'invalid_request', message: 'messages[2].text: required', field: 'messages[2].text' });
    expect(results[3].error.message).toBe('messages[3].from: expected a string, got the number 7');
    expect(results[4].error.field).toBe('messages[4]');
  });

  it('POST /v1/check/batch refuses a batch over the limit with 413 and a missing list with 400', async () => {
    const messages = Array.from({ length: 21 }, () => ({ from: 'a', to: N1, text: 'x' }));
    const over = await call(r, 'POST', '/v1/check/batch', { body: { messages } });
    expect(over.status).toBe(413);
    expect(over.json.error).toMatchObject({ code: 'batch_too_large', field: 'messages' });
    const missing = await call(r, 'POST', '/v1/check/batch', { body: { message: [] } });
    expect(missing.status).toBe(400);
    expect(missing.json.error.field).toBe('message');
  });

  it('refuses a body over the limit with 413, both by declared length and while streaming', async () => {
    const big = JSON.stringify({ from: 'a', to: N1, text: 'x'.repeat(70 * 1024) });
    const declared = await call(r, 'POST', '/v1/check', { raw: big });
    expect(declared.status).toBe(413);
    expect(declared.json.error.code).toBe('body_too_large');
    expect(declared.headers.connection).toBe('close');
    const chunked = await call(r, 'POST', '/v1/check', { raw: big, headers: { 'transfer-encoding': 'chunked' } });
    expect(chunked.status).toBe(413);
    expect((await call(r, 'GET', '/healthz')).status).toBe(200);
  });

  it('answers unknown paths with 404 and wrong methods with 405 and Allow, as JSON', async () => {
    expect((await call(r, 'GET', '//v1/check')).status).toBe(404);
    const nf = await call(r, 'GET', '/v1/nothing');
    expect(nf.status).toBe(404);
    expect(nf.json.error.code).toBe('not_found');
    const na = await call(r, 'GET', '/v1/check');
    expect(na.status).toBe(405);
    expect(na.headers.allow).toBe('POST');
    expect(na.json.error.code).toBe('method_not_allowed');
  });

  it('authentication: 401 without or with a bad token, 403 for subscriber tokens on operator endpoints', async () => {
    const none = await call(r, 'POST', '/v1/check', { token: null, body: { from: 'a', to: N1, text: 'x' } });
    expect(none.status).toBe(401);
    expect(none.headers['www-authenticate']).toMatch(/^Bearer/);
    const bad = await call(r, 'POST', '/v1/check', { token: OPERATOR + 'x', body: { from: 'a', to: N1, text: 'x' } });
    expect(bad.status).toBe(401);
    expect(bad.json.error.message).toMatch(/not valid/);
    const basic = await call(r, 'GET', '/metrics', { token: null, headers: { authorization: `Basic ${OPERATOR}` } });
    expect(basic.status).toBe(401);
    for (const [method, path] of [['POST', '/v1/check'], ['POST', '/v1/check/batch'], ['GET', '/metrics'], ['GET', '/v1/subscribers']]) {
      const res = await call(r, method!, path!, { token: SUB1, body: { from: 'a', to: N1, text: 'x' } });
      expect(res.status, `${method} ${path}`).toBe(403);
    }
  });

  it('subscriber routes answer 503 when there is no subscriber store, after checking the token', async () => {
    const res = await call(r, 'GET', `/v1/subscribers/${encodeURIComponent(N1)}/rules`, { token: SUB1 });
    expect(res.status).toBe(503);
    expect(res.json.error.code).toBe('no_subscriber_store');
    const other = await call(r, 'GET', `/v1/subscribers/${encodeURIComponent(N2)}/rules`, { token: SUB1 });
    expect(other.status).toBe(403);
  });

  it('GET /metrics parses as Prometheus text and counts messages, rule hits, latency and requests', async () => {
    const res = await call(r, 'GET', '/metrics');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
    const parsed = parsePrometheusText(res.text);
    const value = (name: string, labels: Record<string, string>) =>
      parsed.samples.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value;
    expect(parsed.types.get('spamgate_check_duration_seconds')).toBe('histogram');
    expect(value('spamgate_messages_total', { action: 'quarantine', outcome: 'hold' })).toBeGreaterThanOrEqual(2);
    expect(value('spamgate_rule_hits_total', { rule: 'SMS_PRIZE_CLAIM' })).toBeGreaterThanOrEqual(2);
    expect(value('spamgate_check_duration_seconds_count', {})).toBeGreaterThanOrEqual(4);
    expect(value('spamgate_http_requests_total', { route: '/v1/check', method: 'POST', status: '400' })).toBeGreaterThanOrEqual(6);
    expect(value('spamgate_http_requests_total', { route: 'unmatched', method: 'GET', status: '404' })).toBeGreaterThanOrEqual(1);
  });

  it('answers garbage on the socket with 400 and oversized headers with 431, and keeps serving', async () => {
    const reply = await new Promise<string>((resolve, reject) => {
      const socket = connect(r.base.port, '127.0.0.1');
      let data = '';
      socket.on('data', (d) => (data += d.toString()));
      socket.on('end', () => resolve(data));
      socket.on('error', reject);
      socket.setTimeout(5000, () => socket.destroy(new Error('no answer')));
      socket.write('THIS IS NOT HTTP\r\n\r\n');
    });
    expect(reply).toMatch(/^HTTP\/1\.1 400/);
    expect(reply).toContain('"code":"bad_request"');
    const big = await call(r, 'GET', '/healthz', { headers: { 'x-padding': 'x'.repeat(20_000) } });
    expect(big.status).toBe(431);
    expect(big.json.error.code).toBe('headers_too_large');
    expect((await call(r, 'GET', '/healthz')).status).toBe(200);
  });
});

describe('slow clients', () => {
  it('a client that hangs up mid-body is counted as 499 and leaves nothing in flight', async () => {
    const r = await start();
    try {
      const socket = connect(r.base.port, '127.0.0.1');
      await new Promise<void>((resolveConnect) => socket.on('connect', () => resolveConnect()));
      socket.write(`POST /v1/check HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${OPERATOR}\r\nContent-Length: 100\r\n\r\n{"from":`);
      await new Promise((r2) => setTimeout(r2, 100));
      socket.destroy();
      let gone = 0;
      for (let i = 0; i < 50 && gone === 0; i++) {
        await new Promise((r2) => setTimeout(r2, 50));
        gone = r.api.metrics.requests.get({ route: '/v1/check', method: 'POST', status: '499' });
      }
      expect(gone).toBe(1);
      expect(r.api.metrics.inFlight.get()).toBe(0);
    } finally {
      await r.close();
    }
  });

  it('a client that never finishes its request gets 408 and its connection closed', async () => {
    const r = await start({ limits: { requestTimeoutMs: 300, headersTimeoutMs: 300 } });
    try {
      const reply = await new Promise<string>((resolve, reject) => {
        const socket = connect(r.base.port, '127.0.0.1');
        let data = '';
        socket.on('data', (d) => (data += d.toString()));
        socket.on('close', () => resolve(data));
        socket.on('error', reject);
        socket.setTimeout(10_000, () => socket.destroy(new Error('server never timed the request out')));
        socket.write(`POST /v1/check HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${OPERATOR}\r\nContent-Length: 100\r\n\r\n{"from":`);
      });
      expect(reply).toMatch(/^HTTP\/1\.1 408/);
    } finally {
      await r.close();
    }
  });
});
