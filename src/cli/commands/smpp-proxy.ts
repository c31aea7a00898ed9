/**
 * `spamgate smpp-proxy`: the SMPP filtering proxy between ESMEs and the SMSC, over the engine and
 * the subscriber service, with rule hot reload, subscriber refresh and Prometheus metrics.
 */
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import type { Command } from 'commander';
import type { Logger } from 'pino';
import type { RuleWatcher } from '../../engine/reload.js';
import { MetricsRegistry, PROMETHEUS_CONTENT_TYPE } from '../../server/metrics.js';
import { createSubscriberService } from '../../service/index.js';
import { ConfigReadError, loadProxyConfig, ProxyConfigError } from '../../smpp/config.js';
import { SmppProxy } from '../../smpp/proxy.js';
import { addEngineFlags, buildEngine, CliError, runCommand, stopOnSignal, watchOperatorRules, type EngineFlags } from '../common.js';
import { commandLogger, LOG_LEVELS } from '../logging.js';

interface ProxyFlags extends EngineFlags {
  config: string;
  upstream: string;
  listen: string;
  metricsPort?: string;
  metricsHost: string;
  failOpen?: boolean;
  db?: string;
  serviceNumber?: string;
  watch: boolean;
  logLevel: string;
  logText?: boolean;
}

/** `host:port` (port 0 allowed when `allowZero`). */
export function parseHostPort(value: string, flag: string, allowZero = false): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]+)):(\d{1,5})$/.exec(value.trim());
  const port = m ? Number(m[3]) : NaN;
  if (!m || port > 65535 || (port === 0 && !allowZero)) throw new CliError(`${flag} must be host:port (e.g. 127.0.0.1:2775), got '${value}'`);
  return { host: m[1] ?? m[2]!, port };
}


const CONFIG_EXAMPLE = `
Config file (YAML):

  upstream:                    # the proxy's own account at the SMSC
    system_id: spamgate
    password: upw
    enquire_link_seconds: 30
    response_timeout_seconds: 30
  esmes:                       # who may bind to the proxy
    - system_id: shop
      password: s3cret
      window: 100              # submits awaiting an answer per bind (beyond: ESME_RTHROTTLED)
      rate: 500                # submits per second for this system_id (0: unlimited)
      mo_addresses: ["87121"]  # mobile-originated messages to these go to this ESME
  actions:
    block_status: 0x45         # ESME_RSUBMITFAIL for blocked messages
    quarantine_status: 0       # 0: ESME_ROK with a proxy message id (SGQ<spam box id>)
  concat:
    timeout_seconds: 30        # a part whose siblings never come is judged alone after this

Examples:
  spamgate smsc-sim --port 2776                       # a simulated SMSC, for trying it out
  spamgate smpp-proxy --config proxy.yaml --upstream 127.0.0.1:2776 --listen 127.0.0.1:2775 --metrics-port 9775
  spamgate esme-send --proxy 127.0.0.1:2775 --system-id shop --password s3cret "You have won a cash prize"

Status codes: blocked → block_status; quarantined → ESME_ROK (or quarantine_status); the filter
failing → ESME_RSYSERR (0x08, temporary) unless --fail-open; SMSC down → ESME_RTHROTTLED (0x58).
See docs/smpp.md.
`;

export function registerSmppProxyCommand(program: Command): void {
  addEngineFlags(
    program
      .command('smpp-proxy')
      .summary('filter SMPP traffic between ESMEs and the SMSC')
      .description(
        'An SMPP v3.4 filtering proxy. ESMEs bind to it as to an SMSC; it binds to the real SMSC ' +
          '(--upstream) and decides every submit_sm and mobile-originated deliver_sm before it goes ' +
          'on: deliver and tag are forwarded (the SMSC message id relayed), block is refused, ' +
          'quarantine is kept in the recipient spam box. Concatenated messages are judged whole.',
      )
      .requiredOption('-c, --config <file>', 'proxy config, YAML (accounts, upstream credentials, status codes)')
      .requiredOption('-u, --upstream <host:port>', 'the SMSC to bind to')
      .option('-l, --listen <host:port>', 'where ESMEs connect', '127.0.0.1:2775')
      .option('--metrics-port <port>', 'serve Prometheus metrics on GET /metrics at this port')
      .option('--metrics-host <address>', 'address for the metrics endpoint', '127.0.0.1')
      .option('--fail-open', 'forward a message when the filter fails on it (default: refuse with ESME_RSYSERR, temporary)')
      .option('--db <path>', 'subscriber database (default: the embedded default)')
      .option('--service-number <number>', 'messages to this number are subscriber commands (BLOCK, ALLOW, …)')
      .option('--no-watch', 'do not reload operator rule files when they change or on SIGHUP')
      .option('--log-level <level>', `pino level: ${LOG_LEVELS.join(', ')} (debug: one line per decision)`, 'info')
      .option('--log-text', 'include message texts in decision logs (off: privacy of traffic)'),
  )
    .addHelpText('after', CONFIG_EXAMPLE)
    .action(
      runCommand(async (flags: ProxyFlags) => {
        const logger = commandLogger(flags.logLevel, 'spamgate-smpp');
        const running = await startProxy(flags, logger);
        await stopOnSignal(
          () => running.stop(),
          (signal) => logger.info({ signal }, 'shutting down: refusing new submits, answering those in flight'),
          (err) => logger.error({ err }, 'shutdown failed'),
        );
      }),
    );
}

export interface RunningProxy {
  readonly proxy: SmppProxy;
  readonly metricsUrl?: string;
  stop(): Promise<void>;
}

export async function startProxy(flags: ProxyFlags, logger: Logger): Promise<RunningProxy> {
  let config;
  try {
    config = loadProxyConfig(flags.config);
  } catch (err) {
    if (err instanceof ProxyConfigError || err instanceof ConfigReadError) throw new CliError(err.message);
    throw err;
  }
  const upstream = parseHostPort(flags.upstream, '--upstream');
  const listen = parseHostPort(flags.listen, '--listen', true);
  let metricsPort: number | undefined;
  if (flags.metricsPort !== undefined) {
    metricsPort = Number(flags.metricsPort);
    if (!/^\d{1,5}$/.test(flags.metricsPort) || metricsPort > 65535) throw new CliError(`--metrics-port must be a port number, got '${flags.metricsPort}'`);
  }
  const engine = buildEngine(flags);
  const service = createSubscriberService({
    engine,
    ...(flags.db ? { dbPath: flags.db } : {}),
    ...(flags.serviceNumber ? { serviceNumber: flags.serviceNumber } : {}),
    // Feedback trains the model the engine scores with.
    ...(flags.model ? { modelPath: flags.model } : {}),
    backgroundCheckpoints: true,
    logger,
    logText: flags.logText ?? false,
  });
  const registry = new MetricsRegistry();
  const proxy = new SmppProxy({ config, filter: service, upstream, listen, failOpen: flags.failOpen ?? false, logger, metrics: registry, logText: flags.logText ?? false });
  try {
    await proxy.start();
  } catch (err) {
    service.close();
    const e = err as NodeJS.ErrnoException;
    throw new CliError(`cannot listen on ${flags.listen}: ${e.code ?? e.message}`);
  }

  let watcher: RuleWatcher | undefined;
  if (flags.watch) watcher = watchOperatorRules(engine, flags.rules, logger, registry);

  let metricsServer: HttpServer | undefined;
  let metricsUrl: string | undefined;
  if (metricsPort !== undefined) {
    metricsServer = createHttpServer((req, res) => {
      if (req.method === 'GET' && (req.url === '/metrics' || req.url?.startsWith('/metrics?'))) {
        res.writeHead(200, { 'content-type': PROMETHEUS_CONTENT_TYPE });
        res.end(registry.render());
      } else {
        res.writeHead(404, { 'content-type': 'text/plain' });
        res.end('not found: GET /metrics\n');
      }
    });
    const server = metricsServer;
    await new Promise<void>((resolve, reject) => {
      server.once('error', (err: NodeJS.ErrnoException) => reject(new CliError(`cannot serve metrics on ${flags.metricsHost}:${metricsPort}: ${err.code ?? err.message}`)));
      server.listen(metricsPort, flags.metricsHost, () => resolve());
    }).catch(async (err: unknown) => {
      watcher?.close();
      await proxy.close();
      service.close();
      throw err;
    });
    const address = server.address();
    metricsUrl = `http://${flags.metricsHost}:${typeof address === 'object' && address ? address.port : metricsPort}/metrics`;
  }
  logger.info({ listen: `${listen.host}:${proxy.port}`, upstream: flags.upstream, esmes: config.esmes.length, rules: engine.rules.rules.length, failOpen: flags.failOpen ?? false, metrics: metricsUrl }, 'spamgate SMPP proxy running');

  let stopping: Promise<void> | undefined;
  return {
    proxy,
    ...(metricsUrl ? { metricsUrl } : {}),
    stop() {
      stopping ??= (async () => {
        watcher?.close();
        await proxy.close();
        metricsServer?.closeAllConnections();
        await new Promise<void>((resolve) => (metricsServer ? metricsServer.close(() => resolve()) : resolve()));
        service.close();
        logger.info('spamgate SMPP proxy stopped');
      })();
      return stopping;
    },
  };
}
