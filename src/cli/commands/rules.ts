import type { Command } from 'commander';
import { createEngine } from '../../engine/engine.js';
import { AddressNormaliser, assertRegion } from '../../message/address.js';
import type { CompiledRuleSet, CompiledRule, RuleExample } from '../../rules/compile.js';
import { CONDITION_KINDS } from '../../rules/conditions/index.js';
import { loadRuleSet, ruleFiles, shippedRulesDir } from '../../rules/load.js';
import { analyseText } from '../../text/analysis.js';
import { formatRuleStats, ruleStats } from '../../mail/rule-stats.js';
import { defaultMailRulesDir } from '../../mail/scan.js';
import { CliError, EXIT_BAD_INPUT, runCommand } from '../common.js';
import { labelledInputs } from '../labelled.js';

interface RulesFlags {
  region: string;
  tz: string;
  json?: boolean;
}

interface StatsFlags extends RulesFlags {
  corpus?: string[];
  spam?: string[];
  ham?: string[];
}

function load(paths: string[], flags: RulesFlags): CompiledRuleSet {
  const normaliser = new AddressNormaliser(assertRegion(flags.region));
  return loadRuleSet(paths.length > 0 ? paths : shippedRulesDir(), { normaliser, defaultTimeZone: flags.tz });
}

export interface ExampleFailure {
  readonly rule: string;
  readonly file: string;
  readonly line: number;
  readonly expected: 'match' | 'no match';
  readonly text: string;
}

/** Run every rule's examples against the rule set: the self-check of a rule file. */
export function runRuleExamples(set: CompiledRuleSet): { examples: number; failures: ExampleFailure[] } {
  const engine = createEngine({ rules: set });
  const failures: ExampleFailure[] = [];
  let examples = 0;
  const check = (rule: CompiledRule, example: RuleExample, expected: boolean): void => {
    examples++;
    const message = engine.normalise(example.input);
    const matched = set.matchRule(rule.index, message, analyseText(message.text)) !== null;
    if (matched !== expected) {
      failures.push({ rule: rule.id, file: example.file, line: example.line, expected: expected ? 'match' : 'no match', text: example.input.text });
    }
  };
  for (const rule of set.rules) {
    for (const e of rule.examples.match) check(rule, e, true);
    for (const e of rule.examples.noMatch) check(rule, e, false);
  }
  return { examples, failures };
}

export function registerRulesCommand(program: Command): void {
  const rules = program
    .command('rules')
    .summary('validate, test and explain operator rule files')
    .description('Operator rules are YAML files; see the README for the rule language. Without paths, the shipped rules/ are used.');

  rules
    .command('lint')
    .description('validate rule files without running them: every problem with file:line:column')
    .argument('[paths...]', 'rule files or folders')
    .option('--region <code>', 'ISO 3166 region for national numbers', 'GB')
    .option('--tz <zone>', 'IANA time zone for windows that name none', 'UTC')
    .option('--json', 'machine-readable result')
    .action(
      runCommand(async (paths: string[], flags: RulesFlags) => {
        const files = ruleFiles(paths.length > 0 ? paths : [shippedRulesDir()]);
        const set = load(paths, flags);
        const scoring = set.rules.filter((r) => !r.helper).length;
        const volume = set.rules.filter((r) => r.volume).map((r) => r.id);
        if (flags.json) process.stdout.write(JSON.stringify({ ok: true, files: files.length, rules: set.rules.length, scoring, volume }) + '\n');
        else {
          process.stdout.write(`ok: ${set.rules.length} rules (${scoring} scoring) in ${files.length} files\n`);
          if (volume.length > 0) process.stdout.write(`note: ${volume.length} volume rules (${volume.join(', ')}) depend on the traffic checked before them; examples cannot show them (docs/volume.md)\n`);
        }
      }),
    );

  rules
    .command('test')
    .description("run every rule's examples: each `match` example must fire the rule, each `no_match` must not")
    .argument('[paths...]', 'rule files or folders')
    .option('--region <code>', 'ISO 3166 region for national numbers', 'GB')
    .option('--tz <zone>', 'IANA time zone for windows that name none', 'UTC')
    .option('--json', 'machine-readable result')
    .action(
      runCommand(async (paths: string[], flags: RulesFlags) => {
        const set = load(paths, flags);
        const { examples, failures } = runRuleExamples(set);
        // Volume rules cannot have examples: their verdict depends on the traffic before them.
        const untested = set.rules.filter((r) => !r.helper && !r.volume && r.examples.match.length === 0).map((r) => r.id);
        const volume = set.rules.filter((r) => r.volume).map((r) => r.id);
        if (flags.json) {
          process.stdout.write(JSON.stringify({ ok: failures.length === 0, examples, failures, untested, volume }, null, 2) + '\n');
        } else {
          for (const f of failures) {
            process.stdout.write(`FAIL ${f.file}:${f.line}: ${f.rule} should ${f.expected === 'match' ? 'match' : 'not match'}: ${JSON.stringify(f.text)}\n`);
          }
          for (const id of untested) process.stdout.write(`note: ${id} has no match examples\n`);
          if (volume.length > 0) process.stdout.write(`note: ${volume.join(', ')}: volume rules, not testable by examples (they depend on traffic; see docs/volume.md)\n`);
          process.stdout.write(`${examples - failures.length}/${examples} examples passed in ${set.rules.length} rules\n`);
        }
        return failures.length > 0 ? 1 : 0;
      }),
    );

  rules
    .command('stats')
    .description(
      'per-rule hit statistics over a labelled corpus, like SpamAssassin\'s hit-frequencies: the share of spam\n' +
        'and of ham each rule fires on, and S/O (1.0: fires only on spam; 0.5: no better than chance), so an\n' +
        'operator sees which rules earn their score. Without rule paths: the shipped rules, or the shipped\n' +
        'email rules when the corpus is mail.',
    )
    .argument('[paths...]', 'rule files or folders')
    .option('-c, --corpus <files...>', 'labelled SMS files: TSV `spam|ham<TAB>text` or JSONL with "label"')
    .option('--spam <paths...>', 'mail archives of spam (mbox, Maildir, .eml trees, .gz)')
    .option('--ham <paths...>', 'mail archives of ham')
    .option('--region <code>', 'ISO 3166 region for national numbers', 'GB')
    .option('--tz <zone>', 'IANA time zone for windows that name none', 'UTC')
    .option('--json', 'machine-readable result')
    .addHelpText(
      'after',
      '\nExamples:\n  spamgate rules stats --corpus ../shared/corpora/sms-spam-collection/SMSSpamCollection.tsv\n' +
        '  spamgate rules stats --spam ~/corpus/spam.mbox --ham ~/corpus/ham/ --json',
    )
    .action(
      runCommand(async (paths: string[], flags: StatsFlags) => {
        const mail = (flags.spam?.length ?? 0) + (flags.ham?.length ?? 0) > 0;
        if (!mail && !flags.corpus?.length) throw new CliError('no corpus: give --corpus FILE (labelled SMS) or --spam/--ham mail archives');
        const set = load(paths.length > 0 ? paths : mail && !flags.corpus?.length ? [defaultMailRulesDir()] : [], flags);
        let bad = 0;
        const report = (message: string): void => {
          bad++;
          if (bad <= 20) process.stderr.write(`spamgate: ${message}\n`);
        };
        const result = await ruleStats(labelledInputs({ files: flags.corpus ?? [], spam: flags.spam ?? [], ham: flags.ham ?? [] }, report), set);
        if (bad > 20) process.stderr.write(`spamgate: … and ${bad - 20} more bad inputs\n`);
        if (result.spam + result.ham === 0) throw new CliError('the corpus holds no labelled message');
        if (flags.json) process.stdout.write(JSON.stringify({ ...result, badInputs: bad }, (_k, v: unknown) => (typeof v === 'number' && Number.isNaN(v) ? null : v)) + '\n');
        else process.stdout.write(formatRuleStats(result) + '\n');
        return bad > 0 ? EXIT_BAD_INPUT : 0;
      }),
    );

  rules
    .command('kinds')
    .description('list the condition kinds a rule can use')
    .action(() => {
      const width = Math.max(...[...CONDITION_KINDS.keys()].map((k) => k.length));
      for (const [key, kind] of CONDITION_KINDS) process.stdout.write(`${key.padEnd(width)}  ${kind.summary}\n`);
    });
}
