import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parsePrometheusText } from '../../src/server/metrics.js';
import { createEngine } from '../../src/engine/engine.js';
import { createSubscriberService } from '../../src/service/index.js';
import { at, call, N1, OPERATOR, start } from './helpers.js';

const ROOT = resolve(import.meta.dirname, '..', '..');
const MAIN = join(ROOT, 'src', 'cli', 'main.ts');
const TOKEN = 'serve-test-operator-token-0123456789';
const SUB_TOKEN = 'serve-test-subscriber-token-0123456789';

function cli(args: string[], env: Record<string, string> = {}) {
  const home = mkdtempSync(join(tmpdir(), 'spamgate-serve-'));
  const r = spawnSync(process.execPath, ['--import', 'tsx', MAIN, ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 30_000,
    env: { ...process.env, SPAMGATE_HOME: home, SPAMGATE_OPERATOR_TOKEN: '', ...env },
  });
  return { code: r.status, stderr: r.stderr };
}

/** Start `spamgate serve` on port 0 and read its URL from the startup log line. */
async function serve(args: string[], env: Record<string, string>): Promise<{ child: ChildProcess; url: string; log: () => string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN, 'serve', '--port', '0', ...args], { cwd: ROOT, env: { ...process.env, ...env } });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const url = await new Promise<string>((resolveUrl, reject) => {
    const timer = setTimeout(() => reject(new Error(`serve did not start in 30 s:\n${out}`)), 30_000);
    const poll = setInterval(() => {
      const m = /"url":"(http:\/\/127\.0\.0\.1:\d+)"/.exec(out);
      if (m || child.exitCode !== null) {
        clearInterval(poll);
        clearTimeout(timer);
        if (m) resolveUrl(m[1]!);
        else reject(new Error(`serve exited ${child.exitCode}:\n${out}`));
      }
    }, 50);
  });
  return { child, url, log: () => out };
}

function exited(child: ChildProcess): Promise<number | null> {
  return new Promise((resolveExit) => {
    if (child.exitCode !== null) return resolveExit(child.exitCode);
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolveExit(code);
    });
  });
}

describe('spamgate serve', () => {
  it('refuses to start without a token, and binds only loopback with --no-auth', () => {
    const none = cli(['serve', '--port', '0']);
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/no tokens: give --tokens FILE or set SPAMGATE_OPERATOR_TOKEN/);
    const open = cli(['serve', '--port', '0', '--no-auth', '--host', '0.0.0.0']);
    expect(open.code).toBe(2);
    expect(open.stderr).toMatch(/--no-auth serves loopback only/);
    const weak = cli(['serve', '--port', '0'], { SPAMGATE_OPERATOR_TOKEN: 'short' });
    expect(weak.code).toBe(2);
    expect(weak.stderr).toMatch(/at least 16 characters/);
    const subs = cli(['serve', '--port', '0', '--subscribers', 'corpora/sms/subscribers.yaml'], { SPAMGATE_OPERATOR_TOKEN: TOKEN });
    expect(subs.code).toBe(2);
    expect(subs.stderr).toMatch(/spamgate subscriber import/);
    const retention = cli(['serve', '--port', '0', '--retention-days', '0'], { SPAMGATE_OPERATOR_TOKEN: TOKEN });
    expect(retention.code).toBe(2);
    expect(retention.stderr).toMatch(/--retention-days must be an integer from 1/);
    const badFile = cli(['serve', '--port', '0', '--tokens', join(ROOT, 'no-such-tokens.yaml')]);
    expect(badFile.code).toBe(2);
    expect(badFile.stderr).toMatch(/cannot read token file/);
  });

  it('serves with env and file tokens (subscriber scope enforced), picks up rule changes made by another process, and stops cleanly on SIGTERM', async () => {
    const home = mkdtempSync(join(tmpdir(), 'spamgate-serve-'));
    const db = join(home, 'spamgate.db');
    const tokens = join(home, 'tokens.yaml');
    writeFileSync(tokens, `- { token: ${SUB_TOKEN}, scope: subscriber, number: "07700 900001" }\n`);
    const { child, url, log } = await serve(['--db', db, '--no-watch', '--tokens', tokens], { SPAMGATE_HOME: home, SPAMGATE_OPERATOR_TOKEN: TOKEN });
    try {
      const r = at(url);
      expect((await call(r, 'GET', '/healthz', { token: null })).json.subscriberStore).toBe(true);
      expect((await call(r, 'GET', '/metrics', { token: OPERATOR })).status).toBe(401);
      expect((await call(r, 'GET', '/metrics', { token: SUB_TOKEN })).status).toBe(403);
      expect((await call(r, 'GET', `/v1/subscribers/${encodeURIComponent(N1)}/spambox`, { token: SUB_TOKEN })).status).toBe(200);
      expect((await call(r, 'GET', `/v1/subscribers/${encodeURIComponent('+447700900002')}/spambox`, { token: SUB_TOKEN })).status).toBe(403);
      const message = { from: '+447700900777', to: N1, text: 'lunch at one?' };
      expect((await call(r, 'POST', '/v1/check', { token: TOKEN, body: message })).json.action).toBe('deliver');

      // What the CLI does while a server runs: write the store from another process.
      const other = createSubscriberService({ engine: createEngine(), dbPath: db, loadSubscribers: false, modelPath: false });
      other.setRules(N1, { block: ['+447700900777'], allow: [], keywords: [], quiet: [], enabled: true }, { kind: 'operator', name: 'cli' });
      other.close();
      let action = 'deliver';
      for (let i = 0; i < 50 && action === 'deliver'; i++) {
        await new Promise((r2) => setTimeout(r2, 100));
        action = (await call(r, 'POST', '/v1/check', { token: TOKEN, body: message })).json.action;
      }
      expect(action).toBe('quarantine');
    } finally {
      child.kill('SIGTERM');
    }
    expect(await exited(child)).toBe(0);
    expect(log()).toMatch(/"msg":"spamgate stopped"/);
  });
});

function ruleFile(keyword: string): string {
  return `rules:\n  - id: TEST_WORD\n    description: a word the test swaps\n    keywords: [${keyword}]\n    action: quarantine\n`;
}

describe('spamgate serve hot reload', () => {
  it('reloads operator rules when their file changes, and keeps the running set when the new one is broken', async () => {
    const home = mkdtempSync(join(tmpdir(), 'spamgate-serve-'));
    const rules = join(home, 'rules.yaml');
    writeFileSync(rules, ruleFile('bananas'));
    const { child, url } = await serve(['--db', join(home, 'spamgate.db'), '--rules', rules], { SPAMGATE_HOME: home, SPAMGATE_OPERATOR_TOKEN: TOKEN });
    const r = at(url);
    const action = async (text: string): Promise<string> => (await call(r, 'POST', '/v1/check', { token: TOKEN, body: { from: '+447700900777', to: N1, text } })).json.action;
    try {
      expect(await action('bananas for sale')).toBe('quarantine');
      const before = (await call(r, 'GET', '/healthz', { token: null })).json;
      expect(before.rules).toBe(1);
      expect(before.rulesHash).toMatch(/^[0-9a-f]{64}$/);
      writeFileSync(rules, ruleFile('cherries'));
      let got = '';
      for (let i = 0; i < 100 && got !== 'quarantine'; i++) {
        await new Promise((r2) => setTimeout(r2, 100));
        got = await action('cherries for sale');
      }
      expect(got).toBe('quarantine');
      expect(await action('bananas for sale')).toBe('deliver');
      expect((await call(r, 'GET', '/healthz', { token: null })).json.rulesHash).not.toBe(before.rulesHash);

      writeFileSync(rules, 'rules:\n  - id: broken\n');
      let refused = 0;
      for (let i = 0; i < 100 && refused === 0; i++) {
        await new Promise((r2) => setTimeout(r2, 100));
        const metrics = parsePrometheusText((await call(r, 'GET', '/metrics', { token: TOKEN })).text);
        refused = metrics.samples.find((x) => x.name === 'spamgate_rule_reloads_total' && x.labels.result === 'refused')?.value ?? 0;
      }
      expect(refused).toBeGreaterThan(0);
      expect(await action('cherries for sale')).toBe('quarantine');
    } finally {
      child.kill('SIGTERM');
    }
    expect(await exited(child)).toBe(0);
  });
});

describe('graceful close', () => {
  it('finishes a request in flight, then refuses new connections', async () => {
    const r = await start();
    const body = JSON.stringify({ from: '+447700900777', to: N1, text: 'hello' });
    const socket = connect(r.base.port, '127.0.0.1');
    let reply = '';
    socket.on('data', (d) => (reply += d.toString()));
    const ended = new Promise<void>((resolveEnd) => socket.on('close', () => resolveEnd()));
    await new Promise<void>((resolveConnect) => socket.on('connect', () => resolveConnect()));
    socket.write(`POST /v1/check HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${OPERATOR}\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body.slice(0, 10)}`);
    await new Promise((r2) => setTimeout(r2, 100));
    const closing = r.api.close(5000);
    await new Promise((r2) => setTimeout(r2, 100));
    socket.write(body.slice(10));
    await ended;
    await closing;
    expect(reply).toMatch(/^HTTP\/1\.1 200/);
    expect(reply.toLowerCase()).toContain('connection: close');
    expect(reply).toContain('"action":"deliver"');
    await expect(call(r, 'GET', '/healthz')).rejects.toThrow(/ECONNREFUSED/);
  });
});
