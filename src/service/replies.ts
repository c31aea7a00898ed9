/**
 * Every text the SMS management channel sends, in one place, in English. An operator
 * translates by passing `replies: { …overrides }` to createSubscriberService; each entry is a
 * function of what it reports. Whatever the texts, `toSms` makes the final reply one GSM SMS
 * (160 septets): values from subscribers and senders are made GSM-safe and shortened, and a
 * reply that would still be too long is cut.
 */
import { gsmLength, gsmTruncate, SMS_SEPTETS, toGsm } from './gsm.js';

/** A value a person wrote (a sender, a keyword, a snippet), GSM-safe and at most `max` septets. */
export function shown(value: string, max = 24): string {
  return gsmTruncate(value.replace(/\s+/g, ' ').trim(), max);
}

export const DEFAULT_REPLIES = {
  blocked: (v: string) => `Blocked ${v}: its messages now wait in your spam box. Undo: UNBLOCK ${v}`,
  alreadyBlocked: (v: string) => `${v} is already on your block list.`,
  unblocked: (v: string) => `Unblocked ${v}.`,
  notBlocked: (v: string) => `${v} is not on your block list. Send LIST to see your lists.`,
  allowed: (v: string) => `Allowed ${v}: its messages are always delivered. Undo: UNALLOW ${v}`,
  alreadyAllowed: (v: string) => `${v} is already on your allow list.`,
  unallowed: (v: string) => `Removed ${v} from your allow list.`,
  notAllowed: (v: string) => `${v} is not on your allow list. Send LIST to see your lists.`,
  keywordAdded: (v: string) => `Messages with "${v}" now wait in your spam box. Undo: KEYWORD DEL ${v}`,
  keywordExists: (v: string) => `"${v}" is already one of your keywords.`,
  keywordRemoved: (v: string) => `Removed the keyword "${v}".`,
  keywordMissing: (v: string) => `"${v}" is not one of your keywords. Send LIST to see them.`,
  quietSet: (from: string, to: string) => `Quiet hours ${from}-${to}: messages from senders not on your allow list wait in your spam box. Stop: QUIET OFF`,
  quietOff: () => 'Quiet hours are off.',
  quietAlreadyOff: () => 'You have no quiet hours. Set them with e.g. QUIET 22:00-07:00',
  filterOn: () => 'Spam filtering is on.',
  filterOff: () => 'Spam filtering is off: you get every message except known fraud. Turn it back on: FILTER ON',
  /** `body` is the lists, already shortened to fit. */
  list: (body: string) => body,
  listEmpty: (enabled: boolean) => `You have no rules yet. Filtering is ${enabled ? 'on' : 'off'}. Try BLOCK 0900* or KEYWORD ADD prize. HELP for more.`,
  listBlock: () => 'Block',
  listAllow: () => 'Allow',
  listKeywords: () => 'Keywords',
  listQuiet: () => 'Quiet',
  listFilter: (enabled: boolean) => `Filter ${enabled ? 'on' : 'off'}`,
  more: (n: number) => `+${n} more`,
  spamBoxEmpty: () => 'Your spam box is empty.',
  spamBoxPageEmpty: (page: number) => `There is no page ${page} of your spam box. Send SPAMBOX for the first.`,
  /** `items` is the page's entries already shortened to fit. */
  spamBox: (total: number, items: string, next: number | undefined) =>
    `Spam box (${total}): ${items}${next !== undefined ? ` More: SPAMBOX ${next}.` : ''} RELEASE n or DELETE n`,
  spamBoxItem: (id: number, from: string, snippet: string) => `${id} ${from}: ${snippet}`,
  released: (id: number, from: string) => `Message ${id} from ${from} released: it follows this reply.`,
  deleted: (id: number) => `Message ${id} deleted from your spam box.`,
  noSuchItem: (id: number) => `There is no message ${id} in your spam box. Send SPAMBOX to list it.`,
  reported: (from: string) => `Thanks: the last message, from ${from}, is reported as spam. To block the sender: BLOCK ${from}`,
  reportedAgain: (from: string) => `You already reported the message from ${from} as spam. Thanks.`,
  nothingToReport: () => 'There is no recent message to report.',
  notSpamReleased: (id: number, from: string) => `Thanks: message ${id} from ${from} is marked not spam and released; it follows this reply.`,
  notSpamLast: (from: string) => `Thanks: the last message, from ${from}, is marked not spam.`,
  rateLimited: () => 'You have sent many reports recently. Please try again later.',
  tooManyRules: (limit: number) => `Your lists are full (${limit} rules). Remove some first; send LIST to see them.`,
  tooManyQuiet: () => 'You have too many quiet hours windows. Send QUIET OFF, then set one.',
  badPattern: (v: string) => `"${v}" is not a number, prefix or sender name. Examples: BLOCK +447700900123, BLOCK 0900*, BLOCK PRIZEDRAW`,
  badKeyword: (v: string) => `"${v}" cannot be a keyword: use 1 to 64 letters or digits. Example: KEYWORD ADD prize`,
  badTime: (v: string) => `"${v}" is not a time range. Use 24-hour times, e.g. QUIET 22:00-07:00`,
  badNumber: (verb: string, v: string) => `"${v}" is not a message number. Example: ${verb} 3 (SPAMBOX lists the numbers)`,
  badOnOff: (verb: string) => `Send ${verb} ON or ${verb} OFF.`,
  missing: (verb: string, example: string) => `${verb} needs more. Example: ${example}`,
  unknown: (word: string) => `Sorry, "${word}" is not a command. Send HELP for the list.`,
  empty: () => 'Send HELP for the list of commands.',
  tooLong: () => 'That command is too long. Send HELP for the list of commands.',
  notSubscriber: () => 'Commands must come from a phone number.',
  help: () => 'BLOCK n, UNBLOCK n, ALLOW n, UNALLOW n, KEYWORD ADD/DEL w, QUIET 22:00-07:00, QUIET OFF, FILTER ON/OFF, LIST, SPAMBOX, RELEASE n, DELETE n, SPAM, NOTSPAM n',
  digest: (count: number, since: string, senders: string) =>
    `Spam box: ${count} message${count === 1 ? '' : 's'} held since ${since}${senders ? `, from ${senders}` : ''}. Send SPAMBOX to see them.`,
  digestSender: (from: string, count: number) => (count > 1 ? `${from} (${count})` : from),
  digestEmpty: (since: string) => `Spam box: nothing held since ${since}.`,
  moreSenders: (n: number) => `${n} other${n === 1 ? '' : 's'}`,
  error: () => 'Sorry, something went wrong. Please try again later.',
};

export type Replies = typeof DEFAULT_REPLIES;

/** The reply as sent: GSM-safe and at most one SMS. */
export function toSms(text: string): string {
  const safe = toGsm(text);
  return (gsmLength(safe) ?? Infinity) <= SMS_SEPTETS ? safe : gsmTruncate(safe, SMS_SEPTETS);
}

/**
 * Join entries with `sep` while the result stays within `budget` septets; the entries left out
 * (plus `extra` never listed) are counted with `more(n)`, so a long list still says how long it is.
 */
export function fitList(entries: readonly string[], budget: number, sep: string, more: (n: number) => string, extra = 0): string {
  const septets = (t: string): number => gsmLength(toGsm(t)) ?? Infinity;
  let out = '';
  for (let i = 0; i < entries.length; i++) {
    const candidate = out === '' ? entries[i]! : out + sep + entries[i]!;
    const rest = entries.length - i - 1 + extra;
    if (septets(rest > 0 ? candidate + sep + more(rest) : candidate) > budget) {
      const left = entries.length - i + extra;
      return out === '' ? more(left) : out + sep + more(left);
    }
    out = candidate;
  }
  if (extra > 0) return out === '' ? more(extra) : out + sep + more(extra);
  return out;
}
