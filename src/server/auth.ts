/**
 * Bearer tokens with two scopes: `operator` (everything) and `subscriber` (only their own
 * number). Tokens are kept only as SHA-256 digests; a presented token is hashed and compared
 * with `timingSafeEqual`. Digests are bucketed by their first bytes so a million subscriber
 * tokens cost one map lookup: the lookup's timing depends only on the digest of what the client
 * sent, which tells an attacker nothing about any stored token.
 *
 * Token file (`--tokens FILE`, YAML or JSON), a list of entries:
 * ```yaml
 * - { token: "long-random-secret", scope: operator, name: noc }
 * - { sha256: "9f86d0…", scope: subscriber, number: "+447700900001" }   # digest only, no secret on disk
 * ```
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { AddressNormaliser } from '../message/address.js';
import { collectProblems, Field, RuleLoadError, parseSource, type RuleProblem } from '../rules/source.js';

export type Principal =
  | { readonly scope: 'operator'; readonly name: string }
  | { readonly scope: 'subscriber'; readonly number: string; readonly name: string };

export interface TokenEntry {
  /** SHA-256 of the token, 32 bytes. */
  readonly digest: Buffer;
  readonly principal: Principal;
}

/** Shorter secrets are refused: a bearer token is only as strong as its guessability. */
export const MIN_TOKEN_LENGTH = 16;

export function sha256(token: string): Buffer {
  return createHash('sha256').update(token, 'utf8').digest();
}

export class AccessTokens {
  private readonly buckets = new Map<string, TokenEntry[]>();
  private count = 0;

  add(entry: TokenEntry): void {
    const key = entry.digest.subarray(0, 4).toString('hex');
    const bucket = this.buckets.get(key) ?? [];
    if (bucket.some((e) => timingSafeEqual(e.digest, entry.digest))) throw new Error('the same token is listed twice');
    bucket.push(entry);
    this.buckets.set(key, bucket);
    this.count++;
  }

  get size(): number {
    return this.count;
  }

  /** The principal a presented token stands for, or undefined. */
  lookup(token: string): Principal | undefined {
    const digest = sha256(token);
    const bucket = this.buckets.get(digest.subarray(0, 4).toString('hex'));
    if (!bucket) return undefined;
    let found: Principal | undefined;
    for (const e of bucket) if (timingSafeEqual(e.digest, digest)) found = e.principal;
    return found;
  }

  /** The principal of an `Authorization` header, or undefined when absent or wrong. */
  authenticate(header: string | undefined): Principal | undefined {
    if (!header) return undefined;
    const m = /^Bearer[ ]+(\S{1,1024})[ ]*$/i.exec(header);
    return m ? this.lookup(m[1]!) : undefined;
  }
}

const ENTRY_KEYS = ['token', 'sha256', 'scope', 'number', 'name'] as const;

function readEntry(field: Field, index: number, normaliser: AddressNormaliser): TokenEntry {
  const f = field.fields(ENTRY_KEYS);
  const token = f.get('token');
  const hex = f.get('sha256');
  if ((token === undefined) === (hex === undefined)) field.fail("give exactly one of 'token' (the secret) or 'sha256' (its hex digest)");
  let digest: Buffer;
  if (token) {
    const secret = token.string();
    if (secret.length < MIN_TOKEN_LENGTH) token.fail(`token is shorter than ${MIN_TOKEN_LENGTH} characters`);
    if (/\s/.test(secret)) token.fail('token must not contain white space');
    digest = sha256(secret);
  } else {
    const text = hex!.string();
    if (!/^[0-9a-fA-F]{64}$/.test(text)) hex!.fail('expected 64 hex digits (sha256sum of the token)');
    digest = Buffer.from(text, 'hex');
  }
  const scopeField = f.get('scope') ?? field.fail("missing 'scope' (operator or subscriber)");
  const scope = scopeField.string();
  const name = f.get('name')?.string() ?? `token ${index + 1}`;
  const numberField = f.get('number');
  if (scope === 'operator') {
    if (numberField) numberField.fail('an operator token has no number (it may act on every number)');
    return { digest, principal: { scope: 'operator', name } };
  }
  if (scope !== 'subscriber') scopeField.fail(`expected 'operator' or 'subscriber', got '${scope}'`);
  if (!numberField) field.fail("a subscriber token needs 'number'");
  const raw = numberField.text();
  const address = normaliser.normalise(raw);
  if (address.kind !== 'e164' && address.kind !== 'shortcode') numberField.fail(`'${raw}' is not a subscriber number`);
  return { digest, principal: { scope: 'subscriber', number: address.value, name } };
}

/** Parse a token file; every problem names file, line and column (RuleLoadError). */
export function parseTokensFile(text: string, file: string, normaliser: AddressNormaliser, into = new AccessTokens()): AccessTokens {
  const { root, problems } = parseSource(text, file);
  const all: RuleProblem[] = [...problems];
  if (all.length === 0) {
    collectProblems(all, () => {
      if (root.node === null) root.fail('the token file is empty: expected a list of { token | sha256, scope, number? }');
      root.items().forEach((item, i) => {
        collectProblems(all, () => {
          const entry = readEntry(item, i, normaliser);
          try {
            into.add(entry);
          } catch (err) {
            item.fail((err as Error).message);
          }
        });
      });
    });
  }
  if (all.length > 0) throw new RuleLoadError(all);
  return into;
}

export class TokenConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TokenConfigError';
  }
}

/** Tokens from `--tokens FILE` and/or `SPAMGATE_OPERATOR_TOKEN`. */
export function loadTokens(options: { file?: string; operatorToken?: string; normaliser: AddressNormaliser }): AccessTokens {
  const store = new AccessTokens();
  if (options.file) {
    let text: string;
    try {
      text = readFileSync(options.file, 'utf8');
    } catch (err) {
      throw new TokenConfigError(`cannot read token file ${options.file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
    parseTokensFile(text, options.file, options.normaliser, store);
  }
  const env = options.operatorToken;
  if (env !== undefined && env !== '') {
    if (env.length < MIN_TOKEN_LENGTH || /\s/.test(env)) {
      throw new TokenConfigError(`SPAMGATE_OPERATOR_TOKEN must be at least ${MIN_TOKEN_LENGTH} characters without white space`);
    }
    try {
      store.add({ digest: sha256(env), principal: { scope: 'operator', name: 'env' } });
    } catch {
      throw new TokenConfigError('SPAMGATE_OPERATOR_TOKEN is also listed in the token file');
    }
  }
  return store;
}
