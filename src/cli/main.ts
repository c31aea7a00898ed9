/**
 * The spamgate command line. Each command group lives in its own file under commands/ and
 * registers itself on the program; this file only wires them together.
 */
import { Command } from 'commander';
import { classifierSource } from '../bayes/index.js';
import { registerCheckCommand } from './commands/check.js';
import { registerEvalCommand } from './commands/eval.js';
import { registerReportCommand } from './commands/report.js';
import { registerRulesCommand } from './commands/rules.js';
import { registerScanCommand } from './commands/scan.js';
import { registerSpamBoxCommand } from './commands/spambox.js';
import { registerSubscriberCommand } from './commands/subscriber.js';
import { registerServeCommand } from './commands/serve.js';
import { registerSmppProxyCommand } from './commands/smpp-proxy.js';
import { registerSmscSimCommands } from './commands/smsc-sim.js';
import { registerTrainCommand } from './commands/train.js';
import { registerClassifierSource } from './common.js';

const program = new Command();
program
  .name('spamgate')
  .description('SMS and email spam filter: operator and subscriber rules (ITU-T X.1242), Bayesian filtering (X.1231)')
  .version('0.1.0')
  .showHelpAfterError('(run with --help for usage)');

registerClassifierSource(classifierSource);

registerCheckCommand(program);
registerScanCommand(program);
registerRulesCommand(program);
registerTrainCommand(program);
registerEvalCommand(program);
registerReportCommand(program);
registerSubscriberCommand(program);
registerSpamBoxCommand(program);
registerServeCommand(program);
registerSmppProxyCommand(program);
registerSmscSimCommands(program);

// A reader that stops early (`spamgate scan … | head`) closes the pipe: that ends the output
// quietly, as it does for other command-line tools, rather than in an unhandled EPIPE.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(0);
  throw err;
});

await program.parseAsync(process.argv);
