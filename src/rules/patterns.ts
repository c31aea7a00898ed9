/**
 * Sender and recipient patterns, for operators and subscribers alike: exact numbers in any
 * format, number prefixes (`0900*`, `+44900*`), globs (`*BANK*`, `+4477009001??`) and
 * alphanumeric sender IDs. Compiled into a hash set, a prefix list and a few globs, matched
 * against the canonical address value, never re-parsed per message.
 */
import type { AddressNormaliser } from '../message/address.js';
import type { Address } from '../message/types.js';

export class PatternError extends Error {}

const NUMBER_PREFIX = /^[+\d][\d\s().-]*\*$/;
const NUMBER_EXACT = /^[+\d][\d\s().-]*$/;
const ALNUM = /^[\p{L}\p{N} ._&'-]+$/u;
const GLOB = /^[\p{L}\p{N}+ ._&'*?-]+$/u;
const EMAIL_ISH = /^[a-z0-9.!#$%&'*+/=?^_`{|}~?-]*@[a-z0-9*?.-]+$/i;

const EXPECTED =
  "expected a number (+447700900123, 07700 900123), a prefix (0900*), a glob (*BANK*), a sender ID of 1–11 letters or digits (PRIZEDRAW), or an email address or @domain";

/** Wildcard match with `*` and `?`: linear two-pointer algorithm, no backtracking blow-up. */
export function globMatch(pattern: string, value: string): boolean {
  let p = 0;
  let v = 0;
  let starP = -1;
  let starV = 0;
  while (v < value.length) {
    const pc = pattern.charCodeAt(p);
    if (p < pattern.length && (pc === 0x3f || pc === value.charCodeAt(v))) {
      p++;
      v++;
    } else if (p < pattern.length && pc === 0x2a) {
      starP = p++;
      starV = v;
    } else if (starP >= 0) {
      p = starP + 1;
      v = ++starV;
    } else {
      return false;
    }
  }
  while (p < pattern.length && pattern.charCodeAt(p) === 0x2a) p++;
  return p === pattern.length;
}

export interface CompiledPattern {
  readonly kind: 'exact' | 'prefix' | 'glob' | 'domain';
  /** Canonical text compared against the address value. */
  readonly value: string;
  /** As written, for verdict details. */
  readonly source: string;
}

/** Parse one pattern as written by a person into canonical form(s). Throws PatternError. */
export function compilePattern(raw: string, normaliser: AddressNormaliser, maxLength = 64): CompiledPattern[] {
  const source = raw.trim();
  if (source === '') throw new PatternError(`empty pattern; ${EXPECTED}`);
  if (source.length > maxLength) throw new PatternError(`pattern '${source.slice(0, 20)}…' is longer than ${maxLength} characters`);

  if (source.includes('@')) {
    const lower = source.toLowerCase();
    if (!EMAIL_ISH.test(lower)) throw new PatternError(`invalid email pattern '${source}'; ${EXPECTED}`);
    if (lower.startsWith('@')) return [{ kind: 'domain', value: lower.slice(1), source }];
    return [{ kind: /[*?]/.test(lower) ? 'glob' : 'exact', value: lower, source }];
  }
  if (NUMBER_PREFIX.test(source)) {
    const body = source.slice(0, -1).replace(/[\s().-]/g, '');
    if (body === '' || body === '+') return [{ kind: 'glob', value: '*', source }];
    const out: CompiledPattern[] = [];
    const international = normaliser.internationalPrefix(body);
    if (international) out.push({ kind: 'prefix', value: international, source });
    // Short codes and numbers kept in national form still match the digits as written.
    if (!body.startsWith('+')) out.push({ kind: 'prefix', value: body, source });
    return out;
  }
  if (NUMBER_EXACT.test(source)) {
    const digits = source.replace(/[^\d]/g, '');
    if (digits.length < 3 || digits.length > 15) {
      throw new PatternError(`invalid number '${source}': a number has 3 to 15 digits; ${EXPECTED}`);
    }
    const address = normaliser.normalise(source);
    if (address.kind === 'unknown') throw new PatternError(`invalid number '${source}'; ${EXPECTED}`);
    return [{ kind: 'exact', value: address.value, source }];
  }
  if (/[*?]/.test(source)) {
    // A glob is either over numbers (digits, +, wildcards) or over sender IDs (no +).
    const hasLetter = /\p{L}/u.test(source);
    if (!GLOB.test(source) || (hasLetter && source.includes('+'))) throw new PatternError(`invalid glob '${source}'; ${EXPECTED}`);
    const value = hasLetter ? source.toUpperCase().replace(/\s+/g, '') : source.replace(/[\s().-]/g, '');
    return [{ kind: 'glob', value, source }];
  }
  if (ALNUM.test(source) && /\p{L}/u.test(source)) {
    const value = source.toUpperCase().replace(/\s+/g, '');
    if (value.length > 11) {
      throw new PatternError(`sender ID '${source}' is longer than 11 characters, which SMS does not allow; use a glob such as '${source.slice(0, 8)}*'`);
    }
    return [{ kind: 'exact', value, source }];
  }
  throw new PatternError(`invalid pattern '${source}'; ${EXPECTED}`);
}

/**
 * The digits of a canonical E.164 number as a number (exact: at most 15 digits), or -1. A
 * leading zero is refused: '+0123…' (not a number, but a possible raw value) must not be read
 * as '+123…'.
 */
export function e164Digits(value: string): number {
  const n = value.length;
  if (n < 2 || n > 16 || value.charCodeAt(0) !== 0x2b || value.charCodeAt(1) === 0x30) return -1;
  let x = 0;
  for (let i = 1; i < n; i++) {
    const d = value.charCodeAt(i) - 0x30;
    if (d < 0 || d > 9) return -1;
    x = x * 10 + d;
  }
  return x;
}

/** A compiled list of patterns. `match` returns the pattern that matched, as written. */
/** Up to this many exact values are compared one by one: cheaper than a map's cold buckets. */
const SMALL_EXACT = 8;

/** The longest run of literal characters in a glob: a value without it cannot match. */
function globLiteral(glob: string): string {
  let best = '';
  for (const part of glob.split(/[*?]/)) if (part.length > best.length) best = part;
  return best;
}

/** Beyond this many prefixes they are looked up character by character in a trie, not tried one by one. */
const FEW_PREFIXES = 6;

interface PrefixNode {
  /** The pattern (as written) whose prefix ends here, if any. */
  source: string | undefined;
  readonly next: Map<number, PrefixNode>;
}

/** A trie of prefixes (given longest first: for equal ones the first is kept, as a scan in that order would find). */
function prefixTrie(prefixes: readonly CompiledPattern[]): PrefixNode {
  const root: PrefixNode = { source: undefined, next: new Map() };
  for (const p of prefixes) {
    let node = root;
    for (let i = 0; i < p.value.length; i++) {
      const c = p.value.charCodeAt(i);
      let child = node.next.get(c);
      if (child === undefined) node.next.set(c, (child = { source: undefined, next: new Map() }));
      node = child;
    }
    node.source ??= p.source;
  }
  return root;
}

/** The source of the longest prefix in the trie that `value` starts with. */
function longestPrefix(root: PrefixNode, value: string): string | undefined {
  let best = root.source;
  let node: PrefixNode | undefined = root;
  for (let i = 0; i < value.length; i++) {
    node = node.next.get(value.charCodeAt(i));
    if (node === undefined) break;
    if (node.source !== undefined) best = node.source;
  }
  return best;
}

const NONE: readonly never[] = [];
const NO_EXACT: ReadonlyMap<string, string> = new Map();

export class AddressMatcher {
  // Empty lists share one empty array: a million subscribers' matchers stay small, and the
  // fewer objects one holds, the fewer cache misses a check of an out-of-cache one costs.
  private readonly exact: ReadonlyMap<string, string> = NO_EXACT;
  /** The exact values (and sources) when there are few: a subscriber's handful of numbers. */
  private readonly exactValues: readonly string[] = NONE;
  private readonly exactSources: readonly string[] = NONE;
  private readonly prefixes: readonly CompiledPattern[] = NONE;
  /** The prefixes as a trie, when there are many (an operator's list of premium ranges). */
  private readonly prefixIndex: PrefixNode | undefined;
  private readonly globs: readonly CompiledPattern[] = NONE;
  private readonly globLiterals: readonly string[] = NONE;
  private readonly domains: readonly CompiledPattern[] = NONE;
  private readonly largeExact: boolean;
  private readonly prefixCount: number;
  private readonly globCount: number;
  private readonly domainCount: number;

  constructor(patterns: readonly CompiledPattern[]) {
    const exact = new Map<string, string>();
    const prefixes: CompiledPattern[] = [];
    const globs: CompiledPattern[] = [];
    const domains: CompiledPattern[] = [];
    for (const p of patterns) {
      if (p.kind === 'exact') exact.set(p.value, p.source);
      else if (p.kind === 'prefix') prefixes.push(p);
      else if (p.kind === 'glob') globs.push(p);
      else domains.push(p);
    }
    if (exact.size > SMALL_EXACT) this.exact = exact;
    else if (exact.size > 0) {
      this.exactValues = [...exact.keys()];
      this.exactSources = [...exact.values()];
    }
    // Longest prefix first, so details name the most specific pattern.
    if (prefixes.length > 0) this.prefixes = prefixes.sort((a, b) => b.value.length - a.value.length);
    this.prefixIndex = prefixes.length > FEW_PREFIXES ? prefixTrie(this.prefixes) : undefined;
    if (globs.length > 0) {
      this.globs = globs;
      this.globLiterals = globs.map((g) => globLiteral(g.value));
    }
    if (domains.length > 0) this.domains = domains;
    this.largeExact = this.exact.size > 0;
    this.prefixCount = this.prefixes.length;
    this.globCount = this.globs.length;
    this.domainCount = this.domains.length;
  }

  /**
   * How this list can match an E.164 sender ('+' and digits), for a compact prefilter that
   * need not touch the list: its exact numbers and number prefixes as digits, and whether any
   * other pattern could match such a sender (then only the list itself can tell).
   */
  numberPlan(): { readonly exact: number[]; readonly prefixes: Array<{ digits: number; length: number }>; readonly other: boolean } {
    const exact: number[] = [];
    const prefixes: Array<{ digits: number; length: number }> = [];
    let other = false;
    for (const v of [...this.exactValues, ...this.exact.keys()]) {
      const n = e164Digits(v);
      if (n >= 0) exact.push(n);
    }
    for (const p of this.prefixes) {
      if (/^\+\d{1,15}$/.test(p.value)) prefixes.push({ digits: Number(p.value.slice(1)), length: p.value.length - 1 });
      else if (p.value === '' || p.value === '+') other = true; // matches every number
    }
    // A glob with a letter or other literal can never match '+' and digits.
    for (const g of this.globs) if (/^[+\d*?]*$/.test(g.value)) other = true;
    return { exact, prefixes, other };
  }

  get size(): number {
    return this.exact.size + this.exactValues.length + this.prefixes.length + this.globs.length + this.domains.length;
  }

  match(address: Address): string | undefined {
    const v = address.value;
    const values = this.exactValues;
    if (values.length > 0) {
      // Numbers of one country share their first digits, so two of the same length are told
      // apart fastest by their last character; the full comparison runs only when it agrees.
      const n = v.length;
      const last = v.charCodeAt(n - 1);
      for (let i = 0; i < values.length; i++) {
        const x = values[i]!;
        if (x.length === n && x.charCodeAt(n - 1) === last && x === v) return this.exactSources[i];
      }
    }
    // What a list holds is read from counts kept in this object: a subscriber's matcher is
    // usually out of cache, and every empty list or map looked into would cost a miss.
    if (this.largeExact) {
      const exact = this.exact.get(v);
      if (exact !== undefined) return exact;
    }
    if (this.prefixIndex !== undefined) {
      const prefix = longestPrefix(this.prefixIndex, v);
      if (prefix !== undefined) return prefix;
    } else if (this.prefixCount > 0) {
      for (const p of this.prefixes) if (v.startsWith(p.value)) return p.source;
    }
    for (let i = 0; i < this.globCount; i++) {
      const p = this.globs[i]!;
      if (v.includes(this.globLiterals[i]!) && globMatch(p.value, v)) return p.source;
    }
    if (this.domainCount > 0 && address.kind === 'email') {
      const domain = v.slice(v.indexOf('@') + 1);
      for (const p of this.domains) if (domain === p.value || domain.endsWith('.' + p.value)) return p.source;
    }
    return undefined;
  }
}
