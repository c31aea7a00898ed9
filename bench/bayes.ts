/**
 * The Bayesian classifier on one core (issue 3): training throughput on the UCI SMS corpus,
 * scoring throughput of engine.check with the shipped rules and the classifier together, and
 * the heap of a model holding 1,000,000 tokens. Baselines in the same run: a bare loop over
 * the same messages, text analysis alone and rules alone, so every figure reads as a ratio too.
 *
 *   npx tsc -p tsconfig.json && node --expose-gc dist/bench/bayes.js [--json] [--messages N] [--tokens N]
 *
 * The corpus is read from ../shared/corpora/sms-spam-collection/SMSSpamCollection.tsv (never
 * copied). Training here is the in-memory model (normalise, analyse, features, counts); the
 * SQLite store's per-message digests for idempotent training are extra (see docs/performance.md).
 */
import { createEngine } from '../src/engine/engine.js';
import { BAYES_BANDS, BayesClassifier, BayesModel, TokenTable } from '../src/bayes/index.js';
import { loadRuleSet, shippedRulesDir } from '../src/rules/load.js';
import { AddressNormaliser } from '../src/message/address.js';
import { normaliseMessage } from '../src/message/normalise.js';
import type { MessageInput } from '../src/message/types.js';
import { analyseText } from '../src/text/analysis.js';
import { arg, decoded, fmt, memoryMB, prng, throughput, uciCorpus } from './lib/measure.js';

const json = process.argv.includes('--json');
const n = Number(arg('messages') ?? 500_000);
const tokenCount = Number(arg('tokens') ?? 1_000_000);
const random = prng(7);
const number = (): string => decoded('+4477009' + String(Math.floor(random() * 100000)).padStart(5, '0'));

const corpus = uciCorpus();
const inputs: MessageInput[] = corpus.map((c, i) => ({ from: number(), to: number(), text: c.text, time: 1_780_000_000_000 + i * 1000 }));
const labels = corpus.map((c) => c.label);
const m = inputs.length;
const normaliser = new AddressNormaliser();

// ---- training --------------------------------------------------------------------------

// Warm-up on a throw-away model, then the timed run counts every message afresh.
const warm = new BayesClassifier(new BayesModel());
for (let i = 0; i < 20_000; i++) {
  const msg = normaliseMessage(inputs[i % m]!, normaliser);
  warm.learn(msg, analyseText(msg.text), labels[i % m]!);
}
let sink = 0;
const bare = throughput(n, (i) => {
  sink += inputs[i % m]!.text.length;
});
const analysis = throughput(n, (i) => {
  sink += analyseText(inputs[i % m]!.text).wordCount; // what a check reads; `words` is built only on demand
});
const classifier = new BayesClassifier(new BayesModel());
const training = throughput(n, (i) => {
  const msg = normaliseMessage(inputs[i % m]!, normaliser);
  classifier.learn(msg, analyseText(msg.text), labels[i % m]!);
});

// ---- scoring ---------------------------------------------------------------------------

// A model trained once on the corpus, as a deployment would have.
const model = new BayesModel();
const trained = new BayesClassifier(model);
for (let i = 0; i < m; i++) {
  const msg = normaliseMessage(inputs[i]!, normaliser);
  trained.learn(msg, analyseText(msg.text), labels[i]!);
}
const rules = loadRuleSet([shippedRulesDir()]);
// Volume rules count traffic per sender and per text: they are measured apart (bench/volume.ts).
const volumeFiles = new Set(rules.rules.filter((r) => r.volume).map((r) => r.file));
const statelessRules = volumeFiles.size === 0 ? rules : loadRuleSet(rules.files.filter((f) => !volumeFiles.has(f)));
const rulesOnly = createEngine({ rules: statelessRules });
const withBayes = createEngine({ rules: statelessRules, classifier: trained, bayesBands: BAYES_BANDS });
for (let i = 0; i < 50_000; i++) {
  rulesOnly.check(inputs[i % m]!);
  withBayes.check(inputs[i % m]!);
}
const classifierOnly = (() => {
  const msgs = inputs.map((x) => normaliseMessage(x, normaliser));
  const analyses = msgs.map((x) => analyseText(x.text));
  return throughput(n, (i) => {
    sink += trained.spamProbability(msgs[i % m]!, analyses[i % m]!);
  });
})();
const checkRules = throughput(n, (i) => {
  sink += rulesOnly.check(inputs[i % m]!).score;
});
const checkBoth = throughput(n, (i) => {
  sink += withBayes.check(inputs[i % m]!).score;
});

// ---- memory of a 1,000,000-token model ---------------------------------------------------

memoryMB();
const before = memoryMB(); // twice: array buffers freed by one collection are released by the next
const big = new BayesModel(undefined, new TokenTable());
const features = new Int32Array(100);
for (let t = 0; t < tokenCount; t += features.length) {
  // Distinct tokens (as hashes, which is what the table keys on), 100 per "message".
  for (let k = 0; k < features.length; k++) features[k] = (Math.imul(t + k + 1, 0x9e3779b1) | 1) ^ 0x5bd1e995;
  big.learn(features, t % 3 === 0 ? 'spam' : 'ham');
}
// Scored once before measuring, so the clue cache (model.ts, allocated on first scoring) counts.
const probe = big.probability(features);
memoryMB();
const after = memoryMB();

const result = {
  messages: n,
  corpusMessages: m,
  trainPerSecond: Math.round(training.perSecond),
  analysisOnlyPerSecond: Math.round(analysis.perSecond),
  bareLoopPerSecond: Math.round(bare.perSecond),
  trainCostVsAnalysis: Number((analysis.perSecond / training.perSecond).toFixed(2)),
  classifierOnlyPerSecond: Math.round(classifierOnly.perSecond),
  checkRulesPerSecond: Math.round(checkRules.perSecond),
  checkRulesAndBayesPerSecond: Math.round(checkBoth.perSecond),
  bayesCostVsRules: Number((checkRules.perSecond / checkBoth.perSecond).toFixed(2)),
  rules: statelessRules.rules.length,
  volumeRuleFilesLeftOut: [...volumeFiles],
  modelTokens: big.table.size,
  // The token table is typed arrays, held outside the JS heap proper: both are counted.
  modelHeapMB: Number((after.heapUsed - before.heapUsed + after.arrayBuffers - before.arrayBuffers).toFixed(1)),
  modelJsHeapMB: Number((after.heapUsed - before.heapUsed).toFixed(1)),
  modelTableMB: Number((big.table.bytes / 2 ** 20).toFixed(1)),
  modelRssMB: Number(after.rss.toFixed(1)),
  node: process.version,
};
if (json) console.log(JSON.stringify(result));
else {
  console.log(`Bayes, one core: UCI SMS corpus (${fmt(m)} messages), ${result.rules} shipped rules (volume rules left out: bench/volume.ts)`);
  console.log(`  training         ${fmt(result.trainPerSecond)} msgs/s   (target ≥ 100,000; normalise + analyse + features + counts)`);
  console.log(`  analysis alone   ${fmt(result.analysisOnlyPerSecond)} msgs/s   → training costs ${result.trainCostVsAnalysis}× the text analysis`);
  console.log(`  bare loop        ${fmt(result.bareLoopPerSecond)} msgs/s`);
  console.log(`  classifier alone ${fmt(result.classifierOnlyPerSecond)} msgs/s   (features + combining, analysis given)`);
  console.log(`  check rules      ${fmt(result.checkRulesPerSecond)} msgs/s`);
  console.log(`  check rules+Bayes ${fmt(result.checkRulesAndBayesPerSecond)} msgs/s   (target ≥ 250,000) → ${result.bayesCostVsRules}× the cost of rules alone`);
  console.log(`  model            ${fmt(result.modelTokens)} tokens: heap + array buffers +${result.modelHeapMB} MB (target ≤ 100 MB; JS heap alone +${result.modelJsHeapMB} MB), token table ${result.modelTableMB} MB, RSS ${result.modelRssMB} MB`);
}
if (sink === 0.5 || probe === 2) console.log(''); // keep the work observable
