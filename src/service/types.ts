/**
 * The subscriber service (ITU-T X.1242) as the adapters see it: the HTTP API, the SMPP proxy,
 * the SMS command channel and the CLI all go through this interface, never through the store.
 * `store/` implements the persistence behind it; another backend (PostgreSQL, Redis) is a new
 * repository, not a new service.
 */
import type { Verdict } from '../engine/types.js';
import type { MessageInput } from '../message/types.js';
import type { SubscriberRules } from '../rules/subscriber-types.js';

/** Who asked for a change: written to the audit trail. */
export type Actor =
  | { readonly kind: 'operator'; readonly name: string }
  | { readonly kind: 'subscriber'; readonly number: string; readonly channel: 'sms' | 'http' | 'client' };

/** One held message in a subscriber's spam box. Ids are per database, shown to subscribers as small numbers. */
export interface SpamBoxItem {
  readonly id: number;
  /** Canonical recipient (E.164). */
  readonly subscriber: string;
  readonly from: string;
  readonly text: string;
  /** Epoch ms the message was sent (its `time`). */
  readonly time: number;
  /** Epoch ms it was stored. */
  readonly storedAt: number;
  readonly verdict: Verdict;
  /** The caller's message id (SMPP message id, HTTP id), if any. */
  readonly messageId?: string;
}

export interface Page<T> {
  readonly items: readonly T[];
  readonly total: number;
}

/** What happened to one message that passed through the service. */
export interface ProcessResult {
  readonly verdict: Verdict;
  /**
   * `deliver` and `tag`: forward it. `quarantined`: stored in the spam box (durably, before this
   * returns). `blocked`: refused, not stored.
   */
  readonly outcome: 'deliver' | 'quarantined' | 'blocked';
  readonly spamBoxId?: number;
  /**
   * Set when the message was a command to the service number: it is consumed, not forwarded
   * (outcome `deliver` with nothing to deliver to the service number); send `command.reply`
   * back to the sender and deliver `command.deliver` to them.
   */
  readonly command?: CommandResult;
}

/** What a command sent to the service number did. */
export interface CommandResult {
  /** One SMS (at most 160 GSM 03.38 characters) to send back to the sender. */
  readonly reply: string;
  /** Held messages the command released: deliver them to the sender after the reply. */
  readonly deliver: readonly SpamBoxItem[];
}

export type FeedbackLabel = 'spam' | 'ham';

export interface FeedbackResult {
  readonly accepted: boolean;
  /** Why not, when not accepted (rate limit, unknown message). */
  readonly reason?: string;
  /** True when the feedback reversed an earlier label of the same message. */
  readonly relabelled?: boolean;
}

export type RuleList = 'block' | 'allow' | 'keywords';

export interface SubscriberService {
  /** Check a message and act on it: quarantined messages are in the spam box when this returns. */
  process(input: MessageInput): ProcessResult;

  getRules(subscriber: string): SubscriberRules | undefined;
  /** Replace a subscriber's rules whole (validated; throws SubscriberRuleError naming the field). Reaches the engine at once. */
  setRules(subscriber: string, rules: SubscriberRules, actor: Actor): void;
  addRule(subscriber: string, list: RuleList, value: string, actor: Actor): SubscriberRules;
  removeRule(subscriber: string, list: RuleList, value: string, actor: Actor): SubscriberRules;
  deleteSubscriber(subscriber: string, actor: Actor): boolean;
  listSubscribers(options?: { readonly limit?: number; readonly offset?: number }): Page<string>;

  listSpamBox(subscriber: string, options?: { readonly limit?: number; readonly offset?: number }): Page<SpamBoxItem>;
  getSpamBoxItem(subscriber: string, id: number): SpamBoxItem | undefined;
  /** Remove from the spam box and return it for delivery; recorded in the audit trail. */
  release(subscriber: string, id: number, actor: Actor): SpamBoxItem | undefined;
  deleteSpamBoxItem(subscriber: string, id: number, actor: Actor): boolean;
  /** Drop items older than the retention; returns how many. */
  purge(now?: number): number;
  /** A digest of what was held since `since`, ready to send as one SMS. */
  digest(subscriber: string, since: number): string;

  /** "This is spam" / "this is not spam": trains the classifier, rate-limited per subscriber. */
  feedback(subscriber: string, label: FeedbackLabel, message: { readonly spamBoxId?: number; readonly input?: MessageInput }, actor: Actor): FeedbackResult;

  /** A message sent to the service number: a command, answered with one SMS. */
  handleCommand(from: string, text: string): string;
  /** As handleCommand, with the messages a RELEASE or NOTSPAM took out of the spam box for delivery. */
  executeCommand(from: string, text: string): CommandResult;

  /** Set many subscribers' rules at once (import): all validated first, then written in one transaction. */
  importRules(entries: Iterable<readonly [string, SubscriberRules]>, actor: Actor): number;

  /**
   * Apply rule changes written by other processes (the CLI while a server runs) to this
   * service's engine; returns how many subscribers changed. Servers call it about twice a second.
   */
  refresh(): number;

  close(): void;
}
