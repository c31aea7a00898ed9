import { describe, expect, it } from 'vitest';
import { parseProxyConfig, ProxyConfigError } from '../../src/smpp/config.js';
import { passwordMatches } from '../../src/smpp/proxy.js';

function problems(text: string): string[] {
  try {
    parseProxyConfig(text, 'proxy.yaml');
  } catch (err) {
    if (err instanceof ProxyConfigError) return err.message.split('\n').slice(1).map((l) => l.trim());
    throw err;
  }
  throw new Error('expected the config to be refused');
}

describe('SMPP proxy config', () => {
  it('reads a full config with defaults filled in', () => {
    const c = parseProxyConfig(
      'upstream: { system_id: sg, password: pw, system_type: "", response_timeout_seconds: 2.5 }\nesmes:\n  - { system_id: shop, password: s3cret, window: 7, rate: 50, mo_addresses: ["87121", "+44*"] }\nactions: { block_status: 0x58, tag_tlv: 0x1401 }\n',
      'proxy.yaml',
    );
    expect(c.upstream).toMatchObject({ systemId: 'sg', password: 'pw', systemType: '', responseTimeoutMs: 2500, enquireLinkMs: 30_000 });
    expect(c.esmes[0]).toEqual({ systemId: 'shop', password: 's3cret', window: 7, rate: 50, maxBinds: 10, moAddresses: ['87121', '+44*'] });
    expect(c.actions).toMatchObject({ blockStatus: 0x58, quarantineStatus: 0, tagTlv: 0x1401, moBlockStatus: 0x65, upstreamDownStatus: 0x58 });
    expect(c.concat).toEqual({ timeoutMs: 30_000, maxPending: 10_000 });
    expect(c.decoding).toEqual({ gsm7: 'auto', dataCoding1: 'ia5' });
  });

  it('names file, line, column and field for every problem', () => {
    const found = problems('upstream: { system_id: sg, password: far-too-long-password }\nesmes:\n  - { system_id: shop, passwrd: x }\n  - { system_id: shop, password: a, window: 0 }\nactions: { block_status: 0 }\n');
    expect(found).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^proxy\.yaml:1:\d+: upstream\.password: at most 8 characters/),
        expect.stringMatching(/^proxy\.yaml:3:\d+: esmes\[0\]: unknown key 'passwrd' \(did you mean 'password'\?\)/),
        expect.stringMatching(/^proxy\.yaml:4:\d+: esmes\[1\]\.window: /),
        expect.stringMatching(/^proxy\.yaml:5:\d+: actions\.block_status: a blocked message must be refused with an error status/),
      ]),
    );
  });

  it('refuses a missing upstream and a system_id defined twice', () => {
    expect(problems('esmes: [{ system_id: a, password: b }]\n')).toEqual([expect.stringMatching(/missing 'upstream'/)]);
    expect(problems('upstream: { system_id: a, password: b }\nesmes:\n  - { system_id: a, password: b }\n  - { system_id: a, password: c }\n')).toEqual([
      expect.stringMatching(/^proxy\.yaml:4:\d+: esmes\[1\]: system_id 'a' defined twice/),
    ]);
  });

  it('reports invalid YAML with its position', () => {
    expect(problems('upstream: { system_id: a\n')[0]).toMatch(/^proxy\.yaml:\d+:\d+: invalid YAML/);
  });

  it('compares passwords in constant time over digests, whatever their lengths', () => {
    expect(passwordMatches('s3cret', 's3cret')).toBe(true);
    expect(passwordMatches('s3cret', 's3cre')).toBe(false);
    expect(passwordMatches('s3cret', '')).toBe(false);
  });
});
