import { createHash } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AddressNormaliser } from '../../src/message/address.js';
import { loadTokens, parseTokensFile, TokenConfigError } from '../../src/server/auth.js';
import { RuleLoadError } from '../../src/rules/source.js';

const normaliser = new AddressNormaliser('GB');

describe('bearer tokens', () => {
  it('reads operator and subscriber tokens, secrets or SHA-256 digests, with canonical numbers', () => {
    const digest = createHash('sha256').update('subscriber-secret-two-2222').digest('hex');
    const store = parseTokensFile(
      `- { token: operator-secret-0000000, scope: operator, name: noc }\n` +
        `- { token: subscriber-secret-one-1111, scope: subscriber, number: "07700 900001" }\n` +
        `- { sha256: "${digest}", scope: subscriber, number: "+447700900002" }\n`,
      'tokens.yaml',
      normaliser,
    );
    expect(store.size).toBe(3);
    expect(store.authenticate('Bearer operator-secret-0000000')).toEqual({ scope: 'operator', name: 'noc' });
    expect(store.authenticate('bearer   subscriber-secret-one-1111')).toMatchObject({ scope: 'subscriber', number: '+447700900001' });
    expect(store.authenticate('Bearer subscriber-secret-two-2222')).toMatchObject({ scope: 'subscriber', number: '+447700900002' });
    expect(store.authenticate('Bearer subscriber-secret-two-2223')).toBeUndefined();
    expect(store.authenticate('Basic operator-secret-0000000')).toBeUndefined();
    expect(store.authenticate(undefined)).toBeUndefined();
  });

  it('accepts the same list as JSON', () => {
    const store = parseTokensFile('[{"token": "operator-secret-0000000", "scope": "operator"}]', 'tokens.json', normaliser);
    expect(store.authenticate('Bearer operator-secret-0000000')).toEqual({ scope: 'operator', name: 'token 1' });
  });

  it('refuses bad entries naming file, line and field', () => {
    const bad = (text: string): string => {
      try {
        parseTokensFile(text, 'tokens.yaml', normaliser);
      } catch (err) {
        expect(err).toBeInstanceOf(RuleLoadError);
        return (err as Error).message;
      }
      throw new Error('accepted a bad token file');
    };
    expect(bad('- { token: short, scope: operator }\n')).toMatch(/tokens\.yaml:1:\d+: .*shorter than 16/);
    expect(bad('- { token: operator-secret-0000000, scope: admin }\n')).toMatch(/expected 'operator' or 'subscriber', got 'admin'/);
    expect(bad('- { token: operator-secret-0000000, scope: subscriber }\n')).toMatch(/needs 'number'/);
    expect(bad('- { token: operator-secret-0000000, scope: subscriber, number: PRIZEDRAW }\n')).toMatch(/not a subscriber number/);
    expect(bad('- { token: operator-secret-0000000, scope: operator, number: "+447700900001" }\n')).toMatch(/operator token has no number/);
    expect(bad('- { sha256: abc, scope: operator }\n')).toMatch(/64 hex digits/);
    expect(bad('- { scope: operator }\n')).toMatch(/exactly one of 'token'/);
    expect(bad('- { token: operator-secret-0000000, scope: operator, role: x }\n')).toMatch(/unknown key 'role'/);
    expect(bad('- { token: operator-secret-0000000, scope: operator }\n- { token: operator-secret-0000000, scope: operator }\n')).toMatch(/tokens\.yaml:2:.*listed twice/);
    expect(bad('')).toMatch(/empty/);
    expect(bad('token: x\n')).toMatch(/expected a list/);
  });

  it('loads the environment operator token beside a file, and refuses weak or unreadable ones', () => {
    const dir = mkdtempSync(join(tmpdir(), 'spamgate-tokens-'));
    const file = join(dir, 'tokens.yaml');
    writeFileSync(file, '- { token: subscriber-secret-one-1111, scope: subscriber, number: "+447700900001" }\n');
    const store = loadTokens({ file, operatorToken: 'env-operator-secret-000', normaliser });
    expect(store.size).toBe(2);
    expect(store.authenticate('Bearer env-operator-secret-000')).toEqual({ scope: 'operator', name: 'env' });
    expect(() => loadTokens({ operatorToken: 'weak', normaliser })).toThrow(TokenConfigError);
    expect(() => loadTokens({ file: join(dir, 'missing.yaml'), normaliser })).toThrow(/cannot read token file .*ENOENT/);
    expect(loadTokens({ normaliser }).size).toBe(0);
  });
});
