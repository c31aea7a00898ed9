/**
 * `spamgate serve`: the HTTP API over the engine and the subscriber service. Refuses to start
 * without a token unless `--no-auth`, which binds loopback only. Shuts down gracefully on
 * SIGTERM/SIGINT: stop accepting, finish requests in flight, close the store.
 */
import type { Command } from 'commander';
import pino, { type Logger } from 'pino';
import type { RuleWatcher } from '../../engine/reload.js';
import { TokenConfigError, loadTokens, type AccessTokens } from '../../server/auth.js';
import { createHttpApi, DEFAULT_LIMITS } from '../../server/http.js';
import { createSubscriberService } from '../../service/index.js';
import type { SubscriberService } from '../../service/types.js';
import { addEngineFlags, buildEngine, CliError, runCommand, stopOnSignal, watchOperatorRules, type EngineFlags } from '../common.js';
import { commandLogger } from '../logging.js';

interface ServeFlags extends EngineFlags {
  port: string;
  host: string;
  db?: string;
  tokens?: string;
  auth: boolean;
  watch: boolean;
  serviceNumber?: string;
  retentionDays: string;
  spamboxCapacity: string;
  logLevel: string;
  logText?: boolean;
  maxBody: string;
  maxBatch: string;
  requestTimeout: string;
}

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|::1|localhost)$/;

function positiveInt(value: string, flag: string, max: number): number {
  if (!/^\d+$/.test(value) || Number(value) < 1 || Number(value) > max) throw new CliError(`${flag} must be an integer from 1 to ${max}, got '${value}'`);
  return Number(value);
}

/** Everything a running server holds, so a signal can take it down in order. */
export interface RunningServer {
  readonly url: string;
  stop(): Promise<void>;
}

export async function startServer(flags: ServeFlags, logger: Logger): Promise<RunningServer> {
  const port = flags.port === '0' ? 0 : positiveInt(flags.port, '--port', 65535);
  const limits = {
    maxBodyBytes: positiveInt(flags.maxBody, '--max-body', 256 * 1024 * 1024),
    maxBatch: positiveInt(flags.maxBatch, '--max-batch', 1_000_000),
    requestTimeoutMs: positiveInt(flags.requestTimeout, '--request-timeout', 3_600_000),
  };
  if (flags.subscribers) {
    // A file's rules would filter but be invisible to GET …/rules and lost on restart.
    throw new CliError('serve keeps subscriber rules in its database: load the file with `spamgate subscriber import FILE --db …` instead of --subscribers');
  }
  const engine = buildEngine(flags);
  let tokens: AccessTokens | null = null;
  if (flags.auth) {
    try {
      tokens = loadTokens({ ...(flags.tokens ? { file: flags.tokens } : {}), operatorToken: process.env['SPAMGATE_OPERATOR_TOKEN'], normaliser: engine.normaliser });
    } catch (err) {
      if (err instanceof TokenConfigError) throw new CliError(err.message);
      throw err;
    }
    if (tokens.size === 0) {
      throw new CliError('no tokens: give --tokens FILE or set SPAMGATE_OPERATOR_TOKEN (or --no-auth for local use, loopback only)');
    }
  } else if (!LOOPBACK.test(flags.host)) {
    throw new CliError(`--no-auth serves loopback only; refusing to bind ${flags.host}`);
  }

  const service: SubscriberService = createSubscriberService({
    engine,
    ...(flags.db ? { dbPath: flags.db } : {}),
    ...(flags.serviceNumber ? { serviceNumber: flags.serviceNumber } : {}),
    // Feedback trains the model the engine scores with.
    ...(flags.model ? { modelPath: flags.model } : {}),
    backgroundCheckpoints: true,
    retentionDays: positiveInt(flags.retentionDays, '--retention-days', 36_500),
    spamBoxCapacity: positiveInt(flags.spamboxCapacity, '--spambox-capacity', 1_000_000),
    logger,
    logText: flags.logText ?? false,
  });
  let watcher: RuleWatcher | undefined;
  const api = createHttpApi({
    engine,
    service,
    tokens,
    logger,
    logText: flags.logText ?? false,
    limits,
    health: () => (watcher ? { rulesHash: watcher.hash } : {}),
  });
  let address;
  try {
    address = await api.listen(port, flags.host);
  } catch (err) {
    service.close();
    const e = err as NodeJS.ErrnoException;
    throw new CliError(`cannot listen on ${flags.host}:${port}: ${e.code ?? e.message}`);
  }

  // Rule edits made by other processes (the CLI) reach this engine within half a second.
  const refresh = setInterval(() => {
    try {
      const changed = service.refresh();
      if (changed > 0) logger.info({ subscribers: changed }, 'subscriber rules refreshed from the store');
    } catch (err) {
      logger.error({ err }, 'refreshing subscriber rules failed');
    }
  }, 500);
  refresh.unref();

  // Spam box retention: held messages older than --retention-days go, at start and hourly.
  const purge = (): void => {
    try {
      service.purge();
    } catch (err) {
      logger.error({ err }, 'purging the spam box failed');
    }
  };
  purge();
  const purgeTimer = setInterval(purge, 3_600_000);
  purgeTimer.unref();

  // Operator rule files are watched (and reloaded on SIGHUP); a broken set is refused and logged.
  if (flags.watch) watcher = watchOperatorRules(engine, flags.rules, logger, api.metrics.registry);

  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const url = `http://${host}:${address.port}`;
  logger.info(
    { url, auth: tokens ? `${tokens.size} token(s)` : 'off (loopback only)', rules: engine.rules.rules.length, limits: api.limits },
    'spamgate serving',
  );
  let stopping: Promise<void> | undefined;
  return {
    url,
    stop() {
      stopping ??= (async () => {
        clearInterval(refresh);
        clearInterval(purgeTimer);
        watcher?.close();
        await api.close(10_000);
        service.close();
        logger.info('spamgate stopped');
      })();
      return stopping;
    },
  };
}

export function registerServeCommand(program: Command): void {
  addEngineFlags(
    program
      .command('serve')
      .summary('serve the HTTP API (checks, subscriber rules, spam box, feedback, metrics)')
      .description(
        'Serve the HTTP API. Every request needs a bearer token: operator tokens may do everything,\n' +
          'subscriber tokens only act on their own number. Tokens come from --tokens FILE\n' +
          '(YAML/JSON list of { token | sha256, scope: operator|subscriber, number?, name? })\n' +
          'and/or the SPAMGATE_OPERATOR_TOKEN environment variable. See docs/http.md.',
      )
      .option('-p, --port <port>', 'TCP port (0: any free port)', '8025')
      .option('--host <address>', 'address to bind', '127.0.0.1')
      .option('--db <path>', 'subscriber database (default: the embedded default, $SPAMGATE_HOME/spamgate.db)')
      .option('--tokens <file>', 'bearer tokens, YAML or JSON')
      .option('--no-auth', 'no authentication: every caller is an operator; loopback only, for local use')
      .option('--no-watch', 'do not reload operator rule files when they change or on SIGHUP')
      .option('--service-number <number>', 'messages to this number are subscriber commands (BLOCK, ALLOW, …)')
      .option('--retention-days <days>', 'held messages are purged after this many days (checked hourly)', '30')
      .option('--spambox-capacity <n>', "messages kept per subscriber's spam box; the oldest are evicted", '1000')
      .option('--log-level <level>', 'pino level: fatal, error, warn, info (one line per request), debug (one per decision)', 'info')
      .option('--log-text', 'include message texts in decision logs (off: privacy of traffic)')
      .option('--max-body <bytes>', 'largest request body', String(DEFAULT_LIMITS.maxBodyBytes))
      .option('--max-batch <n>', 'most messages in one batch check', String(DEFAULT_LIMITS.maxBatch))
      .option('--request-timeout <ms>', 'time a client has to send a whole request', String(DEFAULT_LIMITS.requestTimeoutMs)),
  )
    .addHelpText(
      'after',
      '\nExamples:\n' +
        '  SPAMGATE_OPERATOR_TOKEN=$(openssl rand -hex 24) spamgate serve --port 8025\n' +
        '  spamgate serve --tokens /etc/spamgate/tokens.yaml --host 0.0.0.0 --db /var/lib/spamgate/spamgate.db\n' +
        '  spamgate serve --no-auth          # local use: 127.0.0.1 only\n',
    )
    .action(
      runCommand(async (flags: ServeFlags) => {
        // Asynchronous writes: under load, lines queued during a write go out together, not one
        // write(2) per request. Pending writes keep the event loop alive, so nothing is lost on a
        // normal exit (the process is never ended with process.exit).
        const logger = commandLogger(flags.logLevel, 'spamgate', pino.destination({ dest: 1, sync: false }));
        const running = await startServer(flags, logger);
        await stopOnSignal(
          () => running.stop(),
          (signal) => logger.info({ signal }, 'shutting down: no new connections, finishing requests in flight'),
          (err) => logger.error({ err }, 'shutdown failed'),
        );
      }),
    );
}
