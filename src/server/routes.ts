/**
 * The API's routes: each names its method, path pattern, who may call it and whether it reads
 * a JSON body. Handlers are synchronous (the engine and the SQLite service are), validate what
 * they read, and return `{ status, body }` or throw HttpError; `http.ts` does the rest.
 */
import { performance } from 'node:perf_hooks';
import type { Logger } from 'pino';
import type { Engine } from '../engine/engine.js';
import type { Verdict } from '../engine/types.js';
import { MessageError } from '../message/normalise.js';
import type { MessageInput } from '../message/types.js';
import { SubscriberRuleError } from '../rules/subscriber.js';
import type { Actor, SpamBoxItem, SubscriberService } from '../service/types.js';
import type { ApiMetrics } from './api-metrics.js';
import type { Principal } from './auth.js';
import { HttpError, invalid } from './errors.js';
import { PROMETHEUS_CONTENT_TYPE } from './metrics.js';
import { positiveId, readBatch, readFeedback, readMessageInput, readPaging, readRulesBody, readRuleValue, RULE_LISTS } from './validate.js';

/** `public`: no token. `operator`: operator tokens only. `subscriber`: an operator, or the subscriber named by `{number}`. */
export type Access = 'public' | 'operator' | 'subscriber';

export interface RequestContext {
  readonly principal: Principal;
  /** Canonical subscriber number from `{number}`, when the route has one. */
  readonly subscriber: string;
  readonly params: Readonly<Record<string, string>>;
  readonly query: URLSearchParams;
  /** Parsed JSON body; undefined when the request had none. */
  readonly body: unknown;
  readonly bodyText: string;
}

export interface Reply {
  readonly status: number;
  readonly body: unknown;
  /** Already-serialised body with its content type (the metrics text). */
  readonly raw?: { readonly contentType: string; readonly text: string };
}

export interface RouteDeps {
  readonly engine: Engine;
  readonly service: SubscriberService | undefined;
  readonly metrics: ApiMetrics;
  readonly logger: Logger;
  readonly logText: boolean;
  readonly maxBatch: number;
  readonly startedAt: number;
  readonly health: () => Readonly<Record<string, unknown>>;
}

export interface Route {
  readonly method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  /** Pattern with `{name}` segments; also the `route` label of the metrics. */
  readonly path: string;
  readonly access: Access;
  readonly body: boolean;
  /** A tighter body limit than the server's, for bodies with a small natural size. */
  readonly maxBodyBytes?: number;
  handle(ctx: RequestContext, deps: RouteDeps): Reply;
}

export interface CheckResult extends Verdict {
  readonly id?: string;
  /**
   * `deliver` (also for `tag`: forward it, tagged), `quarantined` (in the spam box, `spamBoxId`),
   * `blocked` (refused), or `hold` when the server has no subscriber store to keep it in.
   */
  readonly outcome: 'deliver' | 'quarantined' | 'blocked' | 'hold';
  readonly spamBoxId?: number;
  /** A message to the service number was a command (X.1242 §9): the SMS to send back, and what it released. */
  readonly command?: { readonly reply: string; readonly deliver: readonly Record<string, unknown>[] };
}

function ok(body: unknown, status = 200): Reply {
  return { status, body };
}

function needService(deps: RouteDeps): SubscriberService {
  if (!deps.service) throw new HttpError(503, 'no_subscriber_store', 'this server has no subscriber store: subscriber rules, the spam box and feedback are unavailable');
  return deps.service;
}

function actor(p: Principal): Actor {
  return p.scope === 'operator' ? { kind: 'operator', name: p.name } : { kind: 'subscriber', number: p.number, channel: 'http' };
}

/** Errors the engine and service throw about their input become 400s naming the field. */
function asHttpError(err: unknown, prefix: string): HttpError | undefined {
  if (err instanceof HttpError) return err;
  if (err instanceof MessageError || err instanceof SubscriberRuleError) {
    const field = prefix ? `${prefix}.${err.field}` : err.field;
    // SubscriberRuleError messages usually start with their field already ("block[2]: …").
    const own = err.message.startsWith(`${err.field}:`) ? err.message.slice(err.field.length + 1).trim() : err.message;
    return new HttpError(400, 'invalid_request', `${field}: ${own}`, field);
  }
  return undefined;
}

function rethrow(err: unknown, prefix = ''): never {
  throw asHttpError(err, prefix) ?? err;
}

/** Check one message through the service (spam box) or, without one, the engine alone. */
export function checkOne(deps: RouteDeps, input: MessageInput): CheckResult {
  const t0 = performance.now();
  let verdict: Verdict;
  let outcome: CheckResult['outcome'];
  let spamBoxId: number | undefined;
  let command: CheckResult['command'];
  if (deps.service) {
    const r = deps.service.process(input);
    verdict = r.verdict;
    outcome = r.outcome;
    spamBoxId = r.spamBoxId;
    if (r.command) command = { reply: r.command.reply, deliver: r.command.deliver.map(spamBoxView) };
  } else {
    verdict = deps.engine.check(input);
    outcome = verdict.action === 'block' ? 'blocked' : verdict.action === 'quarantine' ? 'hold' : 'deliver';
  }
  deps.metrics.decision(verdict, outcome, (performance.now() - t0) / 1000);
  // The service logs its own decisions; without one, this is the decision log.
  if (!deps.service && deps.logger.isLevelEnabled('debug')) {
    deps.logger.debug(
      {
        id: input.id,
        from: input.from,
        to: input.to,
        action: verdict.action,
        score: verdict.score,
        rules: verdict.reasons.map((r) => r.rule),
        outcome,
        spamBoxId,
        ...(deps.logText ? { text: input.text } : {}),
      },
      'decision',
    );
  }
  return {
    ...(input.id !== undefined ? { id: input.id } : {}),
    ...verdict,
    outcome,
    ...(spamBoxId !== undefined ? { spamBoxId } : {}),
    ...(command ? { command } : {}),
  };
}

function spamBoxView(item: SpamBoxItem): Record<string, unknown> {
  return {
    id: item.id,
    subscriber: item.subscriber,
    from: item.from,
    text: item.text,
    time: new Date(item.time).toISOString(),
    storedAt: new Date(item.storedAt).toISOString(),
    verdict: item.verdict,
    ...(item.messageId !== undefined ? { messageId: item.messageId } : {}),
  };
}

function listParam(ctx: RequestContext): 'block' | 'allow' | 'keywords' {
  const list = ctx.params['list']!;
  if (!(RULE_LISTS as readonly string[]).includes(list)) throw new HttpError(404, 'not_found', `no rule list '${list}': expected block, allow or keywords`, 'list');
  return list as 'block' | 'allow' | 'keywords';
}

function spamBoxId(ctx: RequestContext): number {
  return positiveId(ctx.params['id'], 'id');
}

function notFound(what: string): HttpError {
  return new HttpError(404, 'not_found', what);
}

function notHeld(ctx: RequestContext, id: number): HttpError {
  return notFound(`no message ${id} in the spam box of ${ctx.subscriber}`);
}

export const ROUTES: readonly Route[] = [
  {
    method: 'GET',
    path: '/healthz',
    access: 'public',
    body: false,
    handle: (_ctx, deps) =>
      ok({
        status: 'ok',
        uptimeSeconds: Math.round((Date.now() - deps.startedAt) / 1000),
        subscriberStore: deps.service !== undefined,
        rules: deps.engine.rules.rules.length,
        ...deps.health(),
      }),
  },
  {
    method: 'GET',
    path: '/metrics',
    access: 'operator',
    body: false,
    handle: (_ctx, deps) => ({ status: 200, body: undefined, raw: { contentType: PROMETHEUS_CONTENT_TYPE, text: deps.metrics.registry.render() } }),
  },
  {
    method: 'POST',
    path: '/v1/check',
    access: 'operator',
    body: true,
    handle: (ctx, deps) => {
      const input = readMessageInput(ctx.body);
      try {
        return ok(checkOne(deps, input));
      } catch (err) {
        rethrow(err);
      }
    },
  },
  {
    method: 'POST',
    path: '/v1/check/batch',
    access: 'operator',
    body: true,
    handle: (ctx, deps) => {
      const messages = readBatch(ctx.body, deps.maxBatch);
      let failed = 0;
      const results = messages.map((item, index) => {
        const prefix = `messages[${index}]`;
        try {
          return { index, ...checkOne(deps, readMessageInput(item, prefix)) };
        } catch (err) {
          const e = asHttpError(err, prefix);
          if (!e) throw err;
          failed++;
          return { index, ...e.body() };
        }
      });
      return ok({ results, checked: results.length - failed, failed });
    },
  },
  {
    method: 'GET',
    path: '/v1/subscribers',
    access: 'operator',
    body: false,
    handle: (ctx, deps) => {
      const page = needService(deps).listSubscribers(readPaging(ctx.query));
      return ok({ total: page.total, items: page.items });
    },
  },
  {
    method: 'GET',
    path: '/v1/subscribers/{number}/rules',
    access: 'subscriber',
    body: false,
    handle: (ctx, deps) => {
      const rules = needService(deps).getRules(ctx.subscriber);
      if (!rules) throw notFound(`${ctx.subscriber} has no rules`);
      return ok({ subscriber: ctx.subscriber, rules });
    },
  },
  {
    method: 'PUT',
    path: '/v1/subscribers/{number}/rules',
    access: 'subscriber',
    body: true,
    // 200 rules of at most 64 characters fit in well under 64 KiB; the located YAML reader is
    // slower than JSON.parse, so it never sees more.
    maxBodyBytes: 64 * 1024,
    handle: (ctx, deps) => {
      const service = needService(deps);
      const rules = readRulesBody(ctx.bodyText);
      try {
        service.setRules(ctx.subscriber, rules, actor(ctx.principal));
      } catch (err) {
        rethrow(err);
      }
      return ok({ subscriber: ctx.subscriber, rules: service.getRules(ctx.subscriber) ?? rules });
    },
  },
  {
    method: 'DELETE',
    path: '/v1/subscribers/{number}/rules',
    access: 'subscriber',
    body: false,
    handle: (ctx, deps) => {
      if (!needService(deps).deleteSubscriber(ctx.subscriber, actor(ctx.principal))) throw notFound(`${ctx.subscriber} has no rules`);
      return ok({ subscriber: ctx.subscriber, deleted: true });
    },
  },
  ...(['POST', 'DELETE'] as const).map(
    (method): Route => ({
      method,
      path: '/v1/subscribers/{number}/rules/{list}',
      access: 'subscriber',
      body: true,
      handle: (ctx, deps) => {
        const service = needService(deps);
        const list = listParam(ctx);
        const value = readRuleValue(ctx.body, ctx.query);
        try {
          const rules =
            method === 'POST'
              ? service.addRule(ctx.subscriber, list, value, actor(ctx.principal))
              : service.removeRule(ctx.subscriber, list, value, actor(ctx.principal));
          return ok({ subscriber: ctx.subscriber, rules });
        } catch (err) {
          rethrow(err);
        }
      },
    }),
  ),
  {
    method: 'GET',
    path: '/v1/subscribers/{number}/spambox',
    access: 'subscriber',
    body: false,
    handle: (ctx, deps) => {
      const paging = readPaging(ctx.query);
      const page = needService(deps).listSpamBox(ctx.subscriber, paging);
      return ok({ subscriber: ctx.subscriber, total: page.total, limit: paging.limit, offset: paging.offset, items: page.items.map(spamBoxView) });
    },
  },
  {
    method: 'GET',
    path: '/v1/subscribers/{number}/spambox/{id}',
    access: 'subscriber',
    body: false,
    handle: (ctx, deps) => {
      const id = spamBoxId(ctx);
      const item = needService(deps).getSpamBoxItem(ctx.subscriber, id);
      if (!item) throw notHeld(ctx, id);
      return ok(spamBoxView(item));
    },
  },
  {
    method: 'POST',
    path: '/v1/subscribers/{number}/spambox/{id}/release',
    access: 'subscriber',
    body: false,
    handle: (ctx, deps) => {
      const id = spamBoxId(ctx);
      const item = needService(deps).release(ctx.subscriber, id, actor(ctx.principal));
      if (!item) throw notHeld(ctx, id);
      return ok({ released: spamBoxView(item) });
    },
  },
  {
    method: 'DELETE',
    path: '/v1/subscribers/{number}/spambox/{id}',
    access: 'subscriber',
    body: false,
    handle: (ctx, deps) => {
      const id = spamBoxId(ctx);
      if (!needService(deps).deleteSpamBoxItem(ctx.subscriber, id, actor(ctx.principal))) throw notHeld(ctx, id);
      return ok({ id, deleted: true });
    },
  },
  {
    method: 'POST',
    path: '/v1/feedback',
    access: 'subscriber',
    body: true,
    handle: (ctx, deps) => {
      const service = needService(deps);
      const fb = readFeedback(ctx.body);
      const subscriber = canonicalSubscriber(deps.engine, fb.subscriber, 'subscriber');
      if (ctx.principal.scope === 'subscriber' && ctx.principal.number !== subscriber) {
        throw new HttpError(403, 'forbidden', `this token may only report for ${ctx.principal.number}`, 'subscriber');
      }
      if (fb.spamBoxId !== undefined && !service.getSpamBoxItem(subscriber, fb.spamBoxId)) {
        throw new HttpError(404, 'not_found', `no message ${fb.spamBoxId} in the spam box of ${subscriber}`, 'spamBoxId');
      }
      if (fb.message && canonicalSubscriber(deps.engine, fb.message.to, 'message.to') !== subscriber) {
        throw invalid('message.to', `the message was sent to ${fb.message.to}, not to ${subscriber}`);
      }
      try {
        const result = service.feedback(
          subscriber,
          fb.label,
          fb.spamBoxId !== undefined ? { spamBoxId: fb.spamBoxId } : { input: fb.message! },
          actor(ctx.principal),
        );
        if (!result.accepted) {
          // What remains after the checks above is the per-subscriber rate limit (or a refusal we pass on).
          const limited = /rate/i.test(result.reason ?? '');
          throw new HttpError(limited ? 429 : 422, limited ? 'rate_limited' : 'feedback_refused', result.reason ?? 'feedback refused');
        }
        return ok({ subscriber, label: fb.label, ...result });
      } catch (err) {
        rethrow(err, fb.message ? 'message' : '');
      }
    },
  },
];

/** A subscriber number as the engine keys it (E.164 or short code), or a 400 naming the field. */
export function canonicalSubscriber(engine: Engine, raw: string, field: string): string {
  const a = engine.normaliseAddress(raw);
  if (a.kind !== 'e164' && a.kind !== 'shortcode') throw invalid(field, `'${raw.slice(0, 40)}' is not a subscriber number: expected E.164 (+447700900001) or a national number`);
  return a.value;
}
