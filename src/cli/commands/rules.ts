import type { Command } from 'commander';
import { createEngine } from '../../engine/engine.js';
import { AddressNormaliser, assertRegion } from '../../message/address.js';
import type { CompiledRuleSet, CompiledRule, RuleExample } from '../../rules/compile.js';
import { CONDITION_KINDS } from '../../rules/conditions/index.js';
import { loadRuleSet, ruleFiles, shippedRulesDir } from '../../rules/load.js';
import { analyseText } from '../../text/analysis.js';
import { runCommand } from '../common.js';

interface RulesFlags {
  region: string;
  tz: string;
  json?: boolean;
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
        if (flags.json) process.stdout.write(JSON.stringify({ ok: true, files: files.length, rules: set.rules.length, scoring }) + '\n');
        else process.stdout.write(`ok: ${set.rules.length} rules (${scoring} scoring) in ${files.length} files\n`);
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
        const untested = set.rules.filter((r) => !r.helper && r.examples.match.length === 0).map((r) => r.id);
        if (flags.json) {
          process.stdout.write(JSON.stringify({ ok: failures.length === 0, examples, failures, untested }, null, 2) + '\n');
        } else {
          for (const f of failures) {
            process.stdout.write(`FAIL ${f.file}:${f.line}: ${f.rule} should ${f.expected === 'match' ? 'match' : 'not match'}: ${JSON.stringify(f.text)}\n`);
          }
          for (const id of untested) process.stdout.write(`note: ${id} has no match examples\n`);
          process.stdout.write(`${examples - failures.length}/${examples} examples passed in ${set.rules.length} rules\n`);
        }
        return failures.length > 0 ? 1 : 0;
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
