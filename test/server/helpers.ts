/** Test helpers: an API on 127.0.0.1 port 0 and a small HTTP client over node:http. */
import { request as httpRequest, Agent } from 'node:http';
import { createEngine, type Engine } from '../../src/engine/engine.js';
import { sha256, AccessTokens } from '../../src/server/auth.js';
import { createHttpApi, type HttpApi, type HttpApiOptions } from '../../src/server/http.js';

export const OPERATOR = 'operator-token-0123456789abcdef';
export const SUB1 = 'subscriber-one-token-0123456789';
export const SUB2 = 'subscriber-two-token-0123456789';
export const N1 = '+447700900001';
export const N2 = '+447700900002';

export function testTokens(): AccessTokens {
  const store = new AccessTokens();
  store.add({ digest: sha256(OPERATOR), principal: { scope: 'operator', name: 'test-operator' } });
  store.add({ digest: sha256(SUB1), principal: { scope: 'subscriber', number: N1, name: 'sub1' } });
  store.add({ digest: sha256(SUB2), principal: { scope: 'subscriber', number: N2, name: 'sub2' } });
  return store;
}

let sharedEngine: Engine | undefined;
/** The shipped rules without a classifier: deterministic verdicts. */
export function engine(): Engine {
  sharedEngine ??= createEngine();
  return sharedEngine;
}

export interface Running {
  readonly api: HttpApi;
  readonly base: { host: string; port: number };
  close(): Promise<void>;
}

export async function start(options: Partial<HttpApiOptions> = {}): Promise<Running> {
  const api = createHttpApi({ engine: options.engine ?? engine(), tokens: options.tokens === undefined ? testTokens() : options.tokens, ...options });
  const address = await api.listen(0, '127.0.0.1');
  return { api, base: { host: '127.0.0.1', port: address.port }, close: () => api.close(1000) };
}

export interface Response {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly text: string;
  /** Parsed JSON body (undefined when not JSON). */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- tests read arbitrary JSON shapes
  readonly json: any;
}

export interface RequestOptions {
  readonly token?: string | null;
  readonly body?: unknown;
  /** Raw body bytes or text, sent as is. */
  readonly raw?: string | Buffer;
  readonly headers?: Record<string, string>;
  readonly agent?: Agent;
}

/** Where requests go: a Running API, or any server's host and port. */
export type Target = Pick<Running, 'base'>;

export function at(url: string): Target {
  const u = new URL(url);
  return { base: { host: u.hostname, port: Number(u.port) } };
}

export function call(r: Target, method: string, path: string, options: RequestOptions = {}): Promise<Response> {
  const token = options.token === undefined ? OPERATOR : options.token;
  const payload = options.raw ?? (options.body !== undefined ? JSON.stringify(options.body) : undefined);
  const headers: Record<string, string> = { ...(options.headers ?? {}) };
  if (token !== null) headers['authorization'] = `Bearer ${token}`;
  if (payload !== undefined) {
    headers['content-type'] ??= 'application/json';
    if (headers['transfer-encoding'] === undefined) headers['content-length'] ??= String(Buffer.byteLength(payload));
  }
  return new Promise((resolve, reject) => {
    const req = httpRequest({ ...r.base, method, path, headers, agent: options.agent ?? false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let json: unknown;
        try {
          json = JSON.parse(text);
        } catch {
          json = undefined;
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.setTimeout(10_000, () => req.destroy(new Error(`${method} ${path}: no answer in 10 s`)));
    if (payload !== undefined) req.write(payload);
    req.end();
  });
}

export const SPAM_TEXT = 'Congratulations! You have won a guaranteed £1000 cash prize. Call 09061701461 to claim';
export const HAM_TEXT = 'See you at the station at six, love mum';
