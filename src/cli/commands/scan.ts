import type { Command } from 'commander';
import { createWriteStream } from 'node:fs';
import type { Writable } from 'node:stream';
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
}

/** Scans message files (TSV/JSONL): the SMS path, on the calling thread. */
export function registerScanCommand(program: Command): void {
  addEngineFlags(
    program
      .command('scan')
      .summary('score message files: TSV, JSONL or stdin')
      .description(
        'Score every message in the given files and write one result per message, in input order.\n' +
          'Inputs: TSV lines `label<TAB>text` or `text`; JSONL objects {"id","from","to","time","text","label"}; `-` for stdin.\n' +
          'A bad line is reported on stderr with file:line and skipped (exit status 1 at the end), unless --strict stops at it.',
      )
      .argument('<paths...>', 'files to scan, or - for stdin')
      .option('--format <format>', `output format: ${OUTPUT_FORMATS.join(', ')}`, 'jsonl')
      .option('-o, --output <file>', 'write results here instead of stdout')
      .option('--strict', 'stop at the first bad line')
      .option('--from <sender>', 'sender for TSV lines, which carry only text', '+447700900000')
      .option('--to <recipient>', 'recipient for TSV lines', '+447700900001')
      .option('--no-summary', 'do not print the summary on stderr')
      .option('--json', 'print the summary as JSON on stderr'),
  )
    .addHelpText(
      'after',
      '\nExamples:\n  spamgate scan corpora/sms/sample.tsv --format table\n  spamgate scan messages.jsonl --subscribers subs.yaml -o verdicts.jsonl\n  cat texts.txt | spamgate scan - --format csv',
    )
    .action(
      runCommand(async (paths: string[], flags: ScanFlags) => {
        if (!OUTPUT_FORMATS.includes(flags.format)) throw new CliError(`--format must be one of ${OUTPUT_FORMATS.join(', ')}, got '${flags.format}'`);
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
