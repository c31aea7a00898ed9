import type { Command } from 'commander';
import { readFileSync } from 'node:fs';
import { stratifiedFolds, type Metrics } from '../../bayes/index.js';
import { crossValidateMessages, featuresOf, trainTestMessages, type LabelledMessage } from '../../bayes/experiment.js';
import { AddressNormaliser, assertRegion } from '../../message/address.js';
import { readRecords } from '../../message/records.js';
import { loadRuleSet, shippedRulesDir } from '../../rules/load.js';
import { CliError, runCommand } from '../common.js';

interface EvalFlags {
  folds: string;
  seed: string;
  seeds?: string;
  foldsFile?: string;
  train?: string;
  test?: string;
  bayesOnly?: boolean;
  rules?: string[];
  region: string;
  json?: boolean;
}

async function readLabelled(path: string): Promise<{ data: LabelledMessage[]; lines: number[]; errors: string[] }> {
  const data: LabelledMessage[] = [];
  const lines: number[] = [];
  const errors: string[] = [];
  try {
    for await (const rec of readRecords(path)) {
      if (rec.kind === 'error') errors.push(rec.error);
      else if (!rec.label) errors.push(`${rec.id}: no label: expected 'spam' or 'ham'`);
      else {
        data.push({ label: rec.label, input: rec.input });
        lines.push(rec.line);
      }
    }
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (!code) throw err;
    throw new CliError(`cannot read ${path}: ${code}`);
  }
  for (const e of errors) process.stderr.write(`spamgate: ${e}\n`);
  const spam = data.filter((d) => d.label === 'spam').length;
  if (data.length === 0) throw new CliError(`${path}: no labelled message`);
  if (spam === 0 || spam === data.length) throw new CliError(`${path}: only ${spam === 0 ? 'ham' : 'spam'}; evaluation needs both spam and ham`);
  return { data, lines, errors };
}

/** `line<TAB>fold` per input line (1-based line numbers of the input file). */
function readFoldsFile(path: string, lines: readonly number[]): number[] {
  const byLine = new Map<number, number>();
  readFileSync(path, 'utf8').split(/\r?\n/).forEach((text, i) => {
    if (text.trim() === '') return;
    const m = /^(\d+)\t(\d+)$/.exec(text.trim());
    if (!m) throw new CliError(`${path}:${i + 1}: expected 'line<TAB>fold' (two whole numbers), got ${JSON.stringify(text.slice(0, 40))}`);
    byLine.set(Number(m[1]), Number(m[2]));
  });
  const folds = [...new Set(byLine.values())].sort((a, b) => a - b);
  const index = new Map(folds.map((f, i) => [f, i]));
  return lines.map((line) => {
    const fold = byLine.get(line);
    if (fold === undefined) throw new CliError(`${path}: no fold for input line ${line}`);
    return index.get(fold)!;
  });
}

function pct(x: number): string {
  return x.toFixed(2) + '%';
}

function render(title: string, m: Metrics): string {
  const c = m.confusion;
  return [
    title,
    `  messages ${m.messages} (${m.spam} spam, ${m.ham} ham)`,
    `  accuracy ${pct(100 * m.accuracy)}   spam caught ${pct(m.spamCaughtPercent)}   ham blocked ${m.hamBlockedPercent.toFixed(3)}%`,
    `  F1 ${m.f1.toFixed(4)}   MCC ${m.mcc.toFixed(4)}   ROC AUC ${m.rocAuc.toFixed(4)}`,
    `  confusion      judged spam  judged ham`,
    `    spam        ${String(c.tp).padStart(11)}  ${String(c.fn).padStart(10)}`,
    `    ham         ${String(c.fp).padStart(11)}  ${String(c.tn).padStart(10)}`,
  ].join('\n');
}

export function registerEvalCommand(program: Command): void {
  program
    .command('eval')
    .summary('measure accuracy honestly: k-fold cross-validation or train/test')
    .description(
      'Evaluate on labelled TSV/JSONL. By default the whole decision is measured: each fold trains a fresh model on\n' +
        'the other folds and an engine with the operator rules plus that model checks the held-out messages;\n' +
        '"blocked" means quarantined or blocked. --bayes-only measures the classifier alone at its cutoff.\n' +
        'Nothing is written to any model database.',
    )
    .argument('[file]', 'labelled TSV or JSONL file for cross-validation')
    .option('--folds <n>', 'number of stratified folds', '10')
    .option('--seed <n>', 'seed for the fold assignment', '1')
    .option('--seeds <list>', 'several seeds, comma-separated: report each and the mean (e.g. 1,2,3,4,5)')
    .option('--folds-file <file>', 'use a given assignment: lines of `line<TAB>fold`')
    .option('--train <file>', 'train on this file …')
    .option('--test <file>', '… and test on this one')
    .option('--bayes-only', 'the classifier alone, without operator rules')
    .option('-r, --rules <path...>', 'operator rules for the engine (default: shipped)')
    .option('--region <code>', 'ISO 3166 region for national numbers', 'GB')
    .option('--json', 'machine-readable result')
    .addHelpText('after', '\nExamples:\n  spamgate eval ../shared/corpora/sms-spam-collection/SMSSpamCollection.tsv --folds 10 --seeds 1,2,3,4,5\n  spamgate eval corpus.tsv --bayes-only --json\n  spamgate eval --train old.tsv --test new.tsv')
    .action(
      runCommand(async (file: string | undefined, flags: EvalFlags) => {
        const normaliser = new AddressNormaliser(assertRegion(flags.region));
        const options = flags.bayesOnly ? { bayesOnly: true, normaliser } : { rules: loadRuleSet(flags.rules?.length ? flags.rules : shippedRulesDir(), { normaliser }), normaliser };
        const mode = flags.bayesOnly ? 'classifier alone' : 'rules + classifier';
        if (flags.train || flags.test) {
          if (!flags.train || !flags.test) throw new CliError('--train and --test go together');
          const train = await readLabelled(flags.train);
          const test = await readLabelled(flags.test);
          const m = trainTestMessages(train.data, test.data, options);
          process.stdout.write((flags.json ? JSON.stringify({ mode, train: flags.train, test: flags.test, ...m }) : render(`train ${flags.train}, test ${flags.test} (${mode})`, m)) + '\n');
          return;
        }
        if (!file) throw new CliError('give a labelled file to cross-validate, or --train A --test B');
        const { data, lines } = await readLabelled(file);
        const features = featuresOf(data, normaliser);
        const labels = data.map((d) => d.label);
        if (flags.foldsFile) {
          const m = crossValidateMessages(data, readFoldsFile(flags.foldsFile, lines), options, features);
          process.stdout.write((flags.json ? JSON.stringify({ mode, foldsFile: flags.foldsFile, ...m }) : render(`folds from ${flags.foldsFile} (${mode})`, m)) + '\n');
          return;
        }
        const folds = Number(flags.folds);
        if (!Number.isInteger(folds) || folds < 2 || folds > data.length) throw new CliError(`--folds must be a whole number from 2 to ${data.length}, got '${flags.folds}'`);
        const seeds = (flags.seeds ?? flags.seed).split(',').map((s) => {
          const n = Number(s.trim());
          if (!Number.isInteger(n)) throw new CliError(`seeds must be whole numbers, got '${s}'`);
          return n;
        });
        const runs = seeds.map((seed) => ({ seed, metrics: crossValidateMessages(data, stratifiedFolds(labels, folds, seed), options, features) }));
        const mean = (f: (m: Metrics) => number): number => runs.reduce((a, r) => a + f(r.metrics), 0) / runs.length;
        const summary = {
          mcc: mean((m) => m.mcc),
          spamCaughtPercent: mean((m) => m.spamCaughtPercent),
          hamBlockedPercent: mean((m) => m.hamBlockedPercent),
          maxHamBlockedPercent: Math.max(...runs.map((r) => r.metrics.hamBlockedPercent)),
          accuracy: mean((m) => m.accuracy),
          f1: mean((m) => m.f1),
          rocAuc: mean((m) => m.rocAuc),
        };
        if (flags.json) {
          process.stdout.write(JSON.stringify({ mode, file, folds, runs, ...(runs.length > 1 ? { mean: summary } : {}) }) + '\n');
        } else {
          for (const r of runs) process.stdout.write(render(`${folds}-fold stratified, seed ${r.seed} (${mode})`, r.metrics) + '\n');
          if (runs.length > 1) {
            process.stdout.write(
              `mean over ${runs.length} seeds: MCC ${summary.mcc.toFixed(4)}   spam caught ${pct(summary.spamCaughtPercent)}   ` +
                `ham blocked ${summary.hamBlockedPercent.toFixed(3)}% (worst ${summary.maxHamBlockedPercent.toFixed(3)}%)   ROC AUC ${summary.rocAuc.toFixed(4)}\n`,
            );
          }
        }
      }),
    );
}
