import type { Command } from 'commander';
import cliProgress from 'cli-progress';
import { Trainer, TokenStore } from '../../bayes/index.js';
import { MessageError } from '../../message/normalise.js';
import { defaultDatabasePath, StoreError } from '../../store/db.js';
import { CliError, EXIT_BAD_INPUT, runCommand } from '../common.js';
import { labelledInputs } from '../labelled.js';

interface TrainFlags {
  model?: string;
  forget?: boolean;
  onError?: boolean;
  spam?: string[];
  ham?: string[];
  region: string;
  json?: boolean;
}

export function registerTrainCommand(program: Command): void {
  program
    .command('train')
    .summary('teach the Bayesian classifier from labelled messages')
    .description(
      'Train (or with --forget, untrain) the Bayesian model from labelled TSV (`spam|ham<TAB>text`) or JSONL\n' +
        '(`{"label","text",…}`) files, and from mail archives with --spam/--ham (mbox, Maildir, .eml trees, .gz).\n' +
        'A message trained twice with the same label counts once; trained again with the other label it moves.\n' +
        'Everything is written in one transaction at the end: an error leaves the stored model as it was.',
    )
    .argument('[files...]', 'labelled TSV or JSONL files, or - for stdin')
    .option('-m, --model <path>', 'model database', defaultDatabasePath())
    .option('--forget', 'undo an earlier training of these messages with these labels')
    .option('--on-error', 'train on error: learn only messages the model gets wrong or is unsure about')
    .option('--spam <paths...>', 'mail archives of spam')
    .option('--ham <paths...>', 'mail archives of ham')
    .option('--region <code>', 'ISO 3166 region for national numbers', 'GB')
    .option('--json', 'print the result as JSON')
    .addHelpText('after', '\nExamples:\n  spamgate train ../shared/corpora/sms-spam-collection/SMSSpamCollection.tsv\n  spamgate train --model sms.db --on-error new-reports.jsonl\n  spamgate train --spam ~/Mail/spam --ham ~/Mail/cur.mbox\n  spamgate train --forget wrongly-labelled.tsv')
    .action(
      runCommand(async (files: string[], flags: TrainFlags) => {
        if (files.length === 0 && !flags.spam?.length && !flags.ham?.length) throw new CliError('nothing to train: give labelled files, or --spam/--ham archives');
        let store: TokenStore;
        try {
          store = TokenStore.open(flags.model!);
        } catch (err) {
          if (err instanceof StoreError) throw new CliError(err.message);
          throw err;
        }
        const errors: string[] = [];
        const report = (msg: string): void => {
          errors.push(msg);
          process.stderr.write(`spamgate: ${msg}\n`);
        };
        const trainer = new Trainer(store, { onError: flags.onError ?? false, region: flags.region });
        const bar = process.stderr.isTTY ? new cliProgress.SingleBar({ format: 'training {value} messages | {rate} msgs/s', hideCursor: true }, cliProgress.Presets.shades_classic) : undefined;
        const started = Date.now();
        const seen = { spam: 0, ham: 0 };
        bar?.start(0, 0, { rate: 0 });
        try {
          for await (const { label, input } of labelledInputs({ files, ...(flags.spam ? { spam: flags.spam } : {}), ...(flags.ham ? { ham: flags.ham } : {}) }, report)) {
            try {
              if (flags.forget) trainer.forget(label, input);
              else trainer.learn(label, input);
              seen[label]++;
            } catch (err) {
              if (!(err instanceof MessageError)) throw err;
              report(`${input.id ?? '?'}: ${err.message}`);
            }
            const n = seen.spam + seen.ham;
            if (bar && n % 500 === 0) bar.update(n, { rate: Math.round(n / Math.max((Date.now() - started) / 1000, 0.001)) });
          }
          bar?.stop();
          if (!flags.forget) {
            if (seen.spam + seen.ham === 0) throw new CliError('no labelled message to train on' + (errors.length ? ` (${errors.length} bad input${errors.length === 1 ? '' : 's'})` : ''));
            const totals = store.messages;
            if (totals.spam === 0 || totals.ham === 0) {
              throw new CliError(`the model would know only ${totals.spam === 0 ? 'ham' : 'spam'}: train both spam and ham (model left unchanged)`);
            }
          }
          store.save();
        } finally {
          bar?.stop();
          store.close();
        }
        const seconds = (Date.now() - started) / 1000;
        const result = { model: flags.model, ...trainer.counts, input: seen, totals: store.messages, errors: errors.length, seconds };
        if (flags.json) process.stdout.write(JSON.stringify(result) + '\n');
        else {
          const c = trainer.counts;
          process.stdout.write(
            `${flags.forget ? 'forgot' : 'trained'} ${flags.model}: ${seen.spam} spam and ${seen.ham} ham read in ${seconds.toFixed(2)} s; ` +
              (flags.forget ? `${c.forgotten} forgotten, ${c.unknown} not found` : `${c.learned} learned, ${c.relabelled} relabelled, ${c.already} already known${flags.onError ? `, ${c.skipped} already right` : ''}`) +
              `\nmodel now holds ${store.messages.spam} spam and ${store.messages.ham} ham messages\n`,
          );
        }
        return errors.length > 0 ? EXIT_BAD_INPUT : 0;
      }),
    );
}
