/**
 * engine.check on one core: the shipped rules plus 1,000 generated operator keyword rules,
 * 100,000 subscribers with 10 rules each, UCI SMS texts with random senders and recipients
 * (a quarter of the recipients are subscribers). Baselines in the same run: a bare loop over
 * the same messages, and text analysis alone, so the figures read as ratios too. Also: the
 * same without the shipped volume rules (they keep per-sender and per-text counters, a cost
 * of their own), and rules plus the Bayesian classifier trained on the UCI corpus (issue 3).
 * Each rate is given by the wall clock and per CPU-second of this process (less inflated when
 * the machine is busy with other work).
 *
 *   npx tsc -p tsconfig.json && node --expose-gc dist/bench/engine.js [--json] [--messages N] [--only stateless|bayes]
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createEngine, type Engine } from '../src/engine/engine.js';
import { BAYES_BANDS, BayesClassifier, BayesModel } from '../src/bayes/index.js';
import { loadRuleSet, shippedRulesDir } from '../src/rules/load.js';
import type { MessageInput } from '../src/message/types.js';
import type { SubscriberRules } from '../src/rules/subscriber-types.js';
import { analyseText } from '../src/text/analysis.js';
import { arg, decoded, fmt, latencies, memoryMB, prng, throughput, uciCorpus } from './lib/measure.js';

const random = prng(42);
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;
const number = (): string => decoded('+4477009' + String(Math.floor(random() * 100000)).padStart(5, '0'));
const WORDS = 'alpha bravo charlie delta echo foxtrot golf hotel india juliet kilo lima mike november oscar papa quebec romeo sierra tango uniform victor whiskey xray yankee zulu prize cash loan winner claim free offer bonus credit urgent'.split(' ');

/** 1,000 generated keyword rules, some with sender prefixes, as one YAML file. */
function generatedRules(dir: string): string {
  const lines = ['rules:'];
  for (let i = 0; i < 1000; i++) {
    const phrases = Array.from({ length: 3 }, () => Array.from({ length: 1 + Math.floor(random() * 3) }, () => pick(WORDS) + (random() < 0.5 ? String(i % 97) : '')).join(' '));
    lines.push(`  - id: GEN_${i}`, `    description: generated rule ${i}`, `    keywords: ${JSON.stringify(phrases)}`, `    score: ${(random() * 3).toFixed(1)}`);
    if (i % 10 === 0) lines.push(`    sender: ["+4490${i % 10}*"]`);
  }
  const file = join(dir, 'generated.yaml');
  writeFileSync(file, lines.join('\n') + '\n');
  return file;
}

function subscriberRules(): SubscriberRules {
  return {
    block: [number(), number(), '0900*', '*BET*'],
    allow: [number(), number()],
    keywords: [pick(WORDS), `${pick(WORDS)} ${pick(WORDS)}`],
    quiet: [{ from: '22:00', to: '07:00', tz: 'Europe/London' }],
    enabled: true,
  };
}

const json = process.argv.includes('--json');
const n = Number(arg('messages') ?? 1_000_000);
const corpus = uciCorpus();
const dir = mkdtempSync(join(tmpdir(), 'spamgate-bench-'));

const memBefore = memoryMB();
const generated = generatedRules(dir);
const rules = loadRuleSet([shippedRulesDir(), generated]);
const engine = createEngine({ rules });
const subscribers: string[] = [];
const subscriberTable: SubscriberRules[] = [];
const loadStart = process.hrtime.bigint();
for (let i = 0; i < 100_000; i++) {
  const s = decoded('+4477' + String(10_000_000 + i));
  const r = subscriberRules();
  subscribers.push(s);
  subscriberTable.push(r);
  engine.setSubscriber(s, r, { trusted: true });
}
const loadSeconds = Number(process.hrtime.bigint() - loadStart) / 1e9;

// A fixed pool of messages, reused round-robin; a quarter go to subscribers.
const messages: MessageInput[] = Array.from({ length: 20_000 }, (_, i) => ({
  from: random() < 0.1 ? pick(['PRIZEDRAW', 'MYBANK', '87121']) : number(),
  to: random() < 0.25 ? pick(subscribers) : number(),
  text: corpus[i % corpus.length]!.text,
  time: 1_780_000_000_000 + i * 1000,
}));
const m = messages.length;

// Warm up: compiles hot functions and compiles every touched subscriber once.
for (let i = 0; i < 200_000; i++) engine.check(messages[i % m]!);
const memAfter = memoryMB();

/** The same engine with other rules or a classifier: same subscribers, same traffic. */
function variant(ruleFiles: readonly string[], classifier?: BayesClassifier): Engine {
  const e = createEngine({ rules: loadRuleSet(ruleFiles), ...(classifier ? { classifier, bayesBands: BAYES_BANDS } : {}) });
  subscribers.forEach((s, i) => e.setSubscriber(s, subscriberTable[i]!, { trusted: true }));
  return e;
}
const volumeFiles = new Set(rules.rules.filter((r) => r.volume).map((r) => r.file));
const statelessFiles = rules.files.filter((f) => !volumeFiles.has(f));
const stateless = variant(statelessFiles);
const bayes = new BayesClassifier(new BayesModel());
for (const c of corpus) {
  const msg = engine.normalise({ from: '+447700900000', to: '+447700900001', text: c.text });
  bayes.learn(msg, analyseText(msg.text), c.label);
}
const withBayes = variant(statelessFiles, bayes);
for (const e of [stateless, withBayes]) for (let i = 0; i < 100_000; i++) e.check(messages[i % m]!);
for (let i = 0; i < 50_000; i++) engine.check(messages[i % m]!);

let sink = 0;
// --only stateless|bayes: run just that variant (for a CPU profile of one path), print its rate.
const only = arg('only');
if (only === 'stateless' || only === 'bayes') {
  const e = only === 'bayes' ? withBayes : stateless;
  const t = throughput(n, (i) => {
    sink += e.check(messages[i % m]!).score;
  });
  console.log(`  ${only}: ${fmt(Math.round(t.perSecond))} msgs/s   ${fmt(Math.round(t.perCpuSecond))} per CPU-s`);
  process.exit(sink === 0.5 ? 1 : 0);
}
const baseline = throughput(n, (i) => {
  sink += messages[i % m]!.text.length;
});
const analysis = throughput(n, (i) => {
  sink += analyseText(messages[i % m]!.text).wordCount; // what a check reads; `words` is built only on demand
});
const check = throughput(n, (i) => {
  sink += engine.check(messages[i % m]!).score;
});
const checkStateless = throughput(n, (i) => {
  sink += stateless.check(messages[i % m]!).score;
});
const checkBayes = throughput(n, (i) => {
  sink += withBayes.check(messages[i % m]!).score;
});
const lat = latencies(100_000, (i) => {
  sink += engine.check(messages[i % m]!).score;
});
const latStateless = latencies(100_000, (i) => {
  sink += stateless.check(messages[i % m]!).score;
});

const rate = (t: { perSecond: number; perCpuSecond: number }): { wall: number; cpu: number } => ({ wall: Math.round(t.perSecond), cpu: Math.round(t.perCpuSecond) });
const result = {
  rules: rules.rules.length,
  volumeRules: rules.rules.filter((r) => r.volume).length,
  subscribers: engine.subscriberCount,
  subscriberLoadSeconds: Number(loadSeconds.toFixed(3)),
  messages: n,
  checksPerSecond: Math.round(check.perSecond),
  check: rate(check),
  checkWithoutVolumeRules: rate(checkStateless),
  checkRulesAndBayes: rate(checkBayes),
  analysisOnly: rate(analysis),
  bareLoop: rate(baseline),
  analysisOnlyPerSecond: Math.round(analysis.perSecond),
  bareLoopPerSecond: Math.round(baseline.perSecond),
  checkCostVsAnalysis: Number((analysis.perSecond / check.perSecond).toFixed(2)),
  withoutVolumeCostVsAnalysis: Number((analysis.perSecond / checkStateless.perSecond).toFixed(2)),
  rulesAndBayesCostVsAnalysis: Number((analysis.perSecond / checkBayes.perSecond).toFixed(2)),
  latencyMicroseconds: { p50: Number(lat.p50.toFixed(2)), p99: Number(lat.p99.toFixed(2)), p999: Number(lat.p999.toFixed(2)) },
  latencyWithoutVolumeRulesMicroseconds: { p50: Number(latStateless.p50.toFixed(2)), p99: Number(latStateless.p99.toFixed(2)), p999: Number(latStateless.p999.toFixed(2)) },
  heapMB: Number((memAfter.heapUsed - memBefore.heapUsed).toFixed(1)),
  rssMB: Number(memAfter.rss.toFixed(1)),
  node: process.version,
};
if (json) console.log(JSON.stringify(result));
else {
  const line = (label: string, r: { wall: number; cpu: number }, tail = ''): void =>
    console.log(`  ${label.padEnd(24)} ${fmt(r.wall).padStart(11)} msgs/s   ${fmt(r.cpu).padStart(11)} per CPU-s${tail}`);
  console.log(`engine.check, one core: ${result.rules} operator rules (${result.volumeRules} of them volume rules), ${fmt(result.subscribers)} subscribers × 10 rules (loaded in ${result.subscriberLoadSeconds} s)`);
  line('check', result.check, `   → ${result.checkCostVsAnalysis}× the text analysis`);
  line('check, no volume rules', result.checkWithoutVolumeRules, `   (target ≥ 400,000, rules only) → ${result.withoutVolumeCostVsAnalysis}× the text analysis`);
  line('check, rules + Bayes', result.checkRulesAndBayes, `   (target ≥ 250,000, no volume rules) → ${result.rulesAndBayesCostVsAnalysis}× the text analysis`);
  line('analysis alone', result.analysisOnly);
  line('bare loop', result.bareLoop);
  const l = result.latencyMicroseconds;
  const s = result.latencyWithoutVolumeRulesMicroseconds;
  console.log(`  latency          p50 ${l.p50} µs   p99 ${l.p99} µs   p99.9 ${l.p999} µs   (no volume rules: p50 ${s.p50} µs   p99 ${s.p99} µs   p99.9 ${s.p999} µs)`);
  console.log(`  memory           heap +${result.heapMB} MB for rules and subscribers, RSS ${result.rssMB} MB`);
}
if (sink === 0.5) console.log(''); // keep the work observable
