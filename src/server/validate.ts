/**
 * Request bodies and query strings turned into typed values, or a 400 naming the field.
 * Unknown fields are refused (a typo such as `frm` should not silently check an empty sender).
 * Subscriber rules are read by the rules room's own reader so HTTP, files and the CLI agree.
 */
import type { Channel, MessageInput } from '../message/types.js';
import { readSubscriberRules } from '../rules/subscriber.js';
import { ProblemError, parseSource } from '../rules/source.js';
import type { SubscriberRules } from '../rules/subscriber-types.js';
import type { FeedbackLabel, RuleList } from '../service/types.js';
import { describeValue, HttpError, invalid } from './errors.js';

/** Bounds on single fields, well under the body limit, so one field cannot dominate a batch. */
export const FIELD_LIMITS = {
  maxAddressLength: 256,
  maxIdLength: 256,
  maxRuleValueLength: 256,
} as const;

const MESSAGE_KEYS = ['id', 'from', 'to', 'text', 'time', 'channel'] as const;

function join(prefix: string, key: string): string {
  return prefix ? `${prefix}.${key}` : key;
}

export function expectObject(value: unknown, field: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw invalid(field || 'body', `expected an object, got ${describeValue(value)}`);
  }
  return value as Record<string, unknown>;
}

function refuseUnknown(obj: Record<string, unknown>, known: readonly string[], prefix: string): void {
  for (const key of Object.keys(obj)) {
    if (!known.includes(key)) throw invalid(join(prefix, key), `unknown field; expected one of: ${known.join(', ')}`);
  }
}

function str(obj: Record<string, unknown>, key: string, prefix: string, options: { max?: number; nonEmpty?: boolean } = {}): string {
  const v = obj[key];
  const field = join(prefix, key);
  if (v === undefined) throw invalid(field, 'required');
  if (typeof v !== 'string') throw invalid(field, `expected a string, got ${describeValue(v)}`);
  if (options.nonEmpty && v.trim() === '') throw invalid(field, 'expected a non-empty string');
  if (options.max !== undefined && v.length > options.max) throw invalid(field, `longer than ${options.max} characters`);
  return v;
}

/** One message to check: `{ from, to, text, time?, id?, channel? }`. `prefix` is e.g. `messages[3]`. */
export function readMessageInput(value: unknown, prefix = ''): MessageInput {
  const obj = expectObject(value, prefix);
  refuseUnknown(obj, MESSAGE_KEYS, prefix);
  const from = str(obj, 'from', prefix, { max: FIELD_LIMITS.maxAddressLength, nonEmpty: true });
  const to = str(obj, 'to', prefix, { max: FIELD_LIMITS.maxAddressLength, nonEmpty: true });
  const text = str(obj, 'text', prefix);
  const input: { -readonly [K in keyof MessageInput]: MessageInput[K] } = { from, to, text };
  if (obj['id'] !== undefined) input.id = str(obj, 'id', prefix, { max: FIELD_LIMITS.maxIdLength });
  const time = obj['time'];
  if (time !== undefined) {
    if (typeof time === 'number') {
      if (!Number.isFinite(time)) throw invalid(join(prefix, 'time'), 'expected epoch milliseconds or an ISO-8601 string');
      input.time = time;
    } else if (typeof time === 'string') {
      if (Number.isNaN(Date.parse(time))) throw invalid(join(prefix, 'time'), `'${time.slice(0, 40)}' is not ISO-8601 (e.g. 2026-11-24T22:30:00Z)`);
      input.time = time;
    } else {
      throw invalid(join(prefix, 'time'), `expected epoch milliseconds or an ISO-8601 string, got ${describeValue(time)}`);
    }
  }
  const channel = obj['channel'];
  if (channel !== undefined) {
    if (channel !== 'sms' && channel !== 'email') throw invalid(join(prefix, 'channel'), `expected 'sms' or 'email', got ${describeValue(channel)}`);
    input.channel = channel as Channel;
  }
  return input;
}

/** `{ messages: [...] }`: the list itself; items are read one by one so one bad item fails alone. */
export function readBatch(value: unknown, maxBatch: number): unknown[] {
  const obj = expectObject(value, '');
  refuseUnknown(obj, ['messages'], '');
  const messages = obj['messages'];
  if (messages === undefined) throw invalid('messages', 'required');
  if (!Array.isArray(messages)) throw invalid('messages', `expected a list, got ${describeValue(messages)}`);
  if (messages.length > maxBatch) {
    throw new HttpError(413, 'batch_too_large', `messages: ${messages.length} messages, the limit is ${maxBatch} per request`, 'messages');
  }
  return messages;
}

/**
 * A subscriber's whole rule set (`PUT …/rules`). The body text goes through the rules room's
 * located reader; its problems name the field (`block[2]: expected a string, got a list`).
 */
export function readRulesBody(bodyText: string): SubscriberRules {
  const { root, problems } = parseSource(bodyText, 'request body');
  if (problems.length > 0) throw new HttpError(400, 'invalid_json', problems[0]!.message);
  if (!root.isMap()) throw invalid('body', `expected an object, got ${describeValue(root.value)}`);
  try {
    return readSubscriberRules(root);
  } catch (err) {
    if (err instanceof ProblemError) {
      const field = /^([A-Za-z_][\w.[\]]*): /.exec(err.problem.message)?.[1];
      throw new HttpError(400, 'invalid_request', err.problem.message, field);
    }
    throw err;
  }
}

export const RULE_LISTS: readonly RuleList[] = ['block', 'allow', 'keywords'];

/** `{ value }` of `POST/DELETE …/rules/{list}`; DELETE may give it as `?value=` instead. */
export function readRuleValue(body: unknown, query: URLSearchParams): string {
  const fromQuery = query.get('value');
  if (body === undefined) {
    if (fromQuery === null) throw invalid('value', 'required (in the body as {"value": …} or as ?value=)');
    return checkRuleValue(fromQuery, 'value');
  }
  const obj = expectObject(body, '');
  refuseUnknown(obj, ['value'], '');
  return checkRuleValue(str(obj, 'value', '', { nonEmpty: true }), 'value');
}

function checkRuleValue(value: string, field: string): string {
  if (value.trim() === '') throw invalid(field, 'expected a non-empty string');
  if (value.length > FIELD_LIMITS.maxRuleValueLength) throw invalid(field, `longer than ${FIELD_LIMITS.maxRuleValueLength} characters`);
  return value;
}

export interface FeedbackBody {
  readonly subscriber: string;
  readonly label: FeedbackLabel;
  readonly spamBoxId?: number;
  readonly message?: MessageInput;
}

/** `{ subscriber, label: spam|ham, spamBoxId? | message? }`: exactly one of the two. */
export function readFeedback(body: unknown): FeedbackBody {
  const obj = expectObject(body, '');
  refuseUnknown(obj, ['subscriber', 'label', 'spamBoxId', 'message'], '');
  const subscriber = str(obj, 'subscriber', '', { max: FIELD_LIMITS.maxAddressLength, nonEmpty: true });
  const label = obj['label'];
  if (label !== 'spam' && label !== 'ham') throw invalid('label', `expected 'spam' or 'ham', got ${describeValue(label)}`);
  const hasId = obj['spamBoxId'] !== undefined;
  const hasMessage = obj['message'] !== undefined;
  if (hasId === hasMessage) throw invalid('spamBoxId', "give exactly one of 'spamBoxId' (a held message) or 'message' (one that was delivered)");
  if (hasId) return { subscriber, label, spamBoxId: positiveId(obj['spamBoxId'], 'spamBoxId') };
  // The message was sent to the subscriber: `to` may be left out.
  const message = obj['message'];
  const withTo = typeof message === 'object' && message !== null && !Array.isArray(message) && !('to' in message) ? { ...message, to: subscriber } : message;
  return { subscriber, label, message: readMessageInput(withTo, 'message') };
}

export function positiveId(value: unknown, field: string): number {
  const n = typeof value === 'string' && /^\d{1,15}$/.test(value) ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 1) throw invalid(field, `expected a positive integer, got ${describeValue(value)}`);
  return n;
}

export interface Paging {
  readonly limit: number;
  readonly offset: number;
}

export const MAX_PAGE = 1000;

function intParam(query: URLSearchParams, name: string, fallback: number, min: number, max: number): number {
  const raw = query.get(name);
  if (raw === null) return fallback;
  if (!/^\d{1,10}$/.test(raw) || Number(raw) < min || Number(raw) > max) {
    throw invalid(name, `expected an integer from ${min} to ${max}, got '${raw.slice(0, 20)}'`);
  }
  return Number(raw);
}

export function readPaging(query: URLSearchParams, defaultLimit = 50): Paging {
  return { limit: intParam(query, 'limit', defaultLimit, 1, MAX_PAGE), offset: intParam(query, 'offset', 0, 0, 1_000_000_000) };
}
