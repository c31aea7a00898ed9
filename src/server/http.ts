/**
 * The HTTP API on node's own `http` module: the API is a dozen JSON routes, synchronous
 * handlers and hand-written validation, so a framework would add a dependency without taking
 * work away. This file owns the request life cycle: route, authenticate, read a bounded body,
 * parse, dispatch, answer JSON, log and count. Limits: body size, batch length, whole-request
 * and header timeouts (slow clients), keep-alive idle time.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import pino, { type Logger } from 'pino';
import type { Engine } from '../engine/engine.js';
import type { SubscriberService } from '../service/types.js';
import { ApiMetrics } from './api-metrics.js';
import type { Principal, AccessTokens } from './auth.js';
import { errorBody, HttpError } from './errors.js';
import type { MetricsRegistry } from './metrics.js';
import { canonicalSubscriber, ROUTES, type Route, type RouteDeps } from './routes.js';

export interface HttpLimits {
  /** Largest request body in bytes (413 above). Default 1 MiB. */
  readonly maxBodyBytes: number;
  /** Most messages in one batch check (413 above). Default 1,000. */
  readonly maxBatch: number;
  /** A whole request (headers and body) must arrive within this (node answers 408). Default 30 s. */
  readonly requestTimeoutMs: number;
  /** The headers must arrive within this. Default 10 s. */
  readonly headersTimeoutMs: number;
  /** An idle keep-alive connection is closed after this. Default 5 s. */
  readonly keepAliveTimeoutMs: number;
}

export const DEFAULT_LIMITS: HttpLimits = {
  maxBodyBytes: 1024 * 1024,
  maxBatch: 1000,
  requestTimeoutMs: 30_000,
  headersTimeoutMs: 10_000,
  keepAliveTimeoutMs: 5_000,
};

export interface HttpApiOptions {
  readonly engine: Engine;
  /** The subscriber service; without it checks use the engine alone and subscriber routes answer 503. */
  readonly service?: SubscriberService;
  /** Accepted tokens; `null` turns authentication off (every caller is an operator): local use only. */
  readonly tokens: AccessTokens | null;
  readonly logger?: Logger;
  /** Log message texts in decision logs (off by default: privacy of traffic). */
  readonly logText?: boolean;
  readonly limits?: Partial<HttpLimits>;
  /** Registry to add the API's metrics to (e.g. shared with the SMPP proxy); default a new one. */
  readonly metrics?: MetricsRegistry;
  /** Extra fields for `GET /healthz` (the running rule set's hash, …). */
  readonly health?: () => Readonly<Record<string, unknown>>;
}

export interface HttpApi {
  readonly server: Server;
  readonly metrics: ApiMetrics;
  readonly limits: HttpLimits;
  listen(port: number, host: string): Promise<AddressInfo>;
  /** Stop accepting, let requests in flight finish (up to `graceMs`), then drop what remains. */
  close(graceMs?: number): Promise<void>;
}

interface CompiledRoute {
  readonly route: Route;
  readonly regex: RegExp;
  readonly names: readonly string[];
}

function compileRoutes(routes: readonly Route[]): CompiledRoute[] {
  return routes.map((route) => {
    const names: string[] = [];
    const source = route.path.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{(\w+)\}/g, (_m, name: string) => {
      names.push(name);
      return '([^/]+)';
    });
    return { route, regex: new RegExp(`^${source}$`), names };
  });
}

const LOCAL_PRINCIPAL: Principal = { scope: 'operator', name: 'local (no auth)' };
/** Who calls a public route when authentication is on: a subscriber of no number, so least privilege. */
const ANONYMOUS: Principal = { scope: 'subscriber', number: '', name: 'anonymous' };

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Readonly<Record<string, string>> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store',
    ...headers,
  });
  res.end(text);
}

/** The body, bounded: a declared length over the limit is refused before reading a byte. */
function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const declared = req.headers['content-length'];
    if (declared !== undefined && Number(declared) > limit) {
      reject(new HttpError(413, 'body_too_large', `request body of ${declared} bytes is over the limit of ${limit} bytes`));
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    req.on('data', (chunk: Buffer) => {
      if (done) return;
      size += chunk.length;
      if (size > limit) {
        done = true;
        reject(new HttpError(413, 'body_too_large', `request body is over the limit of ${limit} bytes`));
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      if (!done) {
        done = true;
        resolve(Buffer.concat(chunks, size));
      }
    });
    const gone = (): void => {
      if (!done) {
        done = true;
        reject(new ClientGone());
      }
    };
    // A client that disconnects mid-body never sends 'end': without this the request would stay
    // in flight for ever (and hold up a graceful shutdown).
    req.on('error', gone);
    req.on('close', gone);
  });
}

/** The client went away before its request arrived; nothing to answer. */
class ClientGone extends Error {
  constructor() {
    super('client closed the connection before sending the whole request');
    this.name = 'ClientGone';
  }
}

/** Path and query of a request target, without URL parsing's host handling (`//x` stays a path). */
function splitTarget(target: string): { path: string; query: URLSearchParams } {
  const q = target.indexOf('?');
  return q < 0 ? { path: target, query: new URLSearchParams() } : { path: target.slice(0, q), query: new URLSearchParams(target.slice(q + 1)) };
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

function parseJson(buf: Buffer): { value: unknown; text: string } | undefined {
  if (buf.length === 0) return undefined;
  let text: string;
  try {
    text = utf8.decode(buf);
  } catch {
    throw new HttpError(400, 'invalid_json', 'request body is not valid UTF-8');
  }
  try {
    return { value: JSON.parse(text) as unknown, text };
  } catch (err) {
    throw new HttpError(400, 'invalid_json', `request body is not valid JSON: ${(err as Error).message.slice(0, 200)}`);
  }
}

export function createHttpApi(options: HttpApiOptions): HttpApi {
  const limits: HttpLimits = { ...DEFAULT_LIMITS, ...options.limits };
  if (limits.headersTimeoutMs > limits.requestTimeoutMs) (limits as { headersTimeoutMs: number }).headersTimeoutMs = limits.requestTimeoutMs;
  const logger = options.logger ?? pino({ level: 'silent' });
  const metrics = new ApiMetrics(options.metrics);
  const deps: RouteDeps = {
    engine: options.engine,
    service: options.service,
    metrics,
    logger,
    logText: options.logText ?? false,
    maxBatch: limits.maxBatch,
    startedAt: Date.now(),
    health: options.health ?? (() => ({})),
  };
  const routes = compileRoutes(ROUTES);
  let closing = false;
  let inFlight = 0;
  let drained: (() => void) | undefined;

  function match(method: string, path: string): { route: Route; params: Record<string, string> } {
    const allowed: string[] = [];
    for (const c of routes) {
      const m = c.regex.exec(path);
      if (!m) continue;
      if (c.route.method !== method) {
        allowed.push(c.route.method);
        continue;
      }
      const params: Record<string, string> = {};
      c.names.forEach((name, i) => {
        try {
          params[name] = decodeURIComponent(m[i + 1]!);
        } catch {
          throw new HttpError(400, 'invalid_request', `${name}: malformed URL escape in '${m[i + 1]!.slice(0, 40)}'`, name);
        }
      });
      return { route: c.route, params };
    }
    if (allowed.length > 0) {
      throw new HttpError(405, 'method_not_allowed', `${method} is not allowed on ${path}; allowed: ${allowed.join(', ')}`, undefined, { allow: allowed.join(', ') });
    }
    throw new HttpError(404, 'not_found', `no such endpoint: ${method} ${path.slice(0, 200)}`);
  }

  function authenticate(req: IncomingMessage): Principal {
    if (options.tokens === null) return LOCAL_PRINCIPAL;
    const principal = options.tokens.authenticate(req.headers.authorization);
    if (!principal) {
      const why = req.headers.authorization ? 'the bearer token is not valid' : 'missing Authorization: Bearer <token>';
      throw new HttpError(401, 'unauthorized', why, undefined, { 'www-authenticate': 'Bearer realm="spamgate"' });
    }
    return principal;
  }

  function authorise(route: Route, principal: Principal, subscriber: string | undefined): void {
    // Routes without {number} that subscribers may call (feedback) check the number in the body.
    if (principal.scope === 'operator' || (route.access === 'subscriber' && subscriber === undefined)) return;
    if (route.access === 'operator') throw new HttpError(403, 'forbidden', 'this endpoint needs an operator token');
    if (subscriber !== principal.number) throw new HttpError(403, 'forbidden', `this token may only act on ${principal.number}`, 'number');
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const t0 = performance.now();
    const method = req.method ?? 'GET';
    let routeLabel = 'unmatched';
    let status = 500;
    let principal: Principal | undefined;
    let bodyRead = false;
    inFlight++;
    metrics.inFlight.inc();
    try {
      const url = splitTarget(req.url ?? '/');
      const { route, params } = match(method, url.path);
      routeLabel = route.path;
      if (route.access !== 'public') principal = authenticate(req);
      const subscriber = params['number'] !== undefined ? canonicalSubscriber(options.engine, params['number'], 'number') : undefined;
      if (principal) authorise(route, principal, subscriber);
      // Read (bounded) even when the route takes no body, so keep-alive connections stay in step.
      const buf = await readBody(req, Math.min(limits.maxBodyBytes, route.maxBodyBytes ?? Infinity));
      bodyRead = true;
      let body: unknown;
      let bodyText = '';
      // Bodies are JSON whatever Content-Type says (curl -d sends form-urlencoded). Not a CSRF
      // opening: every route that takes a body needs an Authorization header, which browsers
      // only send cross-site after a CORS preflight this server never grants.
      if (route.body && buf.length > 0) {
        const parsed = parseJson(buf);
        body = parsed?.value;
        bodyText = parsed?.text ?? '';
      }
      const reply = route.handle(
        { principal: principal ?? (options.tokens === null ? LOCAL_PRINCIPAL : ANONYMOUS), subscriber: subscriber ?? '', params, query: url.query, body, bodyText },
        deps,
      );
      status = reply.status;
      const close: Record<string, string> = closing ? { connection: 'close' } : {};
      if (reply.raw) {
        res.writeHead(status, { 'content-type': reply.raw.contentType, 'content-length': Buffer.byteLength(reply.raw.text), ...close });
        res.end(reply.raw.text);
      } else {
        sendJson(res, status, reply.body, close);
      }
    } catch (err) {
      if (err instanceof HttpError) {
        status = err.status;
        // A body left unread (refused before reading, or past the limit) would have to be drained
        // to reuse the connection: close it instead.
        const unread = !bodyRead && (req.headers['transfer-encoding'] !== undefined || Number(req.headers['content-length'] ?? 0) > 0);
        const close: Record<string, string> = closing || unread ? { connection: 'close' } : {};
        sendJson(res, status, err.body(), { ...err.headers, ...close });
      } else if (err instanceof ClientGone) {
        status = 499; // nginx's "client closed request", for the metrics and the log
        res.destroy();
      } else {
        status = 500;
        logger.error({ err, method, route: routeLabel }, 'request failed');
        if (!res.headersSent) sendJson(res, 500, errorBody('internal', 'internal error; the server log has the details'));
        else res.destroy();
      }
    } finally {
      const seconds = (performance.now() - t0) / 1000;
      metrics.request(routeLabel, method, status, seconds);
      metrics.inFlight.dec();
      logger.info({ method, route: routeLabel, status, ms: Math.round(seconds * 1e5) / 100, principal: principal?.name }, 'request');
      if (--inFlight === 0 && drained) drained();
    }
  }

  const server = createServer(
    {
      requestTimeout: limits.requestTimeoutMs,
      headersTimeout: limits.headersTimeoutMs,
      keepAliveTimeout: limits.keepAliveTimeoutMs,
      // How often node looks for requests past their timeouts; its default (30 s) would let a
      // slow client hold a connection up to that much longer than the limit says.
      connectionsCheckingInterval: Math.max(50, Math.min(1000, Math.floor(limits.headersTimeoutMs / 4))),
    },
    (req, res) => {
      void handle(req, res);
    },
  );
  server.on('clientError', (err: NodeJS.ErrnoException, socket) => {
    if (err.code === 'ECONNRESET' || !socket.writable) {
      socket.destroy();
      return;
    }
    const [status, code, text] =
      err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? [408, 'request_timeout', 'the request did not arrive in time']
        : err.code === 'HPE_HEADER_OVERFLOW'
          ? [431, 'headers_too_large', 'request headers are too large']
          : [400, 'bad_request', 'malformed HTTP request'];
    const body = JSON.stringify(errorBody(code, text));
    const reason = status === 408 ? 'Request Timeout' : status === 431 ? 'Request Header Fields Too Large' : 'Bad Request';
    socket.end(
      `HTTP/1.1 ${status} ${reason}\r\ncontent-type: application/json; charset=utf-8\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
    );
  });

  return {
    server,
    metrics,
    limits,
    listen(port, host) {
      return new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => {
          server.off('error', reject);
          resolve(server.address() as AddressInfo);
        });
      });
    },
    async close(graceMs = 10_000) {
      closing = true;
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      if (inFlight > 0) {
        await Promise.race([
          new Promise<void>((resolve) => (drained = resolve)),
          new Promise<void>((resolve) => setTimeout(resolve, graceMs).unref()),
        ]);
      }
      server.closeAllConnections();
      await closed;
    },
  };
}
