import { describe, expect, it } from 'vitest';
import pino from 'pino';
import { ALICE, held, operator, service } from './helpers.js';

function capture(level: pino.Level = 'debug') {
  const lines: Array<Record<string, unknown>> = [];
  const logger = pino({ level }, { write: (s: string) => void lines.push(JSON.parse(s) as Record<string, unknown>) });
  return { logger, lines };
}

describe('logs', () => {
  it('one debug line per decision without the text, one info line per change', () => {
    const { logger, lines } = capture();
    const svc = service({ logger });
    svc.setRules(ALICE, { block: ['0900*'], allow: [], keywords: [], quiet: [], enabled: true }, operator);
    svc.process(held(ALICE, 1, { text: 'a private message', id: 'abc' }));
    svc.process({ from: '+447700900555', to: ALICE, text: 'another private message' });
    const decisions = lines.filter((l) => l['msg'] === 'decision');
    expect(decisions).toHaveLength(2);
    expect(decisions[0]).toMatchObject({ level: 20, id: 'abc', to: ALICE, from: '+449001000001', action: 'quarantine', outcome: 'quarantined', spamBoxId: 1, rules: ['SUBSCRIBER_BLOCK'] });
    expect(decisions[1]).toMatchObject({ outcome: 'deliver' });
    const changes = lines.filter((l) => l['msg'] === 'subscriber rules changed');
    expect(changes).toEqual([expect.objectContaining({ level: 30, subscriber: ALICE, change: 'rules.set', actor: 'operator', operator: 'test' })]);
    expect(JSON.stringify(lines)).not.toContain('private');
    svc.close();
  });

  it('logs message text only when logText is on, and nothing per message at info', () => {
    const debug = capture();
    const svc = service({ logger: debug.logger, logText: true });
    svc.process({ from: '+447700900555', to: ALICE, text: 'visible text' });
    expect(debug.lines.find((l) => l['msg'] === 'decision')).toMatchObject({ text: 'visible text' });
    svc.close();
    const info = capture('info');
    const quiet = service({ logger: info.logger, logText: true });
    for (let i = 0; i < 10; i++) quiet.process({ from: '+447700900555', to: ALICE, text: `hello ${i}` });
    expect(info.lines.filter((l) => l['msg'] !== 'subscribers loaded into the engine')).toEqual([]);
    quiet.close();
  });
});
