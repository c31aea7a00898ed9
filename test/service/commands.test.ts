import { describe, expect, it } from 'vitest';
import { parseCommand, parseQuietRange, MAX_COMMAND_LENGTH } from '../../src/service/commands.js';
import { DEFAULT_REPLIES, fitList, toSms } from '../../src/service/replies.js';
import { gsmLength, toGsm } from '../../src/service/gsm.js';
import { SUBSCRIBER_LIMITS } from '../../src/rules/subscriber-types.js';
import { ALICE, BOB, SERVICE, held, operator, septets, service } from './helpers.js';

describe('command parser', () => {
  it.each([
    ['BLOCK +447700900123', { kind: 'rule', op: 'add', list: 'block', value: '+447700900123' }],
    ['  block   0900* ', { kind: 'rule', op: 'add', list: 'block', value: '0900*' }],
    ['Block: 07700 900123', { kind: 'rule', op: 'add', list: 'block', value: '07700 900123' }],
    ['BLOCK DEL 0900*', { kind: 'rule', op: 'remove', list: 'block', value: '0900*' }],
    ['unblock 0900*', { kind: 'rule', op: 'remove', list: 'block', value: '0900*' }],
    ['ALLOW +447700900123', { kind: 'rule', op: 'add', list: 'allow', value: '+447700900123' }],
    ['UNALLOW +447700900123', { kind: 'rule', op: 'remove', list: 'allow', value: '+447700900123' }],
    ['allow remove MUM', { kind: 'rule', op: 'remove', list: 'allow', value: 'MUM' }],
    ['KEYWORD ADD prize', { kind: 'rule', op: 'add', list: 'keywords', value: 'prize' }],
    ['keyword add "free entry"', { kind: 'rule', op: 'add', list: 'keywords', value: 'free entry' }],
    ['Keyword Del prize', { kind: 'rule', op: 'remove', list: 'keywords', value: 'prize' }],
    ['QUIET 22:00-07:00', { kind: 'quiet', window: { from: '22:00', to: '07:00' } }],
    ['quiet 22.30 - 7', { kind: 'quiet', window: { from: '22:30', to: '07:00' } }],
    ['QUIET 2200-0700', { kind: 'quiet', window: { from: '22:00', to: '07:00' } }],
    ['QUIET 23:00 to 24:00', { kind: 'quiet', window: { from: '23:00', to: '24:00' } }],
    ['quiet off', { kind: 'quiet', window: null }],
    ['FILTER on', { kind: 'filter', on: true }],
    ['filter OFF', { kind: 'filter', on: false }],
    ['list', { kind: 'list' }],
    ['SPAMBOX', { kind: 'spambox', page: 1 }],
    ['spam box 2', { kind: 'spambox', page: 2 }],
    ['RELEASE 3', { kind: 'release', id: 3 }],
    ['release #12', { kind: 'release', id: 12 }],
    ['RELEASE3', { kind: 'release', id: 3 }],
    ['BLOCK+447700900123', { kind: 'rule', op: 'add', list: 'block', value: '+447700900123' }],
    ['DELETE 3', { kind: 'delete', id: 3 }],
    ['SPAM', { kind: 'spam' }],
    ['NOTSPAM 3', { kind: 'notspam', id: 3 }],
    ['not spam 3', { kind: 'notspam', id: 3 }],
    ['NOTSPAM', { kind: 'notspam', id: undefined }],
    ['help', { kind: 'help' }],
  ])('%j parses', (text, command) => {
    expect(parseCommand(text)).toEqual({ ok: true, command });
  });

  it.each([
    ['', { error: 'empty' }],
    ['BLOCK', { error: 'missing', verb: 'BLOCK' }],
    ['BLOCK DEL', { error: 'missing', verb: 'BLOCK' }],
    ['KEYWORD ADD', { error: 'missing', verb: 'KEYWORD' }],
    ['UNBLOCK', { error: 'missing', verb: 'UNBLOCK' }],
    ['QUIET', { error: 'missing', verb: 'QUIET' }],
    ['QUIET 25:00-07:00', { error: 'bad-time', value: '25:00-07:00' }],
    ['QUIET 22:61-07:00', { error: 'bad-time' }],
    ['QUIET 22:00-22:00', { error: 'bad-time' }],
    ['QUIET soon', { error: 'bad-time' }],
    ['FILTER maybe', { error: 'bad-on-off', verb: 'FILTER' }],
    ['RELEASE', { error: 'missing', verb: 'RELEASE' }],
    ['RELEASE three', { error: 'bad-number', verb: 'RELEASE', value: 'three' }],
    ['RELEASE 0', { error: 'bad-number' }],
    ['DELETE 12345678901', { error: 'bad-number' }],
    ['NOTSPAM x', { error: 'bad-number', verb: 'NOTSPAM' }],
    ['SUBSCRIBE now', { error: 'unknown', word: 'SUBSCRIBE' }],
    ['x'.repeat(MAX_COMMAND_LENGTH + 1), { error: 'too-long' }],
  ])('%j is refused with a reason', (text, error) => {
    expect(parseCommand(text)).toMatchObject({ ok: false, ...error });
  });

  it('quiet ranges: 24:00 only as a whole hour, minutes below 60', () => {
    expect(parseQuietRange('0-24')).toEqual({ from: '00:00', to: '24:00' });
    expect(parseQuietRange('24:30-07:00')).toBeUndefined();
    expect(parseQuietRange('7:5-8')).toBeUndefined();
  });
});

describe('replies fit one SMS', () => {
  const long = 'X'.repeat(30);
  const args: Record<string, unknown[]> = {
    blocked: [long], alreadyBlocked: [long], unblocked: [long], notBlocked: [long], allowed: [long], alreadyAllowed: [long],
    unallowed: [long], notAllowed: [long], keywordAdded: [long], keywordExists: [long], keywordRemoved: [long], keywordMissing: [long],
    quietSet: ['22:00', '07:00'], listEmpty: [false], listFilter: [false], more: [999], spamBoxPageEmpty: [999999999],
    spamBoxItem: [999999999, 'X'.repeat(14), 'X'.repeat(40)], released: [999999999, 'X'.repeat(16)], deleted: [999999999],
    noSuchItem: [999999999], reported: ['X'.repeat(16)], reportedAgain: ['X'.repeat(16)], notSpamReleased: [999999999, 'X'.repeat(16)],
    notSpamLast: ['X'.repeat(16)], tooManyRules: [200], badPattern: [long], badKeyword: [long], badTime: ['X'.repeat(24)],
    badNumber: ['NOTSPAM', 'X'.repeat(16)], badOnOff: ['FILTER'], missing: ['KEYWORD', 'BLOCK +447700900123 or BLOCK 0900*'], unknown: ['X'.repeat(16)],
    digestSender: ['X'.repeat(16), 999], digestEmpty: ['31 Dec, 23:59'], moreSenders: [999], spamBox: [999999, '', 99999],
    digest: [999999, '31 Dec, 23:59', ''], list: [''],
  };

  it('every reply text, with the longest values the channel puts in it, is GSM 03.38 and at most 160 septets before any cut', () => {
    for (const [name, fn] of Object.entries(DEFAULT_REPLIES)) {
      const text = (fn as (...a: unknown[]) => string)(...(args[name] ?? []));
      expect(gsmLength(text), `${name}: ${text}`).toBeDefined();
      expect(septets(text), `${name}: ${text}`).toBeLessThanOrEqual(160);
    }
  });

  it('toSms makes any text one GSM SMS, counting extension characters twice', () => {
    expect(toSms('€'.repeat(100))).toBe('€'.repeat(79) + '..');
    expect(septets(toSms('😀 prize ' + 'é'.repeat(300)))).toBeLessThanOrEqual(160);
    expect(toGsm('“Grüße” – ñ ç 😀')).toBe('"Grüße" - ñ c ?');
  });

  it('fitList counts what it leaves out', () => {
    expect(fitList(['aaaa', 'bbbb', 'cccc'], 14, ', ', (n) => `+${n} more`)).toBe('aaaa, +2 more');
    expect(fitList(['aaaa'], 100, ', ', (n) => `+${n} more`, 3)).toBe('aaaa, +3 more');
  });
});

describe('SMS commands, end to end', () => {
  const sms = (svc: ReturnType<typeof service>, text: string, from = ALICE) => {
    const reply = svc.handleCommand(from, text);
    expect(septets(reply), reply).toBeLessThanOrEqual(160);
    return reply;
  };

  it('BLOCK, UNBLOCK, ALLOW, UNALLOW, KEYWORD ADD/DEL, QUIET, FILTER change the sender’s rules and say so', () => {
    const svc = service();
    expect(sms(svc, 'BLOCK +447700900123')).toMatch(/^Blocked \+447700900123/);
    expect(sms(svc, 'block 07700 900123')).toBe('+447700900123 is already on your block list.');
    expect(sms(svc, 'BLOCK 0900*')).toMatch(/^Blocked 0900\*/);
    expect(sms(svc, 'BLOCK DEL 0900*')).toBe('Unblocked 0900*.');
    expect(sms(svc, 'UNBLOCK 0900*')).toMatch(/is not on your block list/);
    expect(sms(svc, 'ALLOW MUM')).toMatch(/^Allowed MUM/);
    expect(sms(svc, 'UNALLOW mum')).toBe('Removed MUM from your allow list.');
    expect(sms(svc, 'KEYWORD ADD prize')).toMatch(/^Messages with "prize" now wait/);
    expect(sms(svc, 'keyword add PRIZE')).toBe('"prize" is already one of your keywords.');
    expect(sms(svc, 'QUIET 22:00-07:00')).toMatch(/^Quiet hours 22:00-07:00/);
    expect(sms(svc, 'FILTER OFF')).toMatch(/^Spam filtering is off/);
    expect(svc.getRules(ALICE)).toEqual({ block: ['+447700900123'], allow: [], keywords: ['prize'], quiet: [{ from: '22:00', to: '07:00' }], enabled: false });
    expect(sms(svc, 'LIST')).toBe('Block: +447700900123. Keywords: prize. Quiet: 22:00-07:00. Filter off');
    expect(sms(svc, 'FILTER ON')).toBe('Spam filtering is on.');
    expect(sms(svc, 'KEYWORD DEL prize')).toBe('Removed the keyword "prize".');
    expect(sms(svc, 'QUIET OFF')).toBe('Quiet hours are off.');
    expect(sms(svc, 'QUIET OFF')).toMatch(/^You have no quiet hours/);
    expect(svc.getRules(ALICE)).toEqual({ block: ['+447700900123'], allow: [], keywords: [], quiet: [], enabled: true });
    svc.close();
  });

  it('malformed commands get a reply that says what to send, and change nothing', () => {
    const svc = service();
    expect(sms(svc, 'BLOCK')).toBe('BLOCK needs more. Example: BLOCK +447700900123 or BLOCK 0900*');
    expect(sms(svc, 'BLOCK a$b')).toMatch(/^"a\$b" is not a number, prefix or sender name/);
    expect(sms(svc, 'BLOCK 12')).toMatch(/^"12" is not a number/);
    expect(sms(svc, 'BLOCK 😀')).toMatch(/^"\?" is not a number/);
    expect(sms(svc, 'QUIET 25:00-07:00')).toBe('"25:00-07:00" is not a time range. Use 24-hour times, e.g. QUIET 22:00-07:00');
    expect(sms(svc, 'KEYWORD ADD ' + 'x'.repeat(70))).toMatch(/cannot be a keyword/);
    expect(sms(svc, 'KEYWORD ADD ???')).toMatch(/cannot be a keyword/);
    expect(sms(svc, 'RELEASE three')).toMatch(/^"three" is not a message number/);
    expect(sms(svc, 'hello there')).toBe('Sorry, "hello" is not a command. Send HELP for the list.');
    expect(sms(svc, '   ')).toBe('Send HELP for the list of commands.');
    expect(sms(svc, 'BLOCK ' + '1'.repeat(1000))).toMatch(/too long/);
    expect(svc.getRules(ALICE)).toBeUndefined();
    svc.close();
  });

  it('BLOCK abc is taken as the sender name ABC (sender IDs are real senders) and the reply shows it', () => {
    const svc = service();
    expect(sms(svc, 'BLOCK abc')).toMatch(/^Blocked abc:/);
    expect(svc.process({ from: 'ABC', to: ALICE, text: 'hi' }).outcome).toBe('quarantined');
    svc.close();
  });

  it('500 BLOCK commands for one subscriber stop at the limit with a clear reply', () => {
    const svc = service();
    const replies = Array.from({ length: 500 }, (_, i) => sms(svc, `BLOCK +4477009${String(i).padStart(5, '0')}`));
    expect(replies.filter((r) => r.startsWith('Blocked'))).toHaveLength(SUBSCRIBER_LIMITS.maxRules);
    expect(replies[SUBSCRIBER_LIMITS.maxRules]).toBe(`Your lists are full (${SUBSCRIBER_LIMITS.maxRules} rules). Remove some first; send LIST to see them.`);
    expect(svc.getRules(ALICE)!.block).toHaveLength(SUBSCRIBER_LIMITS.maxRules);
    // LIST with 200 rules: one SMS that says how many it could not show.
    const list = sms(svc, 'LIST');
    const more = /\+(\d+) more/.exec(list);
    expect(more).not.toBeNull();
    const shownCount = list.slice(0, more!.index).split(', ').length - 1;
    expect(shownCount + Number(more![1])).toBe(SUBSCRIBER_LIMITS.maxRules);
    svc.close();
  });

  it('LIST shares one SMS between long lists of every kind', () => {
    const svc = service();
    svc.setRules(ALICE, {
      block: Array.from({ length: 40 }, (_, i) => `+4477009${String(i).padStart(5, '0')}`),
      allow: Array.from({ length: 40 }, (_, i) => `FRIEND${i}`),
      keywords: Array.from({ length: 40 }, (_, i) => `long keyword phrase ${i}`),
      quiet: [{ from: '22:00', to: '07:00' }],
      enabled: true,
    }, operator);
    const list = sms(svc, 'LIST');
    expect(list).toMatch(/^Block: .*\+\d+ more\. Allow: .*\+\d+ more\. Keywords: .*\+\d+ more\. Quiet: 22:00-07:00\. Filter on$/);
    svc.close();
  });

  it('SPAMBOX pages three at a time, RELEASE hands the message back for delivery, DELETE drops it', () => {
    const svc = service();
    sms(svc, 'BLOCK 0900*');
    expect(sms(svc, 'SPAMBOX')).toBe('Your spam box is empty.');
    for (let i = 1; i <= 7; i++) svc.process(held(ALICE, i, { text: `Win a prize 😀 now ${i} ${'and more words '.repeat(10)}` }));
    const first = sms(svc, 'SPAMBOX');
    expect(first).toMatch(/^Spam box \(7\): 7 \+449001000007: Win a prize/);
    expect(first).toContain(' | 6 ');
    expect(first).toContain(' | 5 ');
    expect(first).toMatch(/More: SPAMBOX 2\. RELEASE n or DELETE n$/);
    expect(sms(svc, 'SPAMBOX 3')).toMatch(/^Spam box \(7\): 1 /);
    expect(sms(svc, 'SPAMBOX 4')).toMatch(/no page 4/);
    const released = svc.executeCommand(ALICE, 'RELEASE 5');
    expect(released.reply).toBe('Message 5 from +449001000005 released: it follows this reply.');
    expect(released.deliver.map((m) => [m.id, m.subscriber])).toEqual([[5, ALICE]]);
    expect(svc.executeCommand(ALICE, 'RELEASE 5')).toEqual({ reply: 'There is no message 5 in your spam box. Send SPAMBOX to list it.', deliver: [] });
    expect(sms(svc, 'DELETE 4')).toBe('Message 4 deleted from your spam box.');
    expect(svc.listSpamBox(ALICE).items.map((m) => m.id)).toEqual([7, 6, 3, 2, 1]);
    svc.close();
  });

  it('the sender is the subscriber: commands never reach another number’s rules or spam box', () => {
    const svc = service();
    svc.setRules(BOB, { block: ['0900*'], allow: [], keywords: [], quiet: [], enabled: true }, operator);
    svc.process(held(BOB, 1, { text: 'bob private' }));
    sms(svc, 'BLOCK 0900*', ALICE);
    expect(sms(svc, 'SPAMBOX', ALICE)).toBe('Your spam box is empty.');
    expect(svc.executeCommand(ALICE, 'RELEASE 1')).toMatchObject({ deliver: [] });
    expect(sms(svc, 'DELETE 1', ALICE)).toMatch(/no message 1/);
    expect(sms(svc, `UNBLOCK 0900* ${BOB}`, ALICE)).toMatch(/not on your block list/);
    expect(svc.getRules(BOB)!.block).toEqual(['0900*']);
    expect(svc.listSpamBox(BOB).items.map((m) => m.text)).toEqual(['bob private']);
    expect(sms(svc, 'LIST', BOB)).toBe('Block: 0900*. Filter on');
    svc.close();
  });

  it('a message to the service number is a command: answered, not filtered, not forwarded, not held', () => {
    const svc = service();
    const r = svc.process({ from: '07700 900001', to: '07700900000', text: 'block 0900*' });
    expect(r.outcome).toBe('deliver');
    expect(r.command?.reply).toMatch(/^Blocked 0900\*/);
    expect(r.verdict.reasons.map((x) => x.rule)).toEqual(['SERVICE_COMMAND']);
    expect(svc.getRules(ALICE)!.block).toEqual(['0900*']);
    expect(svc.process({ from: 'PRIZEDRAW', to: SERVICE, text: 'LIST' }).command?.reply).toBe('Commands must come from a phone number.');
    expect(svc.listSpamBox(SERVICE).total).toBe(0);
    svc.close();
  });

  it('SPAM reports the last message delivered to the sender; NOTSPAM n marks a held one and releases it', () => {
    const svc = service();
    expect(sms(svc, 'SPAM')).toBe('There is no recent message to report.');
    svc.process({ from: '+447700900555', to: BOB, text: 'not for alice', time: Date.UTC(2026, 0, 1) });
    expect(sms(svc, 'SPAM')).toBe('There is no recent message to report.');
    svc.process({ from: '+447700900555', to: ALICE, text: 'Cheap loans today', time: Date.UTC(2026, 0, 1) });
    expect(sms(svc, 'SPAM')).toBe('Thanks: the last message, from +447700900555, is reported as spam. To block the sender: BLOCK +447700900555');
    expect(sms(svc, 'NOTSPAM')).toBe('Thanks: the last message, from +447700900555, is marked not spam.');
    sms(svc, 'BLOCK 0900*');
    svc.process(held(ALICE, 1));
    const r = svc.executeCommand(ALICE, 'NOTSPAM 1');
    expect(r.reply).toBe('Thanks: message 1 from +449001000001 is marked not spam and released; it follows this reply.');
    expect(r.deliver).toHaveLength(1);
    expect(sms(svc, 'NOTSPAM 1')).toMatch(/no message 1/);
    svc.close();
  });

  it('HELP lists the commands', () => {
    const svc = service();
    expect(sms(svc, 'help')).toMatch(/^BLOCK n, UNBLOCK n, ALLOW n/);
    svc.close();
  });
});
