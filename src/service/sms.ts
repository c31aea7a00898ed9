/**
 * Running an SMS management command for its sender. The sender is the subscriber: every
 * command reads and changes only the sender's own rules and spam box, whatever the text says,
 * so nobody can change another number's rules this way. Every reply is one SMS.
 */
import { SUBSCRIBER_LIMITS, type SubscriberRules } from '../rules/subscriber-types.js';
import { SubscriberRuleError } from '../rules/subscriber.js';
import { parseCommand, type Command, type ParsedCommand } from './commands.js';
import { gsmLength, SMS_SEPTETS, toGsm } from './gsm.js';
import { fitList, shown, toSms, type Replies } from './replies.js';
import type { SubscriberServiceImpl } from './service.js';
import type { Actor, CommandResult, RuleList, SpamBoxItem } from './types.js';

/** What `SPAM` reports: the last message delivered to a subscriber through this service. */
export interface LastDelivered {
  readonly from: string;
  readonly text: string;
  readonly time: number;
}

/** Spam box entries an SMS lists at a time, so `SPAMBOX 2` means the same page on every phone. */
export const SPAMBOX_PAGE = 3;

const reply = (text: string, deliver: readonly SpamBoxItem[] = []): CommandResult => ({ reply: toSms(text), deliver });

function errorReply(R: Replies, p: Exclude<ParsedCommand, { ok: true }>): string {
  switch (p.error) {
    case 'empty':
      return R.empty();
    case 'too-long':
      return R.tooLong();
    case 'unknown':
      return R.unknown(shown(p.word, 16));
    case 'missing':
      return R.missing(p.verb, p.example);
    case 'bad-number':
      return R.badNumber(p.verb, shown(p.value, 16));
    case 'bad-time':
      return R.badTime(shown(p.value, 24));
    case 'bad-on-off':
      return R.badOnOff(p.verb);
  }
}

const septets = (t: string): number => gsmLength(toGsm(t)) ?? Infinity;

function listReply(R: Replies, rules: SubscriberRules): string {
  const count = rules.block.length + rules.allow.length + rules.keywords.length + rules.quiet.length;
  if (count === 0) return R.listEmpty(rules.enabled);
  const sections: Array<[string, readonly string[]]> = [
    [R.listBlock(), rules.block],
    [R.listAllow(), rules.allow],
    [R.listKeywords(), rules.keywords],
    [R.listQuiet(), rules.quiet.map((q) => `${q.from}-${q.to}`)],
  ];
  const present = sections.filter(([, v]) => v.length > 0);
  const filter = R.listFilter(rules.enabled);
  // Each section gets an equal share of what is left, and a section that needs less gives the rest on.
  let budget = SMS_SEPTETS - septets(filter) - 2 * present.length;
  const parts: string[] = [];
  present.forEach(([name, values], i) => {
    const share = Math.floor(budget / (present.length - i));
    const head = `${name}: `;
    const body = fitList(values.map((v) => shown(v, 24)), share - septets(head), ', ', R.more);
    const part = head + body;
    parts.push(part);
    budget -= septets(part);
  });
  return R.list([...parts, filter].join('. '));
}

function spamBoxReply(R: Replies, svc: SubscriberServiceImpl, subscriber: string, page: number): string {
  const offset = (page - 1) * SPAMBOX_PAGE;
  const box = svc.listSpamBox(subscriber, { limit: SPAMBOX_PAGE, offset });
  if (box.total === 0) return R.spamBoxEmpty();
  if (box.items.length === 0) return R.spamBoxPageEmpty(page);
  const next = offset + box.items.length < box.total ? page + 1 : undefined;
  // Shorter snippets until the page fits one SMS; the numbers and senders always show.
  for (const snippet of [40, 30, 22, 14, 8, 0]) {
    const entries = box.items.map((it) => R.spamBoxItem(it.id, shown(it.from, 14), snippet > 0 ? shown(it.text, snippet) : ''));
    const text = R.spamBox(box.total, entries.join(' | '), next);
    if (septets(text) <= SMS_SEPTETS) return text;
  }
  return R.spamBox(box.total, box.items.map((it) => String(it.id)).join(', '), next);
}

function ruleReply(R: Replies, svc: SubscriberServiceImpl, subscriber: string, actor: Actor, command: Extract<Command, { kind: 'rule' }>): string {
  const { list, op, value } = command;
  const v = shown(value, 30);
  const rules = svc.getRules(subscriber);
  const existing = rules ? svc.findRule(rules, list, value) : undefined;
  const texts: Record<RuleList, { added: (v: string) => string; already: (v: string) => string; removed: (v: string) => string; missing: (v: string) => string }> = {
    block: { added: R.blocked, already: R.alreadyBlocked, removed: R.unblocked, missing: R.notBlocked },
    allow: { added: R.allowed, already: R.alreadyAllowed, removed: R.unallowed, missing: R.notAllowed },
    keywords: { added: R.keywordAdded, already: R.keywordExists, removed: R.keywordRemoved, missing: R.keywordMissing },
  };
  const t = texts[list];
  if (op === 'remove') {
    if (existing === undefined) return t.missing(v);
    svc.removeRule(subscriber, list, existing, actor);
    return t.removed(shown(existing, 30));
  }
  if (existing !== undefined) return t.already(shown(existing, 30));
  try {
    svc.addRule(subscriber, list, value, actor);
  } catch (err) {
    if (!(err instanceof SubscriberRuleError)) throw err;
    if (err.field === 'rules') return R.tooManyRules(SUBSCRIBER_LIMITS.maxRules);
    return list === 'keywords' ? R.badKeyword(v) : R.badPattern(v);
  }
  return t.added(v);
}

function run(svc: SubscriberServiceImpl, subscriber: string, actor: Actor, command: Command): CommandResult {
  const R = svc.replies;
  switch (command.kind) {
    case 'rule':
      return reply(ruleReply(R, svc, subscriber, actor, command));
    case 'quiet': {
      const window = command.window;
      if (window === null) {
        const before = svc.getRules(subscriber);
        if (!before || before.quiet.length === 0) return reply(R.quietAlreadyOff());
        svc.modifyRules(subscriber, actor, (current) => ({ rules: { ...current, quiet: [] }, action: 'rules.quiet', detail: { quiet: 'off' } }));
        return reply(R.quietOff());
      }
      try {
        svc.modifyRules(subscriber, actor, (current) => ({ rules: { ...current, quiet: [window] }, action: 'rules.quiet', detail: { quiet: `${window.from}-${window.to}` } }));
      } catch (err) {
        if (!(err instanceof SubscriberRuleError)) throw err;
        if (err.field === 'rules') return reply(R.tooManyRules(SUBSCRIBER_LIMITS.maxRules));
        return reply(R.badTime(`${window.from}-${window.to}`));
      }
      return reply(R.quietSet(window.from, window.to));
    }
    case 'filter':
      svc.modifyRules(subscriber, actor, (current) =>
        current.enabled === command.on ? undefined : { rules: { ...current, enabled: command.on }, action: 'rules.filter', detail: { enabled: command.on } },
      );
      return reply(command.on ? R.filterOn() : R.filterOff());
    case 'list':
      return reply(listReply(R, svc.getRules(subscriber) ?? { block: [], allow: [], keywords: [], quiet: [], enabled: true }));
    case 'spambox':
      return reply(spamBoxReply(R, svc, subscriber, command.page));
    case 'release': {
      const item = svc.release(subscriber, command.id, actor);
      return item ? reply(R.released(item.id, shown(item.from, 16)), [item]) : reply(R.noSuchItem(command.id));
    }
    case 'delete':
      return reply(svc.deleteSpamBoxItem(subscriber, command.id, actor) ? R.deleted(command.id) : R.noSuchItem(command.id));
    case 'spam': {
      const last = svc.lastDeliveredTo(subscriber);
      if (!last) return reply(R.nothingToReport());
      const r = svc.trainFromSubscriber(subscriber, 'spam', { from: last.from, to: subscriber, text: last.text, time: last.time }, actor);
      return reply(r.accepted ? R.reported(shown(last.from, 16)) : R.rateLimited());
    }
    case 'notspam': {
      if (command.id === undefined) {
        const last = svc.lastDeliveredTo(subscriber);
        if (!last) return reply(R.nothingToReport());
        const r = svc.trainFromSubscriber(subscriber, 'ham', { from: last.from, to: subscriber, text: last.text, time: last.time }, actor);
        return reply(r.accepted ? R.notSpamLast(shown(last.from, 16)) : R.rateLimited());
      }
      if (!svc.getSpamBoxItem(subscriber, command.id)) return reply(R.noSuchItem(command.id));
      const r = svc.feedback(subscriber, 'ham', { spamBoxId: command.id }, actor);
      if (!r.accepted) return reply(R.rateLimited());
      const item = svc.release(subscriber, command.id, actor);
      return item ? reply(R.notSpamReleased(item.id, shown(item.from, 16)), [item]) : reply(R.noSuchItem(command.id));
    }
    case 'help':
      return reply(R.help());
  }
}

/** Parse and run one command from `from`; never throws: every failure is a reply. */
export function runSmsCommand(svc: SubscriberServiceImpl, from: string, text: string): CommandResult {
  const R = svc.replies;
  let subscriber: string;
  try {
    subscriber = svc.subscriberKey(from, 'from');
  } catch (err) {
    if (err instanceof SubscriberRuleError) return reply(R.notSubscriber());
    throw err;
  }
  const parsed = parseCommand(typeof text === 'string' ? text : '');
  if (!parsed.ok) {
    svc.log.debug({ subscriber, command: 'invalid', error: parsed.error }, 'sms command');
    return reply(errorReply(R, parsed));
  }
  const actor: Actor = { kind: 'subscriber', number: subscriber, channel: 'sms' };
  try {
    const result = run(svc, subscriber, actor, parsed.command);
    svc.log.debug({ subscriber, command: parsed.command.kind, released: result.deliver.length }, 'sms command');
    return result;
  } catch (err) {
    svc.log.error({ subscriber, command: parsed.command.kind, err }, 'sms command failed');
    return reply(R.error());
  }
}
