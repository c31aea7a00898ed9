import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { get } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { CliError } from '../../src/cli/common.js';
import { parseHostPort, startProxy, type RunningProxy } from '../../src/cli/commands/smpp-proxy.js';
import { submitsFor } from '../../src/cli/commands/smsc-sim.js';
import { decodeShortMessage } from '../../src/smpp/codec.js';
import { EsmeClient, SmscSimulator } from '../../src/smpp/sim.js';
import { waitFor } from './harness.js';

const silent = pino({ level: 'silent' });
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'spamgate-smpp-cli-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

const flags = (dir: string, extra: Record<string, unknown> = {}) => ({
  config: join(dir, 'proxy.yaml'),
  upstream: '127.0.0.1:1',
  listen: '127.0.0.1:0',
  metricsHost: '127.0.0.1',
  db: join(dir, 'sg.db'),
  watch: false,
  logLevel: 'silent',
  bayes: false,
  ...extra,
});

function httpGet(url: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    get(url, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    }).on('error', reject);
  });
}

describe('spamgate smpp-proxy command', () => {
  it('refuses a bad config naming file, line and field, and a bad --upstream', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'proxy.yaml'), 'upstream: { system_id: sg, password: pw }\nesmes:\n  - { system_id: shop }\n');
    await expect(startProxy(flags(dir), silent)).rejects.toThrow(/proxy\.yaml:3:\d+: esmes\[0\]: missing 'password'/);
    await expect(startProxy(flags(dir, { config: join(dir, 'absent.yaml') }), silent)).rejects.toThrow(/cannot read config .*absent\.yaml: ENOENT/);
    expect(() => parseHostPort('localhost', '--upstream')).toThrow(CliError);
    expect(() => parseHostPort('127.0.0.1:0', '--upstream')).toThrow(/--upstream must be host:port/);
    expect(parseHostPort('[::1]:2775', '--listen')).toEqual({ host: '::1', port: 2775 });
  });

  it('runs the proxy from flags and serves GET /metrics over HTTP', async () => {
    const dir = tempDir();
    const sim = new SmscSimulator();
    await sim.start();
    cleanups.push(() => sim.close());
    writeFileSync(join(dir, 'proxy.yaml'), 'upstream: { system_id: sg, password: pw }\nesmes: [{ system_id: shop, password: s3cret }]\n');
    const running: RunningProxy = await startProxy(flags(dir, { upstream: `127.0.0.1:${sim.port}`, metricsPort: '0' }), silent);
    cleanups.push(() => running.stop());
    await waitFor('the upstream bind', () => running.proxy.upstreamState === 'bound');
    const esme = await EsmeClient.connect('127.0.0.1', running.proxy.port, { systemId: 'shop', password: 's3cret' });
    cleanups.push(() => esme.destroy());
    expect((await esme.submit({ source_addr: '+447700900123', destination_addr: '+447700900001', data_coding: 0, short_message: 'hello there' })).status).toBe(0);
    const metrics = await httpGet(running.metricsUrl!);
    expect(metrics.status).toBe(200);
    expect(metrics.body).toMatch(/^spamgate_smpp_messages_out_total\{direction="mt",outcome="forwarded"\} 1$/m);
    expect((await httpGet(running.metricsUrl!.replace('/metrics', '/other'))).status).toBe(404);
  });
});

describe('spamgate esme-send', () => {
  it('splits a text into concatenated parts that decode back to the whole', () => {
    const text = 'Congratulations! You have won a guaranteed £1000 cash prize [call now]';
    const parts = submitsFor(text, { from: 'A', to: 'B', coding: 'auto', parts: '3' }, 42);
    expect(parts).toHaveLength(3);
    const decoded = parts.map((p) => decodeShortMessage(p.short_message as Buffer, p.data_coding as number, { udhi: true }));
    expect(decoded.map((d) => d.udh?.concat?.seq)).toEqual([1, 2, 3]);
    expect(decoded.every((d) => d.udh?.concat?.reference === 42 && d.udh.concat.total === 3)).toBe(true);
    expect(decoded.map((d) => d.text).join('')).toBe(text);
  });

  it('picks UCS-2 for text outside the GSM alphabet and refuses a bad part count', () => {
    expect(submitsFor('Привет', { from: 'A', to: 'B', coding: 'auto' }, 0)[0]!.data_coding).toBe(0x08);
    expect(() => submitsFor('x', { from: 'A', to: 'B', coding: 'auto', parts: '0' }, 0)).toThrow(/--parts must be 1 to 255/);
  });
});
