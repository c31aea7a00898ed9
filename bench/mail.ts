/**
 * Mail scan benchmark: end-to-end `scanArchives` over the SpamAssassin corpus written as one
 * mbox (read, parse, score in worker threads, write JSONL), against a read-only pass over the
 * same file as the baseline; with --gb, a 1 GB mbox made by repeating the corpus, to watch
 * memory (peak RSS of the whole process, worker threads included).
 *
 *   npm run build && npx tsx bench/mail.ts                 # corpus speed
 *   npm run build && npx tsx bench/mail.ts --gb 1          # memory on a 1 GB mbox
 *   options: --workers N, --model PATH (Bayes model), --rules PATH, --keep (leave the mbox),
 *            --dist DIR (the compiled tree to run, default dist/; e.g. one built with
 *            `npx tsc -p tsconfig.json --outDir tmp/mb` so a shared dist/ is left alone),
 *            --v8-defaults (skip the batch JIT tuning that `spamgate scan` applies, src/mail/jit.ts)
 *
 * The worker threads run compiled JS, so build first.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import os, { tmpdir } from 'node:os';
import { join, resolve, dirname } from 'node:path';
import { Writable } from 'node:stream';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '..');
// Import the compiled modules so the pool's worker script (DIST/src/mail/worker.js) is found.
const distIndex = process.argv.indexOf('--dist');
const distDir = resolve(root, distIndex >= 0 ? process.argv[distIndex + 1]! : 'dist');
const dist = (p: string): string => pathToFileURL(join(distDir, 'src', p)).href;
if (!existsSync(join(distDir, 'src', 'mail', 'worker.js'))) {
  console.error(`bench/mail.ts: ${distDir} is not built; run \`npm run build\` first`);
  process.exit(2);
}
type ScanMod = typeof import('../src/mail/scan.js');
type CorpusMod = typeof import('../src/mail/corpus.js');
type ReadersMod = typeof import('../src/mail/readers.js');
type JitMod = typeof import('../src/mail/jit.js');
const { scanArchives } = (await import(dist('mail/scan.js'))) as ScanMod;
const { loadSpamAssassin, writeMbox } = (await import(dist('mail/corpus.js'))) as CorpusMod;
const { readArchive, isReadFailure } = (await import(dist('mail/readers.js'))) as ReadersMod;
const { tuneJitForBatch } = (await import(dist('mail/jit.js'))) as JitMod;

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}
const gb = arg('gb') ? Number(arg('gb')) : 0;
const workers = arg('workers') ? Number(arg('workers')) : undefined;
const model = arg('model');
const rules = arg('rules');
const keep = process.argv.includes('--keep');

const scanOnly = arg('scan');
if (!scanOnly) {
  // Build the mbox here, then scan it in a fresh process so its memory is the scan's alone.
  const corpus = loadSpamAssassin();
  const dir = mkdtempSync(join(tmpdir(), 'spamgate-bench-'));
  const mbox = join(dir, gb > 0 ? 'big.mbox' : 'corpus.mbox');
  const corpusBytes = writeMbox(join(dir, 'probe.mbox'), corpus);
  rmSync(join(dir, 'probe.mbox'));
  const repeat = gb > 0 ? Math.max(1, Math.ceil((gb * 1024 ** 3) / corpusBytes)) : 1;
  const bytes = writeMbox(mbox, corpus, repeat);
  console.log(`mbox: ${corpus.length * repeat} messages, ${(bytes / 1024 ** 2).toFixed(0)} MiB (corpus x${repeat}) at ${mbox}`);
  const rest = process.argv.slice(2).filter((a, i, all) => a !== '--gb' && all[i - 1] !== '--gb');
  const child = spawnSync(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), '--scan', mbox, ...rest], { stdio: 'inherit' });
    process.exit(child.status ?? 1);
}
const mbox = scanOnly;
// As `spamgate scan` does before its workers start.
if (!process.argv.includes('--v8-defaults')) tuneJitForBatch();

let peakRss = 0;
const sampler = setInterval(() => {
  peakRss = Math.max(peakRss, process.memoryUsage().rss);
}, 50);

// Baseline: reading and splitting the mbox only, on this thread.
let t = process.hrtime.bigint();
let read = 0;
for await (const item of readArchive(mbox)) if (!isReadFailure(item)) read++;
const readSeconds = Number(process.hrtime.bigint() - t) / 1e9;
const readRss = peakRss;
console.log(`read only:  ${read} messages in ${readSeconds.toFixed(2)} s = ${Math.round(read / readSeconds)} msgs/s (peak RSS ${(readRss / 1024 ** 2).toFixed(0)} MiB)`);

peakRss = process.memoryUsage().rss;
let written = 0;
const sink = new Writable({
  write(chunk: Buffer, _enc, cb) {
    written += chunk.length;
    cb();
  },
});
t = process.hrtime.bigint();
// CPU time of the whole process (worker threads included): on a busy shared machine
// messages per CPU-second say more about the code than wall-clock speed does.
const cpu0 = process.cpuUsage();
const res = await scanArchives([mbox], {
  engine: { ...(rules ? { rules: [rules] } : {}), ...(model ? { model } : { bayes: false }) },
  ...(workers ? { workers } : {}),
  out: sink,
  progress: false,
  onError: () => undefined,
});
const seconds = Number(process.hrtime.bigint() - t) / 1e9;
const cpu = process.cpuUsage(cpu0);
const cpuSeconds = (cpu.user + cpu.system) / 1e6;
clearInterval(sampler);
const n = res.summary.messages + res.summary.errors;
console.log(
  `scan:       ${n} messages in ${seconds.toFixed(2)} s = ${Math.round(n / seconds)} msgs/s ` +
    `(${workers ?? 'default'} workers, ${model ? 'rules + Bayes' : 'rules only'}; ${res.summary.errors} errors; ${(written / 1024 ** 2).toFixed(1)} MiB of JSONL)`,
);
console.log(`  actions: ${JSON.stringify(res.summary.actions)}`);
console.log(`  ratio to read-only baseline: ${(seconds / readSeconds).toFixed(1)}x the time`);
console.log(`  CPU: ${cpuSeconds.toFixed(2)} s (all threads) = ${Math.round(n / cpuSeconds)} msgs per CPU-second; load average ${os.loadavg()[0]!.toFixed(1)} on ${os.availableParallelism()} cores`);
console.log(`  peak RSS while scanning (main + workers): ${(peakRss / 1024 ** 2).toFixed(0)} MiB; input ${(statSync(mbox).size / 1024 ** 2).toFixed(0)} MiB`);
