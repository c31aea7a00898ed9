import type { Command } from 'commander';
import { writeFileSync } from 'node:fs';
import { basename } from 'node:path';
import { readReport, renderReportHtml, renderReportText } from '../../mail/report.js';
import { CliError, EXIT_BAD_INPUT, runCommand } from '../common.js';

interface ReportFlags {
  html?: string;
  title?: string;
  quiet?: boolean;
}

/** `spamgate report RESULTS.jsonl [--html out.html]`: summary on the terminal, optional HTML page. */
export function registerReportCommand(program: Command): void {
  program
    .command('report')
    .summary('summarise scan results; optionally as a self-contained HTML page')
    .description(
      'Read the JSONL results of `spamgate scan` and print a summary: actions, labelled accuracy,\n' +
        'top rules and sender domains. With --html, also write one HTML file with inline SVG charts\n' +
        '(score histogram for spam and ham, actions over time, rule hit rates, sender domains) that\n' +
        'loads nothing from the network.',
    )
    .argument('<results>', 'JSONL results of spamgate scan')
    .option('--html <file>', 'write the HTML report here')
    .option('--title <text>', 'title of the HTML page')
    .option('-q, --quiet', 'no summary on the terminal')
    .addHelpText('after', '\nExample:\n  spamgate scan ~/Mail/archive.mbox -o results.jsonl\n  spamgate report results.jsonl --html report.html')
    .action(
      runCommand(async (results: string, flags: ReportFlags) => {
        let data;
        try {
          data = await readReport(results);
        } catch (err) {
          throw new CliError(`cannot read ${results}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
        }
        for (const bad of data.badLines.slice(0, 20)) process.stderr.write(`spamgate: ${bad}\n`);
        if (data.badLines.length > 20) process.stderr.write(`spamgate: … and ${data.badLines.length - 20} more unreadable lines\n`);
        if (flags.html) {
          const html = renderReportHtml(data, { title: flags.title ?? `spamgate report: ${basename(results)}`, source: results });
          try {
            writeFileSync(flags.html, html);
          } catch (err) {
            throw new CliError(`cannot write ${flags.html}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
          }
        }
        if (!flags.quiet) process.stdout.write(renderReportText(data) + '\n' + (flags.html ? `HTML report written to ${flags.html}\n` : ''));
        return data.badLines.length > 0 ? EXIT_BAD_INPUT : 0;
      }),
    );
}
