/**
 * The SMS management commands (ITU-T X.1242 §9) as text: parsed here into a Command, run by
 * `sms.ts`. Case-insensitive and forgiving about spaces and punctuation a phone keyboard adds
 * ("block: 0900 *", "Not spam #3", "quiet 22.00 - 7.00"). Values are checked for shape here
 * (numbers, times); whether a pattern or keyword is acceptable is the rules' business and is
 * checked when the command runs. Parsing is linear in the text and the text is bounded.
 */
import type { RuleList } from './types.js';

/** Longer texts are refused before any parsing: three SMS is plenty for a command. */
export const MAX_COMMAND_LENGTH = 480;

export type Command =
  | { readonly kind: 'rule'; readonly op: 'add' | 'remove'; readonly list: RuleList; readonly value: string }
  | { readonly kind: 'quiet'; readonly window: { readonly from: string; readonly to: string } | null }
  | { readonly kind: 'filter'; readonly on: boolean }
  | { readonly kind: 'list' }
  | { readonly kind: 'spambox'; readonly page: number }
  | { readonly kind: 'release' | 'delete'; readonly id: number }
  | { readonly kind: 'spam' }
  | { readonly kind: 'notspam'; readonly id: number | undefined }
  | { readonly kind: 'help' };

export type CommandError =
  | { readonly error: 'empty' }
  | { readonly error: 'too-long' }
  | { readonly error: 'unknown'; readonly word: string }
  | { readonly error: 'missing'; readonly verb: string; readonly example: string }
  | { readonly error: 'bad-number'; readonly verb: string; readonly value: string }
  | { readonly error: 'bad-time'; readonly value: string }
  | { readonly error: 'bad-on-off'; readonly verb: string };

export type ParsedCommand = { readonly ok: true; readonly command: Command } | ({ readonly ok: false } & CommandError);

const ok = (command: Command): ParsedCommand => ({ ok: true, command });
const fail = (e: CommandError): ParsedCommand => ({ ok: false, ...e });

const ADD_WORDS = new Set(['ADD', 'ON', '+']);
const REMOVE_WORDS = new Set(['DEL', 'DELETE', 'REMOVE', 'RM', 'OFF', '-']);

const EXAMPLES: Readonly<Record<RuleList, string>> = {
  block: 'BLOCK +447700900123 or BLOCK 0900*',
  allow: 'ALLOW +447700900123',
  keywords: 'KEYWORD ADD prize',
};

/** VERB (ADD|DEL)? value, or UNVERB value. */
function ruleCommand(list: RuleList, verb: string, words: readonly string[], remove: boolean): ParsedCommand {
  const first = words[0]?.toUpperCase();
  const opWord = !remove && first !== undefined && (ADD_WORDS.has(first) || REMOVE_WORDS.has(first));
  // "BLOCK DEL" alone is a forgotten value, not a sender called DEL.
  if (words.length === 0 || (opWord && words.length === 1)) return fail({ error: 'missing', verb, example: EXAMPLES[list] });
  const op: 'add' | 'remove' = remove || (opWord && REMOVE_WORDS.has(first!)) ? 'remove' : 'add';
  const rest = opWord ? words.slice(1) : words;
  const value = rest.join(' ').replace(/^["'“”‘’]+|["'“”‘’.,;!]+$/g, '').trim();
  if (value === '') return fail({ error: 'missing', verb, example: EXAMPLES[list] });
  return ok({ kind: 'rule', op, list, value });
}

const CLOCK = String.raw`(\d{1,2})(?:\s*[:.h]\s*(\d{2}))?`;
const RANGE = new RegExp(`^${CLOCK}\\s*(?:-|–|—|TO|UNTIL)\\s*${CLOCK}$`, 'i');
const COMPACT = /^(\d{2})(\d{2})\s*-\s*(\d{2})(\d{2})$/;

function clock(h: string, m: string | undefined): string | undefined {
  const hours = Number(h);
  const minutes = m === undefined ? 0 : Number(m);
  if (hours > 24 || minutes > 59 || (hours === 24 && minutes > 0)) return undefined;
  return `${String(hours).padStart(2, '0')}:${String(minutes).padStart(2, '0')}`;
}

/** "22:00-07:00", "22-7", "22.00 to 07.00", "2200-0700" → { from, to }; undefined when not a valid range. */
export function parseQuietRange(text: string): { from: string; to: string } | undefined {
  const t = text.trim();
  const compact = COMPACT.exec(t);
  const m = compact ? [t, compact[1], compact[2], compact[3], compact[4]] : RANGE.exec(t);
  if (!m) return undefined;
  const from = clock(m[1]!, m[2]);
  const to = clock(m[3]!, m[4]);
  if (from === undefined || to === undefined || from === to) return undefined;
  return { from, to };
}

function spamBoxNumber(verb: string, words: readonly string[]): number | ParsedCommand {
  const raw = words.join('');
  if (raw === '') return fail({ error: 'missing', verb, example: `${verb} 3` });
  const digits = raw.replace(/^(?:#|NO\.?|NR\.?)/i, '').replace(/[.!]$/, '');
  if (!/^\d{1,9}$/.test(digits) || Number(digits) === 0) return fail({ error: 'bad-number', verb, value: words.join(' ') });
  return Number(digits);
}

/** Parse one command text. Never throws; an error says what was wrong for the reply. */
export function parseCommand(text: string): ParsedCommand {
  if (text.length > MAX_COMMAND_LENGTH) return fail({ error: 'too-long' });
  // "BLOCK: 0900*" and "RELEASE3" are keyboard noise and a missed space.
  const words = text
    .trim()
    .replace(/^([A-Za-z]+)\s*[:,]/, '$1 ')
    .replace(/^([A-Za-z]{3,})([+#\d])/, '$1 $2')
    .split(/\s+/)
    .filter((w) => w !== '');
  if (words.length === 0) return fail({ error: 'empty' });
  let verb = words[0]!.toUpperCase();
  let args = words.slice(1);
  // Two-word forms: NOT SPAM 3, SPAM BOX.
  if (verb === 'NOT' && args[0]?.toUpperCase() === 'SPAM') {
    verb = 'NOTSPAM';
    args = args.slice(1);
  } else if (verb === 'SPAM' && args[0]?.toUpperCase() === 'BOX') {
    verb = 'SPAMBOX';
    args = args.slice(1);
  }
  switch (verb) {
    case 'BLOCK':
    case 'BLACKLIST':
      return ruleCommand('block', 'BLOCK', args, false);
    case 'UNBLOCK':
      return ruleCommand('block', 'UNBLOCK', args, true);
    case 'ALLOW':
    case 'WHITELIST':
      return ruleCommand('allow', 'ALLOW', args, false);
    case 'UNALLOW':
    case 'DISALLOW':
      return ruleCommand('allow', 'UNALLOW', args, true);
    case 'KEYWORD':
    case 'KEYWORDS':
    case 'KW':
      return ruleCommand('keywords', 'KEYWORD', args, false);
    case 'QUIET': {
      const rest = args.join(' ');
      if (rest === '') return fail({ error: 'missing', verb: 'QUIET', example: 'QUIET 22:00-07:00 or QUIET OFF' });
      if (rest.toUpperCase() === 'OFF') return ok({ kind: 'quiet', window: null });
      const window = parseQuietRange(rest);
      return window ? ok({ kind: 'quiet', window }) : fail({ error: 'bad-time', value: rest });
    }
    case 'FILTER': {
      const v = args.join(' ').toUpperCase();
      if (v === 'ON') return ok({ kind: 'filter', on: true });
      if (v === 'OFF') return ok({ kind: 'filter', on: false });
      return fail({ error: 'bad-on-off', verb: 'FILTER' });
    }
    case 'LIST':
    case 'RULES':
      return ok({ kind: 'list' });
    case 'SPAMBOX':
    case 'BOX': {
      if (args.length === 0) return ok({ kind: 'spambox', page: 1 });
      const page = spamBoxNumber('SPAMBOX', args);
      return typeof page === 'number' ? ok({ kind: 'spambox', page }) : page;
    }
    case 'RELEASE':
    case 'DELETE':
    case 'DEL': {
      const kind = verb === 'RELEASE' ? 'release' : 'delete';
      const id = spamBoxNumber(kind.toUpperCase(), args);
      return typeof id === 'number' ? ok({ kind, id }) : id;
    }
    case 'SPAM':
    case 'REPORT':
      return ok({ kind: 'spam' });
    case 'NOTSPAM':
    case 'HAM': {
      if (args.length === 0) return ok({ kind: 'notspam', id: undefined });
      const id = spamBoxNumber('NOTSPAM', args);
      return typeof id === 'number' ? ok({ kind: 'notspam', id }) : id;
    }
    case 'HELP':
    case 'INFO':
    case '?':
      return ok({ kind: 'help' });
    default:
      return fail({ error: 'unknown', word: words[0]! });
  }
}
