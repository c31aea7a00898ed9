/**
 * The SMPP proxy on loopback: submit_sm per second through the proxy with filtering on (the
 * shipped rules and the subscriber service over a temporary SQLite file, quarantines written to
 * the spam box), and the latency the proxy adds at a paced 5,000/s. The baseline is the same load
 * sent straight to the simulated SMSC in the same run, so the figures read as differences:
 * added latency = through-proxy percentile minus direct percentile.
 *
 * Three processes: the SMSC simulator and the proxy are forked children, the load client is this
 * process, so none of them steals the others' event loop. The client and the simulator use the
 * proxy's wire layer with pre-encoded PDUs so they are cheaper than the thing measured.
 * Each figure is the median of --runs runs (default 3). Bounded by count: nothing loops forever.
 *
 *   npm run build && node dist/bench/smpp.js [--runs 3] [--messages 30000] [--rate 5000] [--seconds 3] [--json]
 *   ... --filter none   the proxy with a filter that delivers everything: its own cost, without the engine
 */
import { fork, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect, createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { pino } from 'pino';
import { createEngine } from '../src/engine/engine.js';
import { loadRuleSet, shippedRulesDir } from '../src/rules/load.js';
import { parsePrometheusText } from '../src/server/metrics.js';
import { createSubscriberService } from '../src/service/index.js';
import { encodeShortMessage, isGsm7 } from '../src/smpp/codec.js';
import { parseProxyConfig } from '../src/smpp/config.js';
import { SmppProxy, type MessageFilter } from '../src/smpp/proxy.js';
import { CMD, encodePdu, PduLink, type Frame } from '../src/smpp/wire.js';
import { arg, fmt, prng, uciCorpus } from './lib/measure.js';

const role = arg('role');

// ---- child: a fast SMSC simulator ----
async function runSim(): Promise<void> {
  let id = 0;
  const server = createServer((socket) => {
    const link: PduLink = new PduLink(socket, {
      onFrame(f: Frame) {
        switch (f.commandId) {
          case CMD.bind_transceiver:
            link.sendPdu('bind_transceiver_resp', { sequence_number: f.seq, system_id: 'BENCHSMSC' });
            break;
          case CMD.submit_sm:
            link.sendPdu('submit_sm_resp', { sequence_number: f.seq, message_id: `M${++id}` });
            break;
          case CMD.enquire_link:
            link.sendPdu('enquire_link_resp', { sequence_number: f.seq });
            break;
          case CMD.unbind:
            link.sendPdu('unbind_resp', { sequence_number: f.seq });
            link.end();
            break;
        }
      },
      onClose() {},
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  process.send!({ port: (server.address() as AddressInfo).port });
}

// ---- child: the proxy with filtering on ----
async function runProxy(simPort: number): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'spamgate-bench-smpp-'));
  const engine = createEngine({ rules: loadRuleSet(shippedRulesDir()) });
  const service = createSubscriberService({ engine, dbPath: join(dir, 'bench.db'), modelPath: false, logger: pino({ level: 'silent' }) });
  const config = parseProxyConfig('upstream: { system_id: proxy, password: p }\nesmes: [{ system_id: bench, password: b, window: 5000 }]\n', 'bench-config');
  // --filter none: a filter that delivers everything, to see the proxy's own cost without the engine.
  const filter: MessageFilter = arg('filter') === 'none' ? { process: () => ({ verdict: { action: 'deliver', score: 0, reasons: [] }, outcome: 'deliver' }) } : service;
  const proxy = new SmppProxy({ config, filter, upstream: { host: '127.0.0.1', port: simPort }, listen: { host: '127.0.0.1', port: 0 } });
  const port = await proxy.start();
  while (proxy.upstreamState !== 'bound') await new Promise((r) => setTimeout(r, 10));
  const loopDelay = monitorEventLoopDelay({ resolution: 1 });
  let cpuAtReset = process.cpuUsage();
  // The proxy's own latency histogram, read as deltas between a reset and a query.
  const latencyBuckets = () =>
    parsePrometheusText(proxy.metrics.render()).samples.filter((x) => x.name === 'spamgate_smpp_added_latency_seconds_bucket' && x.labels['direction'] === 'mt');
  let bucketsAtReset = latencyBuckets();
  loopDelay.enable();
  process.send!({ port });
  process.on('message', async (m: { stop?: boolean; metrics?: boolean; reset?: boolean }) => {
    if (m.reset) {
      cpuAtReset = process.cpuUsage();
      loopDelay.reset();
      bucketsAtReset = latencyBuckets();
    }
    if (m.metrics) {
      const now = latencyBuckets();
      const buckets = now.map((b, i) => ({ ...b, value: b.value - (bucketsAtReset[i]?.value ?? 0) }));
      const total = buckets.find((b) => b.labels['le'] === '+Inf')?.value ?? 0;
      // Upper bound of the bucket holding the quantile: the proxy's own time, network hops excluded.
      const q = (p: number): number => (buckets.find((b) => b.value >= p * total)?.labels['le'] === '+Inf' ? Infinity : Number(buckets.find((b) => b.value >= p * total)?.labels['le'] ?? NaN) * 1e6);
      const cpu = process.cpuUsage(cpuAtReset);
      process.send!({ cpuUs: cpu.user + cpu.system, internal: { p50: q(0.5), p99: q(0.99), count: total }, loop: { p50: loopDelay.percentile(50) / 1e6, p99: loopDelay.percentile(99) / 1e6, max: loopDelay.max / 1e6 } });
    }
    if (m.stop) {
      await proxy.close();
      service.close();
      rmSync(dir, { recursive: true, force: true });
      process.exit(0);
    }
  });
}

// ---- parent: the load client ----
interface DriveResult {
  readonly seconds: number;
  readonly latenciesUs: Float64Array;
  readonly statuses: Map<number, number>;
}

function messages(n: number): Buffer[] {
  const random = prng(7);
  const corpus = uciCorpus();
  const out: Buffer[] = [];
  for (let i = 0; i < n; i++) {
    const text = corpus[Math.floor(random() * corpus.length)]!.text.slice(0, 160);
    const gsm = isGsm7(text);
    out.push(
      encodePdu('submit_sm', {
        sequence_number: 1,
        source_addr: '+4477009' + String(Math.floor(random() * 100000)).padStart(5, '0'),
        destination_addr: '+4477001' + String(Math.floor(random() * 100000)).padStart(5, '0'),
        data_coding: gsm ? 0x00 : 0x08,
        short_message: encodeShortMessage(gsm ? text : text.slice(0, 70), gsm ? 0x00 : 0x08),
      }),
    );
  }
  return out;
}

/** Send `pdus` through one bind: window-limited as fast as possible, or paced at `rate` per second. */
async function drive(port: number, pdus: readonly Buffer[], options: { window: number; rate?: number }): Promise<DriveResult> {
  const sentAt = new Float64Array(pdus.length + 1);
  const latenciesUs = new Float64Array(pdus.length);
  const statuses = new Map<number, number>();
  let answered = 0;
  let sent = 0;
  let bound!: () => void;
  let finished!: () => void;
  const boundP = new Promise<void>((r) => (bound = r));
  const done = new Promise<void>((r) => (finished = r));
  let pump = (): void => {};
  const socket = connect({ host: '127.0.0.1', port });
  const link = new PduLink(socket, {
    onFrame(f) {
      if (f.commandId === CMD.bind_transceiver_resp) {
        if (f.status !== 0) throw new Error(`bench bind refused: 0x${f.status.toString(16)}`);
        return bound();
      }
      if (f.commandId !== CMD.submit_sm_resp || f.seq < 1 || f.seq > pdus.length) return;
      latenciesUs[answered++] = (performance.now() - sentAt[f.seq]!) * 1000;
      statuses.set(f.status, (statuses.get(f.status) ?? 0) + 1);
      if (answered === pdus.length) finished();
      else pump();
    },
    onClose() {
      finished();
    },
  });
  await new Promise((r) => socket.once('connect', r));
  link.sendPdu('bind_transceiver', { sequence_number: 0x7ffffff0, system_id: 'bench', password: 'b' });
  await boundP;
  const start = performance.now();
  const send = (): void => {
    const seq = ++sent;
    const b = pdus[seq - 1]!;
    b.writeUInt32BE(seq, 12);
    sentAt[seq] = performance.now();
    link.send(b);
  };
  if (options.rate) {
    const interval = 1000 / options.rate;
    const tick = (): void => {
      const due = Math.min(pdus.length, Math.floor((performance.now() - start) / interval) + 1);
      while (sent < due && sent - answered < options.window) send();
      // A 1 ms timer, not setImmediate: a spinning client would take a core from the proxy it measures.
      if (sent < pdus.length) setTimeout(tick, 1);
    };
    tick();
  } else {
    pump = () => {
      while (sent < pdus.length && sent - answered < options.window) send();
    };
    pump();
  }
  const guard = setTimeout(() => finished(), 120_000);
  await done;
  clearTimeout(guard);
  const seconds = (performance.now() - start) / 1000;
  link.sendPdu('unbind', { sequence_number: 0x7ffffff1 });
  link.end();
  if (answered < pdus.length) throw new Error(`only ${answered} of ${pdus.length} submits were answered`);
  return { seconds, latenciesUs: latenciesUs.subarray(0, answered), statuses };
}

function proxyStats(proc: ChildProcess): Promise<ProxyInside> {
  return new Promise((resolve) => {
    proc.once('message', (m: ProxyInside) => resolve(m));
    proc.send({ metrics: true });
  });
}

interface ProxyInside {
  readonly cpuUs: number;
  readonly internal: { readonly p50: number; readonly p99: number; readonly count: number };
  readonly loop: { readonly p50: number; readonly p99: number; readonly max: number };
}

function percentile(sorted: Float64Array, q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

function child(args: string[]): Promise<{ proc: ChildProcess; port: number }> {
  // SMPP_BENCH_PROXY_FLAGS="--cpu-prof --cpu-prof-dir=/tmp/p" (or --trace-gc) looks inside the proxy.
  const prof = args.includes('proxy') ? (process.env['SMPP_BENCH_PROXY_FLAGS'] ?? '').split(' ').filter(Boolean) : [];
  const proc = fork(process.argv[1]!, args, { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], execArgv: [...process.execArgv, ...prof] });
  return new Promise((resolve, reject) => {
    proc.once('message', (m: { port: number }) => resolve({ proc, port: m.port }));
    proc.once('exit', (code) => reject(new Error(`bench child ${args.join(' ')} exited with ${code}`)));
  });
}

async function main(): Promise<void> {
  const json = process.argv.includes('--json');
  const runs = Number(arg('runs') ?? 3);
  const n = Number(arg('messages') ?? 30_000);
  const rate = Number(arg('rate') ?? 5000);
  const seconds = Number(arg('seconds') ?? 3);
  const sim = await child(['--role', 'sim']);
  const proxy = await child(['--role', 'proxy', '--sim-port', String(sim.port), '--filter', arg('filter') ?? 'service']);
  const bulk = messages(n);
  const paced = messages(Math.round(rate * seconds));
  const rows: { direct: number; proxied: number; p50: number; p99: number; dp50: number; dp99: number }[] = [];
  let outcomes = new Map<number, number>();
  const insides: ProxyInside[] = [];
  const cpuPerMessage: number[] = [];
  try {
    for (let run = 0; run < runs; run++) {
      const direct = await drive(sim.port, bulk, { window: 500 });
      proxy.proc.send({ reset: true });
      const proxied = await drive(proxy.port, bulk, { window: 500 });
      const bulkInside = await proxyStats(proxy.proc);
      cpuPerMessage.push(bulkInside.cpuUs / n);
      outcomes = proxied.statuses;
      const directLat = (await drive(sim.port, paced, { window: 5000, rate })).latenciesUs.slice().sort();
      proxy.proc.send({ reset: true });
      const proxyLat = (await drive(proxy.port, paced, { window: 5000, rate })).latenciesUs.slice().sort();
      const inside = await proxyStats(proxy.proc);
      insides.push(inside);
      const row = {
        direct: n / direct.seconds,
        proxied: n / proxied.seconds,
        dp50: percentile(directLat, 0.5),
        dp99: percentile(directLat, 0.99),
        p50: percentile(proxyLat, 0.5),
        p99: percentile(proxyLat, 0.99),
      };
      rows.push(row);
      if (!json) {
        console.log(
          `run ${run + 1}: ${fmt(row.proxied)} submit_sm/s through the proxy (direct ${fmt(row.direct)}/s), proxy CPU ${fmt(cpuPerMessage[run]!, 1)} µs per message; at ${fmt(rate)}/s p50 ${fmt(row.p50)} µs p99 ${fmt(row.p99)} µs (direct p50 ${fmt(row.dp50)} µs p99 ${fmt(row.dp99)} µs); ` +
            `inside the proxy p50 ≤ ${fmt(inside.internal.p50)} µs p99 ≤ ${fmt(inside.internal.p99)} µs; proxy event-loop delay p99 ${fmt(inside.loop.p99, 1)} ms max ${fmt(inside.loop.max, 1)} ms`,
        );
      }
    }
  } finally {
    proxy.proc.send({ stop: true });
    sim.proc.kill();
  }
  const result = {
    messages: n,
    runs,
    pacedRate: rate,
    throughputPerSecond: median(rows.map((r) => r.proxied)),
    directThroughputPerSecond: median(rows.map((r) => r.direct)),
    addedP50Us: median(rows.map((r) => r.p50 - r.dp50)),
    addedP99Us: median(rows.map((r) => r.p99 - r.dp99)),
    proxyP50Us: median(rows.map((r) => r.p50)),
    proxyP99Us: median(rows.map((r) => r.p99)),
    directP50Us: median(rows.map((r) => r.dp50)),
    directP99Us: median(rows.map((r) => r.dp99)),
    proxyCpuUsPerMessage: median(cpuPerMessage),
    insideP50UsAtMost: median(insides.map((i) => i.internal.p50)),
    insideP99UsAtMost: median(insides.map((i) => i.internal.p99)),
    proxyLoopDelayP99Ms: median(insides.map((i) => i.loop.p99)),
    outcomes: Object.fromEntries([...outcomes].map(([s, c]) => [s === 0 ? 'ESME_ROK' : `0x${s.toString(16)}`, c])),
  };
  if (json) console.log(JSON.stringify(result));
  else {
    console.log(
      `median of ${runs}: ${fmt(result.throughputPerSecond)} submit_sm/s through the proxy ${arg('filter') === 'none' ? 'with a filter that delivers everything' : 'with filtering on'} (direct to the SMSC ${fmt(result.directThroughputPerSecond)}/s); ` +
        `added latency at ${fmt(rate)}/s: p50 ${fmt(result.addedP50Us)} µs, p99 ${fmt(result.addedP99Us)} µs`,
    );
    console.log(`proxy CPU time per message (user + system, the load-independent cost): ${fmt(result.proxyCpuUsPerMessage, 1)} µs, i.e. ${fmt(1e6 / result.proxyCpuUsPerMessage)} submit_sm/s per core`);
    console.log(`time inside the proxy (its own histogram, decode to forward): p50 ≤ ${fmt(result.insideP50UsAtMost)} µs, p99 ≤ ${fmt(result.insideP99UsAtMost)} µs; proxy event-loop delay p99 ${fmt(result.proxyLoopDelayP99Ms, 1)} ms`);
    console.log(`answers in the last bulk run: ${JSON.stringify(result.outcomes)}`);
  }
}

if (role === 'sim') await runSim();
else if (role === 'proxy') await runProxy(Number(arg('sim-port')));
else await main();
