import { readFileSync, writeFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import type { Command } from 'commander';
import { createEngine } from '../../engine/engine.js';
import { AddressNormaliser, assertRegion } from '../../message/address.js';
import { compileRules } from '../../rules/compile.js';
import { parseSubscribersFile, SubscriberRuleError } from '../../rules/subscriber.js';
import { emptySubscriberRules, type QuietWindow, type SubscriberRules } from '../../rules/subscriber-types.js';
import { assertTimeZone } from '../../rules/time.js';
import { parseQuietRange } from '../../service/commands.js';
import { createSubscriberService, type SubscriberServiceImpl } from '../../service/service.js';
import type { Actor, Page, RuleList } from '../../service/types.js';
import { defaultDatabasePath } from '../../store/db.js';
import { CliError, EXIT_BAD_INPUT, runCommand } from '../common.js';

export interface StoreFlags {
  db: string;
  region: string;
  tz: string;
  json?: boolean;
}

/** The flags every subscriber and spam box command shares. */
export function addStoreFlags(cmd: Command): Command {
  return cmd
    .option('--db <path>', 'subscriber database (default: the embedded default, $SPAMGATE_HOME/spamgate.db)', defaultDatabasePath())
    .option('--region <code>', 'ISO 3166 region for national numbers', 'GB')
    .option('--tz <zone>', 'IANA time zone for quiet hours that name none', 'UTC');
}

/**
 * A service for editing: no operator rules, no model and no subscribers loaded into an engine
 * (a running server picks the changes up by its refresh); the engine only validates.
 */
export function openService(flags: StoreFlags, options: { retentionDays?: number } = {}): SubscriberServiceImpl {
  const engine = createEngine({ rules: compileRules([]), defaultRegion: assertRegion(flags.region), defaultTimeZone: assertTimeZone(flags.tz) });
  return createSubscriberService({ engine, dbPath: flags.db, modelPath: false, loadSubscribers: false, ...options });
}

export function operatorActor(): Actor {
  let name = 'cli';
  try {
    name = `cli:${userInfo().username}`;
  } catch {
    // no user name in some containers
  }
  return { kind: 'operator', name };
}

/** Run with a service, closing it whatever happens; rule errors become clear CLI errors. */
export function withService<T>(flags: StoreFlags, body: (svc: SubscriberServiceImpl) => T, options: { retentionDays?: number } = {}): T {
  const svc = openService(flags, options);
  try {
    return body(svc);
  } catch (err) {
    if (err instanceof SubscriberRuleError) throw new CliError(err.message);
    throw err;
  } finally {
    svc.close();
  }
}

export function print(flags: { json?: boolean }, value: unknown, text: () => string): void {
  process.stdout.write(flags.json ? JSON.stringify(value) + '\n' : text());
}

/** A page as JSON, or one line per item and `N of TOTAL things`. */
export function printPage<T>(flags: { json?: boolean }, page: Page<T>, line: (item: T) => string, noun: string): void {
  const plural = page.total === 1 ? noun : noun.endsWith('y') ? noun.slice(0, -1) + 'ies' : noun + 's';
  print(flags, page, () => page.items.map((item) => line(item) + '\n').join('') + `${page.items.length} of ${page.total} ${plural}\n`);
}

function describeRules(number: string, rules: SubscriberRules): string {
  const line = (name: string, values: readonly string[]) => `  ${name.padEnd(9)}${values.length ? values.join(', ') : '-'}\n`;
  return (
    `${number}  filtering ${rules.enabled ? 'on' : 'off'}\n` +
    line('block', rules.block) +
    line('allow', rules.allow) +
    line('keywords', rules.keywords) +
    line('quiet', rules.quiet.map((q) => `${q.from}-${q.to}${q.tz ? ` ${q.tz}` : ''}`))
  );
}

interface RuleFlags extends StoreFlags {
  block?: string[];
  allow?: string[];
  keyword?: string[];
  quiet?: string[];
  filter?: string;
  replace?: boolean;
  quietOff?: boolean;
}

function quietWindows(values: readonly string[] | undefined): QuietWindow[] {
  return (values ?? []).map((v) => {
    const range = parseQuietRange(v);
    if (!range) throw new CliError(`--quiet '${v}': expected a 24-hour range such as 22:00-07:00`);
    return range;
  });
}

function filterFlag(value: string | undefined): boolean | undefined {
  if (value === undefined) return undefined;
  const v = value.toLowerCase();
  if (v !== 'on' && v !== 'off') throw new CliError(`--filter '${value}': expected on or off`);
  return v === 'on';
}

const RULE_FLAGS: ReadonlyArray<[keyof RuleFlags, RuleList]> = [
  ['block', 'block'],
  ['allow', 'allow'],
  ['keyword', 'keywords'],
];

function ruleOptions(cmd: Command): Command {
  return cmd
    .option('--block <pattern...>', 'senders to hold: numbers, prefixes (0900*), globs (*BET*), sender IDs')
    .option('--allow <pattern...>', 'senders always delivered')
    .option('--keyword <phrase...>', 'words or phrases that hold a message')
    .option('--quiet <range...>', 'quiet hours, e.g. 22:00-07:00');
}

function readRulesFile(file: string, flags: StoreFlags): Map<string, SubscriberRules> {
  let text: string;
  try {
    text = file === '-' ? readFileSync(0, 'utf8') : readFileSync(file, 'utf8');
  } catch (err) {
    throw new CliError(`cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  return parseSubscribersFile(text, file === '-' ? '<stdin>' : file, new AddressNormaliser(assertRegion(flags.region)), assertTimeZone(flags.tz));
}

export function registerSubscriberCommand(program: Command): void {
  const sub = program
    .command('subscriber')
    .summary("manage subscribers' own rules (X.1242): block, allow, keywords, quiet hours")
    .description(
      "Operators' view of subscribers' rules, kept in the subscriber database. A running server picks changes up\n" +
        'within a second (it follows the change sequence); subscribers make the same changes by SMS or HTTP.',
    )
    .addHelpText(
      'after',
      '\nExamples:\n' +
        '  spamgate subscriber add +447700900001 --block 0900* --allow +447700900123 --keyword prize --quiet 22:00-07:00\n' +
        '  spamgate subscriber remove +447700900001 --block 0900*\n' +
        '  spamgate subscriber show +447700900001 --json\n' +
        '  spamgate subscriber list --limit 50\n' +
        '  spamgate subscriber audit +447700900001\n' +
        '  spamgate subscriber export > subscribers.json && spamgate subscriber import subscribers.json --db other.db\n' +
        '\nExit status: 0 done; 1 the subscriber or rule was not there; 2 bad arguments, rules or database.',
    );

  addStoreFlags(
    ruleOptions(
      sub
        .command('add')
        .summary("add rules to a subscriber (created if new)")
        .argument('<number>', 'subscriber number, E.164 or national')
        .option('--filter <on|off>', 'turn filtering on or off')
        .option('--replace', 'replace all the rules with those given instead of adding')
        .option('--json', 'print the resulting rules as JSON'),
    ),
  )
    .addHelpText('after', '\nExamples:\n  spamgate subscriber add 07700 900001 --block 0900* "*BET*" --keyword prize "free entry"\n  spamgate subscriber add +447700900001 --replace --allow +447700900123 --filter on')
    .action(
      runCommand((number: string, flags: RuleFlags) =>
        withService(flags, (svc) => {
          const key = svc.subscriberKey(number);
          const quiet = quietWindows(flags.quiet);
          const enabled = filterFlag(flags.filter);
          const rules = svc.modifyRules(key, operatorActor(), (stored) => {
            const next: { -readonly [K in keyof SubscriberRules]: SubscriberRules[K] } = { ...(flags.replace ? emptySubscriberRules() : stored) };
            for (const [flag, list] of RULE_FLAGS) {
              for (const value of (flags[flag] as string[] | undefined) ?? []) {
                if (svc.findRule(next, list, value) === undefined) next[list] = [...next[list], value.trim()];
              }
            }
            if (quiet.length > 0) next.quiet = [...next.quiet.filter((q) => !quiet.some((w) => w.from === q.from && w.to === q.to)), ...quiet];
            next.enabled = enabled ?? next.enabled;
            return { rules: next, action: flags.replace ? 'rules.set' : 'rules.add', detail: { block: flags.block ?? [], allow: flags.allow ?? [], keywords: flags.keyword ?? [], quiet: flags.quiet ?? [], ...(enabled !== undefined ? { enabled } : {}), replace: flags.replace ?? false } };
          });
          print(flags, { subscriber: key, rules }, () => describeRules(key, rules));
        }),
      ),
    );

  addStoreFlags(
    ruleOptions(
      sub
        .command('remove')
        .summary('remove rules from a subscriber, or with no rule flags the subscriber and their spam box')
        .argument('<number>', 'subscriber number')
        .option('--quiet-off', 'remove every quiet hours window')
        .option('--json', 'print the result as JSON'),
    ),
  )
    .addHelpText('after', '\nExamples:\n  spamgate subscriber remove +447700900001 --keyword prize\n  spamgate subscriber remove +447700900001        # the subscriber, their rules and spam box')
    .action(
      runCommand((number: string, flags: RuleFlags) =>
        withService(flags, (svc) => {
          const key = svc.subscriberKey(number);
          const actor = operatorActor();
          const quiet = quietWindows(flags.quiet);
          const any = RULE_FLAGS.some(([f]) => ((flags[f] as string[] | undefined) ?? []).length > 0) || quiet.length > 0 || flags.quietOff;
          if (!any) {
            const deleted = svc.deleteSubscriber(key, actor);
            if (!deleted) throw new CliError(`no subscriber ${key} in ${flags.db}`, EXIT_BAD_INPUT);
            print(flags, { subscriber: key, deleted: true }, () => `removed ${key}, their rules and spam box\n`);
            return 0;
          }
          const current = svc.getRules(key);
          if (!current) throw new CliError(`no subscriber ${key} in ${flags.db}`, EXIT_BAD_INPUT);
          const missing: string[] = [];
          for (const [flag, list] of RULE_FLAGS) {
            for (const value of (flags[flag] as string[] | undefined) ?? []) {
              if (svc.findRule(svc.getRules(key)!, list, value) === undefined) missing.push(`${list} '${value}'`);
              else svc.removeRule(key, list, value, actor);
            }
          }
          svc.modifyRules(key, actor, (rules) => {
            for (const w of quiet) if (!rules.quiet.some((q) => q.from === w.from && q.to === w.to)) missing.push(`quiet '${w.from}-${w.to}'`);
            const keep = flags.quietOff ? [] : rules.quiet.filter((q) => !quiet.some((w) => w.from === q.from && w.to === q.to));
            return keep.length === rules.quiet.length ? undefined : { rules: { ...rules, quiet: keep }, action: 'rules.quiet', detail: { removed: rules.quiet.length - keep.length } };
          });
          const after = svc.getRules(key)!;
          for (const m of missing) process.stderr.write(`spamgate: ${key} has no ${m}\n`);
          print(flags, { subscriber: key, rules: after, notFound: missing }, () => describeRules(key, after));
          return missing.length > 0 ? EXIT_BAD_INPUT : 0;
        }),
      ),
    );

  addStoreFlags(
    sub
      .command('list')
      .summary('list subscribers with how many rules each has')
      .option('--limit <n>', 'at most this many', '100')
      .option('--offset <n>', 'skip this many', '0')
      .option('--json', 'print JSON: { items: [{ subscriber, rules }], total }'),
  )
    .addHelpText('after', '\nExamples:\n  spamgate subscriber list\n  spamgate subscriber list --offset 100 --limit 100 --json')
    .action(
      runCommand((flags: StoreFlags & { limit: string; offset: string }) =>
        withService(flags, (svc) => {
          const page = svc.listSubscribers({ limit: count(flags.limit, '--limit'), offset: count(flags.offset, '--offset') });
          const items = page.items.map((n) => ({ subscriber: n, rules: svc.getRules(n)! }));
          printPage(
            flags,
            { items, total: page.total },
            ({ subscriber, rules }) => {
              const n = rules.block.length + rules.allow.length + rules.keywords.length + rules.quiet.length;
              return `${subscriber.padEnd(16)} ${String(n).padStart(3)} rule${n === 1 ? ' ' : 's'}${rules.enabled ? '' : '  (filtering off)'}`;
            },
            'subscriber',
          );
        }),
      ),
    );

  addStoreFlags(
    sub
      .command('show')
      .summary("a subscriber's rules and spam box size")
      .argument('<number>', 'subscriber number')
      .option('--json', 'print JSON: { subscriber, rules, spamBox }'),
  )
    .addHelpText('after', '\nExamples:\n  spamgate subscriber show 07700900001\n  spamgate subscriber show +447700900001 --json')
    .action(
      runCommand((number: string, flags: StoreFlags) =>
        withService(flags, (svc) => {
          const key = svc.subscriberKey(number);
          const rules = svc.getRules(key);
          const held = svc.listSpamBox(key, { limit: 1 }).total;
          if (!rules && held === 0) throw new CliError(`no subscriber ${key} in ${flags.db}`, EXIT_BAD_INPUT);
          print(flags, { subscriber: key, rules: rules ?? null, spamBox: held }, () => (rules ? describeRules(key, rules) : `${key}  no rules\n`) + `  spam box ${held} message${held === 1 ? '' : 's'}\n`);
        }),
      ),
    );

  addStoreFlags(
    sub
      .command('audit')
      .summary('the audit trail: who changed which rules, released or deleted what, reported what')
      .argument('[number]', 'only this subscriber (default: everyone)')
      .option('--limit <n>', 'at most this many, newest first', '50')
      .option('--offset <n>', 'skip this many', '0')
      .option('--json', 'print JSON: { items: [{ id, at, actor, subscriber, action, detail }], total }'),
  )
    .addHelpText('after', '\nExamples:\n  spamgate subscriber audit +447700900001\n  spamgate subscriber audit --limit 1000 --json')
    .action(
      runCommand((number: string | undefined, flags: StoreFlags & { limit: string; offset: string }) =>
        withService(flags, (svc) => {
          const page = svc.auditTrail({ ...(number !== undefined ? { subscriber: number } : {}), limit: count(flags.limit, '--limit'), offset: count(flags.offset, '--offset') });
          printPage(
            flags,
            page,
            (a) => {
              const who = a.actor.kind === 'operator' ? `operator ${a.actor.name}` : `${a.actor.number} by ${a.actor.channel}`;
              return `${new Date(a.at).toISOString()}  ${(a.subscriber ?? '-').padEnd(16)} ${a.action.padEnd(18)} ${who}${a.detail ? `  ${JSON.stringify(a.detail)}` : ''}`;
            },
            'entry',
          );
        }),
      ),
    );

  addStoreFlags(
    sub
      .command('import')
      .summary('set subscribers’ rules from a JSON or YAML file (all or nothing)')
      .argument('<file>', 'mapping from number to rules: { "+447700900001": { "block": [...], "allow": [...], "keywords": [...], "quiet": [{ "from", "to" }], "enabled": true } }, or - for stdin')
      .option('--json', 'print the result as JSON'),
  )
    .addHelpText('after', '\nEvery entry is validated first; one bad entry (reported as file:line:column) imports nothing.\nEach subscriber in the file gets exactly the rules given (others are untouched).\n\nExamples:\n  spamgate subscriber import subscribers.json\n  spamgate subscriber export --db old.db | spamgate subscriber import - --db new.db')
    .action(
      runCommand((file: string, flags: StoreFlags) =>
        withService(flags, (svc) => {
          const entries = readRulesFile(file, flags);
          const n = svc.importRules(entries, operatorActor());
          print(flags, { imported: n }, () => `imported rules for ${n} subscriber${n === 1 ? '' : 's'} into ${flags.db}\n`);
        }),
      ),
    );

  addStoreFlags(
    sub
      .command('export')
      .summary('write subscribers’ rules as JSON (the format import reads)')
      .argument('[numbers...]', 'only these subscribers (default: all)')
      .option('-o, --output <file>', 'write to a file instead of stdout'),
  )
    .addHelpText('after', '\nExamples:\n  spamgate subscriber export > subscribers.json\n  spamgate subscriber export +447700900001 -o one.json')
    .action(
      runCommand((numbers: string[], flags: StoreFlags & { output?: string }) =>
        withService(flags, (svc) => {
          const out: Record<string, SubscriberRules> = {};
          const missing: string[] = [];
          if (numbers.length > 0) {
            for (const n of numbers) {
              const key = svc.subscriberKey(n);
              const rules = svc.getRules(key);
              if (rules) out[key] = rules;
              else missing.push(key);
            }
          } else {
            const pageSize = 10_000;
            for (let offset = 0; ; offset += pageSize) {
              const page = svc.listSubscribers({ limit: pageSize, offset });
              for (const n of page.items) out[n] = svc.getRules(n)!;
              if (page.items.length < pageSize) break;
            }
          }
          const text = JSON.stringify(out, null, 2) + '\n';
          if (flags.output) writeFileSync(flags.output, text);
          else process.stdout.write(text);
          for (const m of missing) process.stderr.write(`spamgate: no subscriber ${m}\n`);
          return missing.length > 0 ? EXIT_BAD_INPUT : 0;
        }),
      ),
    );
}

/** A non-negative whole number from a flag. */
export function count(value: string, flag: string): number {
  if (!/^\d{1,9}$/.test(value)) throw new CliError(`${flag} '${value}': expected a whole number`);
  return Number(value);
}
