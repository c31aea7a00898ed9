import type { Command } from 'commander';
import type { SubscriberServiceImpl } from '../../service/service.js';
import type { SpamBoxItem } from '../../service/types.js';
import { CliError, EXIT_BAD_INPUT, runCommand } from '../common.js';
import { addStoreFlags, count, operatorActor, print, printPage, withService, type StoreFlags } from './subscriber.js';

const iso = (t: number): string => new Date(t).toISOString().replace(/\.\d{3}Z$/, 'Z');

function oneLine(text: string, max: number): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > max ? flat.slice(0, max - 1) + '…' : flat;
}

function describeItem(item: SpamBoxItem): string {
  const rules = item.verdict.reasons.map((r) => r.rule).join(' ');
  return (
    `#${item.id}  from ${item.from}  to ${item.subscriber}\n` +
    `  sent ${iso(item.time)}  held ${iso(item.storedAt)}${item.messageId ? `  message id ${item.messageId}` : ''}\n` +
    `  ${item.verdict.action} score ${item.verdict.score}: ${rules}\n` +
    `  ${item.text.replace(/\n/g, '\n  ')}\n`
  );
}

function itemId(value: string): number {
  const id = count(value, 'id');
  if (id === 0) throw new CliError(`id '${value}': spam box ids start at 1`);
  return id;
}

/** "24h", "7d", "90m" ago, or an ISO-8601 time, as epoch ms. */
export function parseSince(value: string, now = Date.now()): number {
  const rel = /^(\d{1,6})\s*([mhd])$/i.exec(value.trim());
  if (rel) return now - Number(rel[1]) * { m: 60_000, h: 3_600_000, d: 86_400_000 }[rel[2]!.toLowerCase() as 'm' | 'h' | 'd'];
  const t = Date.parse(value);
  if (Number.isNaN(t)) throw new CliError(`--since '${value}': expected a duration (24h, 7d) or an ISO-8601 time`);
  return t;
}

export function registerSpamBoxCommand(program: Command): void {
  const box = program
    .command('spambox')
    .summary("subscribers' spam boxes: list, show, release, delete, purge, digest")
    .description(
      'What the filter held for each subscriber. Ids are per subscriber (1, 2, 3… for each), the numbers the\n' +
        'subscriber sees by SMS. Every release and delete is written to the audit trail.',
    )
    .addHelpText(
      'after',
      '\nExamples:\n' +
        '  spamgate spambox list +447700900001\n' +
        '  spamgate spambox show +447700900001 3\n' +
        '  spamgate spambox release +447700900001 3 --json     # the message, for delivery\n' +
        '  spamgate spambox purge --retention-days 30\n' +
        '  spamgate spambox digest +447700900001 --since 24h\n' +
        '\nExit status: 0 done; 1 no such message; 2 bad arguments or database.',
    );

  addStoreFlags(
    box
      .command('list')
      .summary('held messages, newest first')
      .argument('<number>', 'subscriber number')
      .option('--limit <n>', 'at most this many', '20')
      .option('--offset <n>', 'skip this many', '0')
      .option('--json', 'print JSON: { items, total }'),
  )
    .addHelpText('after', '\nExamples:\n  spamgate spambox list 07700900001\n  spamgate spambox list +447700900001 --offset 20 --json')
    .action(
      runCommand((number: string, flags: StoreFlags & { limit: string; offset: string }) =>
        withService(flags, (svc) => {
          const page = svc.listSpamBox(number, { limit: count(flags.limit, '--limit'), offset: count(flags.offset, '--offset') });
          printPage(flags, page, (m) => `${String(m.id).padStart(5)}  ${iso(m.storedAt)}  ${m.from.padEnd(16)} ${oneLine(m.text, 60)}`, 'held message');
        }),
      ),
    );

  /** show, release and delete: one held message by subscriber and id; exit 1 when it is not there. */
  const itemCommand = (name: string, summary: string, json: string, act: (svc: SubscriberServiceImpl, number: string, id: number) => { value: unknown; text: string } | undefined): void => {
    addStoreFlags(box.command(name).summary(summary).argument('<number>', 'subscriber number').argument('<id>', 'spam box id').option('--json', json)).action(
      runCommand((number: string, id: string, flags: StoreFlags) =>
        withService(flags, (svc) => {
          const done = act(svc, number, itemId(id));
          if (!done) throw new CliError(`no message ${id} in the spam box of ${svc.subscriberKey(number)}`, EXIT_BAD_INPUT);
          print(flags, done.value, () => done.text);
        }),
      ),
    );
  };
  itemCommand('show', 'one held message with its verdict', 'print the item as JSON', (svc, number, id) => {
    const item = svc.getSpamBoxItem(number, id);
    return item && { value: item, text: describeItem(item) };
  });
  itemCommand('release', 'take a message out of the spam box for delivery, and print it', 'print the released message as JSON', (svc, number, id) => {
    const item = svc.release(number, id, operatorActor());
    return item && { value: item, text: `released:\n${describeItem(item)}` };
  });
  itemCommand('delete', 'delete a held message', 'print the result as JSON', (svc, number, id) =>
    svc.deleteSpamBoxItem(number, id, operatorActor()) ? { value: { deleted: id }, text: `deleted message ${id}\n` } : undefined,
  );

  addStoreFlags(
    box
      .command('purge')
      .summary('drop held messages older than the retention')
      .option('--retention-days <days>', 'keep this many days', '30')
      .option('--json', 'print the result as JSON'),
  )
    .addHelpText('after', '\nRun it daily (cron or a systemd timer); `spamgate serve` also purges on its own.\n\nExamples:\n  spamgate spambox purge\n  spamgate spambox purge --retention-days 7 --json')
    .action(
      runCommand((flags: StoreFlags & { retentionDays: string }) => {
        const days = count(flags.retentionDays, '--retention-days');
        if (days === 0) throw new CliError('--retention-days must be at least 1');
        return withService(
          flags,
          (svc) => {
            const purged = svc.purge();
            print(flags, { purged, retentionDays: days }, () => `purged ${purged} message${purged === 1 ? '' : 's'} held more than ${days} days\n`);
          },
          { retentionDays: days },
        );
      }),
    );

  addStoreFlags(
    box
      .command('digest')
      .summary('the digest SMS for a subscriber, or with --all for everyone with something held')
      .argument('[number]', 'subscriber number')
      .option('--all', 'every subscriber with messages held since --since, one line each')
      .option('--since <when>', 'a duration back (24h, 7d) or an ISO-8601 time', '24h')
      .option('--json', 'print JSON: { subscriber, since, text } (one line per subscriber with --all)'),
  )
    .addHelpText(
      'after',
      '\nThe text fits one SMS (160 GSM characters), ready for the SMSC. With --all, text output is\n' +
        'NUMBER<TAB>TEXT per line, for a daily job that hands each line to the SMSC.\n\nExamples:\n' +
        '  spamgate spambox digest +447700900001\n  spamgate spambox digest +447700900001 --since 2026-11-23T08:00:00Z --json\n  spamgate spambox digest --all --since 24h --json > digests.jsonl',
    )
    .action(
      runCommand((number: string | undefined, flags: StoreFlags & { since: string; all?: boolean }) =>
        withService(flags, (svc) => {
          const since = parseSince(flags.since);
          if (flags.all === (number !== undefined)) throw new CliError('give a subscriber number or --all (not both)');
          if (number !== undefined) {
            const text = svc.digest(number, since);
            print(flags, { subscriber: svc.subscriberKey(number), since: iso(since), text }, () => text + '\n');
            return;
          }
          const page = 1000;
          for (let offset = 0; ; offset += page) {
            const digests = svc.digests(since, { limit: page, offset });
            process.stdout.write(digests.map((d) => (flags.json ? JSON.stringify({ ...d, since: iso(since) }) : `${d.subscriber}\t${d.text}`) + '\n').join(''));
            if (digests.length < page) break;
          }
        }),
      ),
    );
}
