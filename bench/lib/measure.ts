/**
 * Small helpers shared by the benchmarks: corpus loading, throughput over a fixed number of
 * iterations, latency percentiles from a sample, memory. Benchmarks print figures; they
 * never assert on time (tests do not either).
 */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repo root, whether run from bench/ (tsx) or dist/bench/ (compiled). */
export function repoRoot(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  return here.includes('/dist/') ? resolve(here, '..', '..', '..') : resolve(here, '..', '..');
}

export interface LabelledText {
  readonly label: 'spam' | 'ham';
  readonly text: string;
}

/**
 * A string as a gateway's JSON or SMPP decoder hands it over: flat, of its own, decoded from
 * bytes. A string built by concatenation ('+4477009' + digits) is a rope, and one sliced from a
 * bigger string is a view into it (two-byte if that one is); every character read from either
 * pays for the indirection, a cost real traffic does not have.
 */
export function decoded(s: string): string {
  return Buffer.from(s, 'utf8').toString('utf8');
}

/** The UCI SMS texts, each `decoded` from its own bytes (not sliced from the file's string). */
export function uciCorpus(): LabelledText[] {
  const path = resolve(repoRoot(), '..', 'shared', 'corpora', 'sms-spam-collection', 'SMSSpamCollection.tsv');
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => l.includes('\t'))
    .map((l) => {
      const tab = l.indexOf('\t');
      return { label: l.slice(0, tab) === 'spam' ? 'spam' : 'ham', text: decoded(l.slice(tab + 1)) };
    });
}

/** Deterministic PRNG for generated data. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Operations per second of `fn` over `n` calls (one timed loop): by the wall clock, and per
 * second of CPU time this process used, which a machine busy with other work inflates less.
 */
export function throughput(n: number, fn: (i: number) => void): { perSecond: number; perCpuSecond: number; seconds: number } {
  const cpu = process.cpuUsage();
  const start = process.hrtime.bigint();
  for (let i = 0; i < n; i++) fn(i);
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  const used = process.cpuUsage(cpu);
  return { perSecond: n / seconds, perCpuSecond: n / ((used.user + used.system) / 1e6), seconds };
}

/** Latency percentiles in microseconds from timing `n` single calls. */
export function latencies(n: number, fn: (i: number) => void): { p50: number; p99: number; p999: number; max: number } {
  const samples = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const t = process.hrtime.bigint();
    fn(i);
    samples[i] = Number(process.hrtime.bigint() - t) / 1000;
  }
  samples.sort();
  const at = (q: number): number => samples[Math.min(n - 1, Math.floor(q * n))]!;
  return { p50: at(0.5), p99: at(0.99), p999: at(0.999), max: samples[n - 1]! };
}

/** After a full GC when --expose-gc is on. `arrayBuffers`: typed-array memory, outside `heapUsed`. */
export function memoryMB(): { heapUsed: number; arrayBuffers: number; rss: number } {
  (globalThis as { gc?: () => void }).gc?.();
  const m = process.memoryUsage();
  return { heapUsed: m.heapUsed / 2 ** 20, arrayBuffers: m.arrayBuffers / 2 ** 20, rss: m.rss / 2 ** 20 };
}

export function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

export const fmt = (n: number, digits = 0): string => n.toLocaleString('en-GB', { maximumFractionDigits: digits, minimumFractionDigits: digits });
