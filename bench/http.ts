/**
 * HTTP API load test on loopback: `spamgate serve` runs in a child process (its own event loop
 * and core) with a fresh database, 1,000 subscribers with rules and the shipped operator rules;
 * this process is the client. UCI SMS texts, a quarter of them to subscribers.
 *
 *   (a) batch checks: B messages a request, C keep-alive connections, R requests → checks/s
 *   (b) single checks paced at a fixed rate (open loop) for a fixed count → p50/p99/max latency,
 *       measured from when each request was due, so a stall counts against every request it delays
 *
 * Each phase runs --runs times (default 3) and the median run is reported. Baselines in the
 * same run: engine.check on the same messages in this process (one core, no HTTP, no store) for
 * throughput, and a bare node:http server answering a constant, paced the same way, for latency:
 * on a shared machine the tail belongs to whoever gets descheduled, and the bare server shows it.
 *
 *   npx tsx bench/http.ts [--runs 3] [--batch 100] [--connections 4] [--requests 400]
 *                         [--rate 2000] [--count 10000] [--log-level info] [--db-dir DIR] [--json]
 *
 * The server logs at --log-level (default info: one line per request) to a file in its temp
 * folder. Figures depend on the machine; on a shared machine, compare runs, not absolutes.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { Agent, request } from 'node:http';
import os, { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createEngine } from '../src/engine/engine.js';
import type { MessageInput } from '../src/message/types.js';
import { parsePrometheusText } from '../src/server/metrics.js';
import { arg, fmt, prng, repoRoot, uciCorpus } from './lib/measure.js';

const runs = Number(arg('runs') ?? 3);
const batchSize = Number(arg('batch') ?? 100);
const connections = Number(arg('connections') ?? 4);
const batchRequests = Number(arg('requests') ?? 400);
const rate = Number(arg('rate') ?? 2000);
const count = Number(arg('count') ?? 10_000);
const logLevel = arg('log-level') ?? 'info';
/** Where the server's database goes (default the temp folder): /dev/shm takes a busy shared disk out of the figures. */
const dbDir = arg('db-dir') ?? tmpdir();
const json = process.argv.includes('--json');
const TOKEN = 'bench-operator-token-0123456789abcdef';
const SUBSCRIBERS = 1000;

const random = prng(7);
const subscriber = (i: number): string => '+4477009' + String(i).padStart(5, '0');
const corpus = uciCorpus();
const messages: MessageInput[] = Array.from({ length: 20_000 }, (_, i) => {
  const m = corpus[Math.floor(random() * corpus.length)]!;
  const to = random() < 0.25 ? subscriber(Math.floor(random() * SUBSCRIBERS)) : '+4477001' + String(Math.floor(random() * 100000)).padStart(5, '0');
  const from = random() < 0.1 ? '0900' + String(100000 + i) : '+4477002' + String(Math.floor(random() * 100000)).padStart(5, '0');
  return { id: `m${i}`, from, to, text: m.text, time: 1_764_000_000_000 + i * 1000 };
});

// ---- the server ----

/** A port free now (the server binds it a moment later; loopback only, so a clash is unlikely). */
async function freePort(): Promise<number> {
  const { createServer } = await import('node:net');
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

type Server = { child: ChildProcess; port: number };

/** Spawn a server on a free port and wait until it answers GET /healthz. */
async function spawnServer(args: (port: number) => string[], env: NodeJS.ProcessEnv, log: string): Promise<Server> {
  const port = await freePort();
  const out = openSync(log, 'w');
  const child = spawn(process.execPath, args(port), { cwd: repoRoot(), env, stdio: ['ignore', out, 'inherit'] });
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`server exited with ${child.exitCode}; log: ${readFileSync(log, 'utf8').slice(-2000)}`);
    const up = await new Promise<boolean>((resolve) => {
      const req = request({ host: '127.0.0.1', port, path: '/healthz', agent: false }, (res) => {
        res.resume();
        resolve(res.statusCode === 200);
      });
      req.on('error', () => resolve(false));
      req.end();
    });
    if (up) return { child, port };
    await new Promise((r) => setTimeout(r, 200));
  }
  child.kill('SIGKILL');
  throw new Error('server did not start within 60 s');
}

function startSpamgate(dir: string): Promise<Server> {
  const main = join(repoRoot(), 'src', 'cli', 'main.ts');
  return spawnServer(
    (port) => ['--import', 'tsx', main, 'serve', '--port', String(port), '--db', join(dir, 'spamgate.db'), '--log-level', logLevel, '--max-batch', String(Math.max(1000, batchSize))],
    { ...process.env, SPAMGATE_HOME: dir, SPAMGATE_OPERATOR_TOKEN: TOKEN },
    join(dir, 'server.log'),
  );
}

/**
 * The latency baseline: a bare node:http server that reads the body and answers a constant JSON,
 * in its own process like spamgate's. What it cannot do in time, the machine could not.
 */
const BARE_SERVER = `require('node:http').createServer((q, s) => { q.resume(); q.on('end', () => { s.writeHead(200, { 'content-type': 'application/json' }); s.end('{"action":"deliver"}'); }); }).listen(Number(process.argv[1]), '127.0.0.1');`;

function startBare(dir: string): Promise<Server> {
  return spawnServer((port) => ['-e', BARE_SERVER, String(port)], process.env, join(dir, 'bare.log'));
}

async function stopServer(server: Server): Promise<void> {
  server.child.kill('SIGTERM');
  await new Promise<void>((resolve) => {
    const t = setTimeout(() => {
      server.child.kill('SIGKILL');
      resolve();
    }, 15_000);
    server.child.once('exit', () => {
      clearTimeout(t);
      resolve();
    });
  });
}

/** Share of /v1/check requests the server itself took more than 5 ms over (its own histogram). */
async function serverSideOver5ms(port: number): Promise<{ share: number; count: number }> {
  const agent = new Agent({ keepAlive: false });
  const res = await new Promise<string>((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: '/metrics', agent, headers: { authorization: `Bearer ${TOKEN}` } }, (r) => {
      let text = '';
      r.on('data', (c: Buffer) => (text += c.toString()));
      r.on('end', () => resolve(text));
    });
    req.on('error', reject);
    req.end();
  });
  const samples = parsePrometheusText(res).samples.filter((x) => x.labels['route'] === '/v1/check');
  const count = samples.find((x) => x.name === 'spamgate_http_request_duration_seconds_count')?.value ?? 0;
  const under = samples.find((x) => x.name === 'spamgate_http_request_duration_seconds_bucket' && x.labels['le'] === '0.005')?.value ?? 0;
  return { share: count ? (count - under) / count : 0, count };
}

function post(agent: Agent, port: number, method: string, path: string, body: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port, method, path, agent, headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.setTimeout(30_000, () => req.destroy(new Error('no answer in 30 s')));
    req.end(body);
  });
}

async function seedSubscribers(agent: Agent, port: number): Promise<void> {
  for (let i = 0; i < SUBSCRIBERS; i++) {
    const rules = { block: ['0900*', '*BET*', '+4477002' + String(i).padStart(5, '0')], allow: ['+4477003' + String(i).padStart(5, '0')], keywords: ['casino', 'loan offer'], quiet: [], enabled: true };
    const res = await post(agent, port, 'PUT', `/v1/subscribers/${encodeURIComponent(subscriber(i))}/rules`, JSON.stringify(rules));
    if (res.status !== 200) throw new Error(`seeding subscriber ${i}: ${res.status} ${res.text}`);
  }
}

// ---- the phases ----

let cursor = 0;
function nextMessages(n: number): MessageInput[] {
  const out: MessageInput[] = [];
  for (let i = 0; i < n; i++) out.push(messages[cursor++ % messages.length]!);
  return out;
}

async function batchPhase(port: number, requests: number): Promise<{ checksPerSecond: number; requestsPerSecond: number; seconds: number }> {
  const agent = new Agent({ keepAlive: true, maxSockets: connections });
  const bodies = Array.from({ length: Math.min(requests, 50) }, () => JSON.stringify({ messages: nextMessages(batchSize) }));
  let sent = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: connections }, async () => {
      while (sent < requests) {
        const body = bodies[sent++ % bodies.length]!;
        const res = await post(agent, port, 'POST', '/v1/check/batch', body);
        if (res.status !== 200) throw new Error(`batch: ${res.status} ${res.text.slice(0, 200)}`);
      }
    }),
  );
  const seconds = (performance.now() - t0) / 1000;
  agent.destroy();
  return { checksPerSecond: (requests * batchSize) / seconds, requestsPerSecond: requests / seconds, seconds };
}

interface PacedResult {
  /** From when each request was due (open loop). */
  readonly p50: number;
  readonly p99: number;
  readonly p999: number;
  readonly max: number;
  /** From when the client actually sent it: the server and loopback alone. */
  readonly sentP50: number;
  readonly sentP99: number;
  /** How late the client's timer sent requests (its own scheduling, not the server). */
  readonly lagP99: number;
  readonly achieved: number;
}

async function pacedPhase(port: number, n: number, perSecond: number): Promise<PacedResult> {
  const agent = new Agent({ keepAlive: true, maxSockets: 64 });
  const bodies = nextMessages(Math.min(n, 5000)).map((m) => JSON.stringify(m));
  const latency = new Float64Array(n);
  const fromSend = new Float64Array(n);
  const lag = new Float64Array(n);
  const interval = 1000 / perSecond;
  let next = 0;
  let done = 0;
  const t0 = performance.now();
  await new Promise<void>((resolve, reject) => {
    const tick = (): void => {
      const now = performance.now();
      while (next < n && t0 + next * interval <= now) {
        const i = next++;
        const due = t0 + i * interval;
        const sent = performance.now();
        lag[i] = sent - due;
        post(agent, port, 'POST', '/v1/check', bodies[i % bodies.length]!).then((res) => {
          if (res.status !== 200) return reject(new Error(`check: ${res.status} ${res.text.slice(0, 200)}`));
          const end = performance.now();
          latency[i] = end - due;
          fromSend[i] = end - sent;
          if (++done === n) resolve();
        }, reject);
      }
      if (next < n) setTimeout(tick, Math.max(0, Math.min(1, t0 + next * interval - performance.now())));
    };
    tick();
  });
  const seconds = (performance.now() - t0) / 1000;
  agent.destroy();
  const pct = (xs: Float64Array, q: number): number => xs[Math.min(n - 1, Math.floor(q * n))]!;
  latency.sort();
  fromSend.sort();
  lag.sort();
  return {
    p50: pct(latency, 0.5),
    p99: pct(latency, 0.99),
    p999: pct(latency, 0.999),
    max: latency[n - 1]!,
    sentP50: pct(fromSend, 0.5),
    sentP99: pct(fromSend, 0.99),
    lagP99: pct(lag, 0.99),
    achieved: n / seconds,
  };
}

function baseline(): number {
  const engine = createEngine();
  const n = 50_000;
  for (let i = 0; i < 5000; i++) engine.check(messages[i % messages.length]!);
  const t0 = performance.now();
  for (let i = 0; i < n; i++) engine.check(messages[i % messages.length]!);
  return n / ((performance.now() - t0) / 1000);
}

const median = <T>(xs: T[], key: (x: T) => number): T => [...xs].sort((a, b) => key(a) - key(b))[Math.floor(xs.length / 2)]!;

/** The 1-minute load average (Linux), to note how busy the shared machine was. */
function load(): string {
  try {
    return readFileSync('/proc/loadavg', 'utf8').split(' ')[0]!;
  } catch {
    return 'n/a';
  }
}

const loadBefore = load();
const baselineBefore = baseline();
const dir = mkdtempSync(join(dbDir, 'spamgate-bench-http-'));
const server = await startSpamgate(dir);
const bare = await startBare(dir);
try {
  const seedAgent = new Agent({ keepAlive: true, maxSockets: 1 });
  await seedSubscribers(seedAgent, server.port);
  seedAgent.destroy();
  // Warm up both paths (JIT, SQLite pages, connections).
  await batchPhase(server.port, Math.min(50, batchRequests));
  await pacedPhase(server.port, Math.min(2000, count), rate);
  await pacedPhase(bare.port, Math.min(2000, count), rate);

  const batches = [];
  const paced = [];
  const bares = [];
  for (let r = 0; r < runs; r++) {
    batches.push(await batchPhase(server.port, batchRequests));
    paced.push(await pacedPhase(server.port, count, rate));
    bares.push(await pacedPhase(bare.port, count, rate));
  }
  const inside = await serverSideOver5ms(server.port);
  // The machine is shared: the baseline before and after brackets how busy it was.
  const inProcess = (baselineBefore + baseline()) / 2;
  const loadAfter = load();
  const b = median(batches, (x) => x.checksPerSecond);
  const p = median(paced, (x) => x.p99);
  const q = median(bares, (x) => x.p99);
  const latencyRow = (x: PacedResult) => ({ p50: +x.p50.toFixed(3), p99: +x.p99.toFixed(3), max: +x.max.toFixed(2), sentP50: +x.sentP50.toFixed(3), sentP99: +x.sentP99.toFixed(3), lagP99: +x.lagP99.toFixed(3) });
  const result = {
    batch: { batchSize, connections, requests: batchRequests, runs: batches.map((x) => Math.round(x.checksPerSecond)), medianChecksPerSecond: Math.round(b.checksPerSecond), medianRequestsPerSecond: Math.round(b.requestsPerSecond) },
    single: {
      rate,
      count,
      runs: paced.map(latencyRow),
      median: { p50ms: +p.p50.toFixed(3), p99ms: +p.p99.toFixed(3), p999ms: +p.p999.toFixed(3), maxMs: +p.max.toFixed(2), achievedPerSecond: Math.round(p.achieved) },
      serverSideOver5msShare: +inside.share.toFixed(5),
    },
    bareNodeServer: { runs: bares.map(latencyRow), median: { p50ms: +q.p50.toFixed(3), p99ms: +q.p99.toFixed(3) } },
    baseline: { inProcessChecksPerSecond: Math.round(inProcess), httpBatchRatio: +(b.checksPerSecond / inProcess).toFixed(2) },
    logLevel,
    dbDir,
    loadAverage: { before: loadBefore, after: loadAfter },
  };
  const line = (x: PacedResult): string =>
    `  run: from due p50 ${x.p50.toFixed(3)} ms, p99 ${x.p99.toFixed(3)} ms, max ${x.max.toFixed(2)} ms | from send p50 ${x.sentP50.toFixed(3)} ms, p99 ${x.sentP99.toFixed(3)} ms | client timer lag p99 ${x.lagP99.toFixed(3)} ms | ${fmt(x.achieved)}/s`;
  if (json) {
    console.log(JSON.stringify(result, null, 2));
  } else {
    console.log(`batch checks: ${batchSize} a request, ${connections} connections, ${batchRequests} requests x ${runs} runs`);
    console.log(`  runs: ${batches.map((x) => fmt(x.checksPerSecond)).join(', ')} checks/s`);
    console.log(`  median: ${fmt(b.checksPerSecond)} checks/s (${fmt(b.requestsPerSecond)} requests/s); target >= 20,000`);
    console.log(`  baseline: engine.check in this process, no HTTP and no store, ${fmt(inProcess)} checks/s (mean of before and after); HTTP batch = ${(b.checksPerSecond / inProcess).toFixed(2)}x of it`);
    console.log(`single checks: paced at ${fmt(rate)}/s, ${fmt(count)} requests x ${runs} runs (latency from when each was due)`);
    for (const x of paced) console.log(line(x));
    console.log(`  median run: from due p50 ${p.p50.toFixed(3)} ms, p99 ${p.p99.toFixed(3)} ms, p99.9 ${p.p999.toFixed(3)} ms; from send p99 ${p.sentP99.toFixed(3)} ms; target p99 < 5 ms`);
    console.log(`  inside the server (its histogram, all runs): ${(inside.share * 100).toFixed(2)}% of ${fmt(inside.count)} check requests took over 5 ms`);
    console.log(`baseline: a bare node:http server answering a constant, same client and pacing`);
    for (const x of bares) console.log(line(x));
    console.log(`  median run: from due p50 ${q.p50.toFixed(3)} ms, p99 ${q.p99.toFixed(3)} ms; spamgate p99 = ${(p.p99 / q.p99).toFixed(2)}x of it`);
    console.log(`database in ${dbDir}; server log level: ${logLevel}; 1-minute load average ${loadBefore} before, ${loadAfter} after (${os.cpus().length} cores)`);
  }
} finally {
  await Promise.all([stopServer(server), stopServer(bare)]);
  rmSync(dir, { recursive: true, force: true });
}
