import type { Command } from 'commander';
import { readFileSync } from 'node:fs';
import type { Verdict } from '../../engine/types.js';
import { MessageError } from '../../message/normalise.js';
import { addEngineFlags, buildEngine, CliError, runCommand, type EngineFlags } from '../common.js';

interface CheckFlags extends EngineFlags {
  from: string;
  to: string;
  time?: string;
  channel: 'sms' | 'email';
  json?: boolean;
}

export function renderVerdict(v: Verdict): string {
  const lines = [`${v.action.toUpperCase()}  score ${v.score}${v.spamProbability !== undefined ? `  spam probability ${v.spamProbability.toFixed(3)}` : ''}${v.truncated ? '  (text truncated)' : ''}`];
  const width = Math.max(0, ...v.reasons.map((r) => r.rule.length));
  for (const r of v.reasons) {
    const effect = r.action ? r.action : (r.score >= 0 ? '+' : '') + r.score;
    lines.push(`  ${r.rule.padEnd(width)}  ${effect.padStart(10)}  ${r.detail}`);
  }
  if (v.reasons.length === 0) lines.push('  no rule matched');
  return lines.join('\n');
}

export function registerCheckCommand(program: Command): void {
  addEngineFlags(
    program
      .command('check')
      .summary('check one message and explain the verdict')
      .description(
        'Check one message: the text comes from the arguments, or from stdin when none are given.\n' +
          'Prints the action, the score and every rule that fired with what it matched.',
      )
      .argument('[text...]', 'message text (default: read stdin)')
      .option('-f, --from <sender>', 'sender: number in any format, short code or sender ID', '+447700900000')
      .option('-t, --to <recipient>', 'recipient (the subscriber whose rules apply)', '+447700900001')
      .option('--time <iso>', 'when it was sent, ISO-8601 (default: now)')
      .option('--channel <channel>', 'sms or email', 'sms')
      .option('--json', 'print the verdict as JSON'),
  )
    .addHelpText(
      'after',
      '\nExamples:\n  spamgate check "You have won a prize, call 09061701461"\n  echo "FR33 entry" | spamgate check --from PRIZEDRAW --json\n  spamgate check --subscribers subs.yaml --to +447700900001 --from +447700900999 "hi"',
    )
    .action(
      runCommand(async (words: string[], flags: CheckFlags) => {
        const text = words.length > 0 ? words.join(' ') : readFileSync(0, 'utf8').replace(/\r?\n$/, '');
        if (flags.channel !== 'sms' && flags.channel !== 'email') throw new CliError(`--channel must be sms or email, got '${flags.channel}'`);
        const engine = buildEngine(flags);
        let verdict: Verdict;
        try {
          verdict = engine.check({ from: flags.from, to: flags.to, text, channel: flags.channel, ...(flags.time ? { time: flags.time } : {}) });
        } catch (err) {
          if (err instanceof MessageError) throw new CliError(`bad message: ${err.message}`);
          throw err;
        }
        process.stdout.write((flags.json ? JSON.stringify(verdict, null, 2) : renderVerdict(verdict)) + '\n');
      }),
    );
}
