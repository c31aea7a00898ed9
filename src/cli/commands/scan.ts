import type { Command } from 'commander';
import { createWriteStream } from 'node:fs';
import type { Writable } from 'node:stream';
import { tuneJitForBatch } from '../../mail/jit.js';
import { isMailArchive, scanArchives } from '../../mail/scan.js';
import { MessageError } from '../../message/normalise.js';
import { readRecords } from '../../message/records.js';
import { addEngineFlags, buildEngine, CliError, EXIT_BAD_INPUT, runCommand, type EngineFlags } from '../common.js';
import { createResultWriter, OUTPUT_FORMATS, ScanSummary, type OutputFormat, type ResultRow } from '../output.js';

interface ScanFlags extends EngineFlags {
  format: OutputFormat;
  output?: string;
  strict?: boolean;
  from: string;
  to: string;
  summary: boolean;
  json?: boolean;
  workers?: string;
  resume?: boolean;
  moveSpam?: string;
  copySpam?: string;
  progress?: boolean;
  label?: string;
}

function positiveInteger(value: string, flag: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 256) throw new CliError(`${flag} must be a whole number from 1 to 256, got '${value}'`);
  return n;
}

/** Mail archives go to the worker pool; files of SMS records are scored on this thread. */
async function scanMail(paths: string[], flags: ScanFlags): Promise<number> {
  if (flags.label !== undefined && flags.label !== 'spam' && flags.label !== 'ham') throw new CliError(`--label must be spam or ham, got '${flags.label}'`);
  const label = flags.label as 'spam' | 'ham' | undefined;
  let errors = 0;
  tuneJitForBatch();
  const result = await scanArchives(label ? paths.map((path) => ({ path, label })) : paths, {
    engine: flags,
    format: flags.format,
    ...(flags.output ? { output: flags.output } : {}),
    ...(flags.workers ? { workers: positiveInteger(flags.workers, '--workers') } : {}),
    ...(flags.resume ? { resume: true } : {}),
    ...(flags.moveSpam ? { moveSpam: flags.moveSpam } : {}),
    ...(flags.copySpam ? { copySpam: flags.copySpam } : {}),
    progress: flags.progress === false ? false : 'auto',
    onError: (id, error) => {
      errors++;
      process.stderr.write(`spamgate: ${id}: ${error}\n`);
    },
  });
  const { summary } = result;
  if (flags.summary) {
    const extra = { resumed: result.resumed, defective: result.defective, moved: result.moved, copied: result.copied };
    if (flags.json) process.stderr.write(JSON.stringify({ ...summary.toJSON(), ...extra }) + '\n');
    else {
      const notes = Object.entries(extra).filter(([, n]) => n > 0).map(([k, n]) => `${n} ${k}`);
      process.stderr.write(summary.render() + (notes.length ? `\n${notes.join(', ')}` : '') + '\n');
    }
  }
  return errors > 0 || summary.errors > 0 ? EXIT_BAD_INPUT : 0;
}

/** Scans message files (TSV/JSONL) on the calling thread, and mail archives in a worker pool. */
export function registerScanCommand(program: Command): void {
  addEngineFlags(
    program
      .command('scan')
      .summary('score SMS files (TSV, JSONL, stdin) or mail archives (mbox, Maildir, .eml trees, .gz)')
      .description(
        'Score every message in the given files and write one result per message, in input order.\n' +
          'SMS inputs: TSV lines `label<TAB>text` or `text`; JSONL objects {"id","from","to","time","text","label"}; `-` for stdin.\n' +
          'A bad line is reported on stderr with file:line and skipped (exit status 1 at the end), unless --strict stops at it.\n\n' +
          'Mail archives (mbox, Maildir folders, trees of .eml files, and .gz of each) are read as a stream and\n' +
          'scored in worker threads with the shipped email rules (unless --rules), with a progress bar on a terminal.\n' +
          'Each result names its message (`file.eml`, `archive.mbox#12@34567` with the byte offset) and adds from,\n' +
          'subject, date and any MIME defects. A broken message is reported with its id and the scan goes on.',
      )
      .argument('<paths...>', 'files or folders to scan, or - for stdin')
      .option('--format <format>', `output format: ${OUTPUT_FORMATS.join(', ')}`, 'jsonl')
      .option('-o, --output <file>', 'write results here instead of stdout')
      .option('--strict', 'stop at the first bad line')
      .option('--from <sender>', 'sender for TSV lines, which carry only text', '+447700900000')
      .option('--to <recipient>', 'recipient for TSV lines', '+447700900001')
      .option('--no-summary', 'do not print the summary on stderr')
      .option('--json', 'print the summary as JSON on stderr')
      .option('-w, --workers <n>', 'mail: worker threads (default: the number of cores)')
      .option('--resume', 'mail: skip messages already in --output and append to it')
      .option('--move-spam <maildir>', 'mail: move spam (quarantine or block) from Maildir/.eml sources into this Maildir')
      .option('--copy-spam <maildir>', 'mail: copy spam into this Maildir')
      .option('--label <spam|ham>', 'mail: every message of these archives carries this label (for reports and accuracy)')
      .option('--no-progress', 'mail: no progress bar, even on a terminal'),
  )
    .addHelpText(
      'after',
      '\nExamples:\n  spamgate scan corpora/sms/sample.tsv --format table\n  spamgate scan messages.jsonl --subscribers subs.yaml -o verdicts.jsonl\n  cat texts.txt | spamgate scan - --format csv\n' +
        '  spamgate scan ~/Mail/archive.mbox.gz ~/Maildir -o results.jsonl && spamgate report results.jsonl --html report.html\n' +
        '  spamgate scan ~/Maildir --move-spam ~/Maildir/.Junk --model mail.db\n' +
        '  spamgate scan big.mbox -o results.jsonl --resume          # continue an interrupted scan',
    )
    .action(
      runCommand(async (paths: string[], flags: ScanFlags) => {
        if (!OUTPUT_FORMATS.includes(flags.format)) throw new CliError(`--format must be one of ${OUTPUT_FORMATS.join(', ')}, got '${flags.format}'`);
        const mail = await Promise.all(paths.map((p) => isMailArchive(p)));
        if (mail.every(Boolean)) return scanMail(paths, flags);
        if (mail.some(Boolean)) {
          const archives = paths.filter((_, i) => mail[i]);
          throw new CliError(`scan mail archives (${archives.join(', ')}) and SMS files in separate runs: their results have different fields`);
        }
        for (const flag of ['resume', 'moveSpam', 'copySpam', 'workers', 'label'] as const) {
          if (flags[flag] !== undefined) throw new CliError(`--${flag.replace(/[A-Z]/g, (c) => '-' + c.toLowerCase())} applies to mail archives only`);
        }
        const engine = buildEngine(flags);
        const out: Writable = flags.output ? createWriteStream(flags.output) : process.stdout;
        const writer = createResultWriter(flags.format, out);
        const summary = new ScanSummary();
        const reportError = (message: string): void => {
          summary.errors++;
          process.stderr.write(`spamgate: ${message}\n`);
        };
        outer: for (const path of paths) {
          try {
            for await (const rec of readRecords(path, { defaultFrom: flags.from, defaultTo: flags.to })) {
              if (rec.kind === 'error') {
                reportError(rec.error);
                if (flags.strict) break outer;
                continue;
              }
              let row: ResultRow;
              try {
                const v = engine.check(rec.input);
                row = {
                  id: rec.id,
                  action: v.action,
                  score: v.score,
                  rules: v.reasons.map((r) => r.rule),
                  ...(rec.label ? { label: rec.label } : {}),
                  ...(v.spamProbability !== undefined ? { spamProbability: Number(v.spamProbability.toFixed(4)) } : {}),
                };
              } catch (err) {
                if (!(err instanceof MessageError)) throw err;
                reportError(`${rec.id}: ${err.message}`);
                if (flags.strict) break outer;
                continue;
              }
              summary.add(row);
              writer.write(row);
            }
          } catch (err) {
            const code = (err as NodeJS.ErrnoException).code;
            if (!code) throw err;
            reportError(`cannot read ${path}: ${code}`);
            if (flags.strict) break;
          }
        }
        await writer.end();
        if (flags.output) await new Promise<void>((resolve) => (out as Writable).end(resolve));
        if (flags.summary) process.stderr.write((flags.json ? JSON.stringify(summary.toJSON()) : summary.render()) + '\n');
        return summary.errors > 0 ? EXIT_BAD_INPUT : 0;
      }),
    );
}
