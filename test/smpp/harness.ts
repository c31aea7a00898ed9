/**
 * A real stack for the proxy tests: the SMSC simulator and ESME clients (the `smpp` package's own
 * Session/Server), the proxy between them, the subscriber service over a temporary SQLite file,
 * all on 127.0.0.1 with ephemeral ports. Everything is closed by `stop()`.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { createEngine, type Engine } from '../../src/engine/engine.js';
import { loadRuleSet } from '../../src/rules/load.js';
import { createSubscriberService } from '../../src/service/index.js';
import type { SubscriberService } from '../../src/service/types.js';
import { parseProxyConfig } from '../../src/smpp/config.js';
import { SmppProxy, type MessageFilter } from '../../src/smpp/proxy.js';
import { EsmeClient, SmscSimulator, type BindType, type SmscSimOptions } from '../../src/smpp/sim.js';

export const TEST_RULES = `
rules:
  - id: TEST_BLOCK
    description: a phrase the operator refuses outright
    keywords: [forbidden offer]
    action: block
  - id: TEST_HOLD
    description: a phrase held in the spam box
    keywords: [claim your cash prize]
    action: quarantine
  - id: TEST_TAG
    description: a phrase worth marking
    keywords: [limited time]
    action: tag
`;

export const DEFAULT_CONFIG = `
upstream:
  system_id: proxy
  password: upw
  response_timeout_seconds: 5
  reconnect_initial_seconds: 0.05
  reconnect_max_seconds: 0.4
esmes:
  - system_id: shop
    password: s3cret
    window: 1000
    mo_addresses: ["87121", "+447700900*"]
  - system_id: other
    password: pw2
actions:
  tag_tlv: 0x1401
concat:
  timeout_seconds: 30
`;

export interface Stack {
  readonly sim: SmscSimulator;
  readonly proxy: SmppProxy;
  readonly service: SubscriberService;
  readonly engine: Engine;
  readonly dir: string;
  /** Connect and bind an ESME to the proxy. */
  esme(credentials?: { systemId?: string; password?: string; bindType?: BindType }): Promise<EsmeClient>;
  /** Start another proxy over the same service and simulator (a restart). */
  restartProxy(): Promise<SmppProxy>;
  stop(): Promise<void>;
}

export interface StackOptions {
  readonly rules?: string;
  readonly config?: string;
  readonly failOpen?: boolean;
  readonly sim?: SmscSimOptions;
  /** Wrap the service, e.g. to make it throw. */
  readonly filter?: (service: SubscriberService) => MessageFilter;
  /** Messages to this number are subscriber commands. */
  readonly serviceNumber?: string;
}

export async function waitFor(what: string, condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

export async function startStack(options: StackOptions = {}): Promise<Stack> {
  const dir = mkdtempSync(join(tmpdir(), 'spamgate-smpp-'));
  writeFileSync(join(dir, 'rules.yaml'), options.rules ?? TEST_RULES);
  const engine = createEngine({ rules: loadRuleSet(join(dir, 'rules.yaml')) });
  const service = createSubscriberService({
    engine,
    dbPath: join(dir, 'spamgate.db'),
    modelPath: false,
    logger: pino({ level: 'silent' }),
    ...(options.serviceNumber ? { serviceNumber: options.serviceNumber } : {}),
  });
  const sim = new SmscSimulator(options.sim);
  await sim.start();
  const config = parseProxyConfig(options.config ?? DEFAULT_CONFIG, 'test-config.yaml');
  const filter = options.filter ? options.filter(service) : service;
  const clients: EsmeClient[] = [];
  const proxies: SmppProxy[] = [];
  const newProxy = async (): Promise<SmppProxy> => {
    const proxy = new SmppProxy({ config, filter, upstream: { host: '127.0.0.1', port: sim.port }, listen: { host: '127.0.0.1', port: 0 }, failOpen: options.failOpen ?? false, drainMs: 3000 });
    proxies.push(proxy);
    await proxy.start();
    await waitFor('the proxy to bind upstream', () => proxy.upstreamState === 'bound');
    return proxy;
  };
  let proxy = await newProxy();
  const stack: Stack = {
    sim,
    get proxy() {
      return proxy;
    },
    service,
    engine,
    dir,
    async esme(c = {}) {
      const client = await EsmeClient.connect('127.0.0.1', proxy.port, { systemId: c.systemId ?? 'shop', password: c.password ?? 's3cret', bindType: c.bindType ?? 'transceiver' });
      clients.push(client);
      return client;
    },
    async restartProxy() {
      await proxy.close();
      proxy = await newProxy();
      return proxy;
    },
    async stop() {
      for (const c of clients) c.destroy();
      for (const p of proxies) await p.close();
      await sim.close();
      service.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return stack;
}

/** submit_sm fields for a plain GSM text (data_coding 0, one septet per octet). */
export function gsmSubmit(from: string, to: string, text: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { source_addr: from, destination_addr: to, data_coding: 0x00, short_message: text, ...extra };
}
