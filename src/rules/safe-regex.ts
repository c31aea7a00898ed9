/**
 * Operator regular expressions, made safe to run on untrusted text. Three layers:
 * 1. at load, patterns that can backtrack catastrophically (an unbounded quantifier inside
 *    another, such as `(a+)+$`: star height above 1) are refused, and so are backreferences and
 *    lookarounds. Bounded quantifiers (`?`, `{1,3}`) do not count: they cannot blow up;
 * 2. V8 is told to switch a regex to its linear-time engine when it backtracks excessively,
 *    which catches what static analysis misses (`(a|a)*b`); layer 1 keeps every accepted
 *    pattern within what that engine supports;
 * 3. a regex sees at most the first `REGEX_INPUT_LIMIT` characters of a message.
 */
import v8 from 'node:v8';
import retModule, { types, type Tokens } from 'ret';

// ret is CommonJS: depending on the loader its tokenizer is the default export or inside it.
type Tokenizer = (pattern: string) => Tokens;
const tokenize: Tokenizer =
  typeof retModule === 'function' ? (retModule as unknown as Tokenizer) : (retModule as unknown as { default: Tokenizer }).default;

v8.setFlagsFromString('--enable-experimental-regexp-engine-on-excessive-backtracks');

export const REGEX_INPUT_LIMIT = 16 * 1024;
export const REGEX_MAX_LENGTH = 1000;

export class RegexError extends Error {}

const ALLOWED_FLAGS = /^[imsu]*$/;

export function compileSafeRegex(pattern: string, flags = ''): RegExp {
  if (pattern.length > REGEX_MAX_LENGTH) throw new RegexError(`regex is longer than ${REGEX_MAX_LENGTH} characters`);
  if (!ALLOWED_FLAGS.test(flags)) throw new RegexError(`regex flags '${flags}' not allowed; use any of i, m, s, u`);
  let re: RegExp;
  try {
    re = new RegExp(pattern, flags);
  } catch (err) {
    throw new RegexError(`invalid regex /${pattern}/: ${(err as Error).message.replace(/^Invalid regular expression: /, '')}`);
  }
  if (/\\[1-9]|\\k</.test(pattern)) {
    throw new RegexError(`regex /${pattern}/ uses a backreference, which can take exponential time; rewrite it without one`);
  }
  if (/\(\?<?[=!]/.test(pattern)) {
    throw new RegexError(`regex /${pattern}/ uses a lookaround, which the linear-time safety engine cannot run; rewrite it without one`);
  }
  if (starHeight(pattern) > 1) {
    throw new RegexError(
      `regex /${pattern}/ can backtrack catastrophically (a quantifier inside a quantified group, e.g. (a+)+); rewrite it, e.g. a+ instead of (a+)+`,
    );
  }
  return re;
}

/** A repetition that can run long enough to matter when nested. */
const LONG_REPETITION = 100;

/** Deepest nesting of unbounded (or very long) repetitions; 0 when the pattern cannot be parsed. */
function starHeight(pattern: string): number {
  let root: Tokens;
  try {
    root = tokenize(pattern);
  } catch {
    return 0; // syntax ret does not know (e.g. \p{…}); the V8 fallback still bounds it
  }
  const walk = (node: Tokens, depth: number): number => {
    let max = depth;
    if (node.type === types.REPETITION) {
      const counts = node.max === Infinity || node.max > LONG_REPETITION;
      return walk(node.value, counts ? depth + 1 : depth);
    }
    if (node.type === types.ROOT || node.type === types.GROUP) {
      for (const n of node.stack ?? []) max = Math.max(max, walk(n, depth));
      for (const branch of node.options ?? []) for (const n of branch) max = Math.max(max, walk(n, depth));
    }
    return max;
  };
  return walk(root, 0);
}

/** Run a compiled rule regex on at most the first REGEX_INPUT_LIMIT characters. */
export function execBounded(re: RegExp, text: string): RegExpExecArray | null {
  re.lastIndex = 0;
  return re.exec(text.length > REGEX_INPUT_LIMIT ? text.slice(0, REGEX_INPUT_LIMIT) : text);
}

// ---- required-character prefilter ---------------------------------------------------------
//
// Most rule regexes cannot match a text that lacks some character: the premium price regex
// needs a digit and a 'p', or a currency sign. At compile time each top-level alternative's
// required single characters or classes are read off the pattern (tokens every match must
// contain); a text holding none of the alternatives' requirements is skipped without running
// the regex. Only certain requirements are used: classes of explicit characters (no negation,
// no non-ASCII range), no letters under the `i` flag (Unicode case folding maps 'k' to the
// Kelvin sign), no surrogates. Anything unclear yields no requirement, never a wrong one.
//
// A second stage, for the texts that pass the first, reads the literals that an alternation's
// options start with: the price regex also needs "/" or "per" (in both its branches). A regex
// with no fixed first character tries a match at every position, so it costs more than the
// few native searches that spare it seven texts in ten of those it ran on.

/** Probe classes: ASCII members as bits of a table, other BMP characters listed. */
interface Probe {
  readonly ascii: readonly number[];
  readonly other: readonly number[];
}

function probeOf(node: Tokens, ignoreCase: boolean): Probe | undefined {
  const ascii: number[] = [];
  const other: number[] = [];
  const addChar = (c: number): boolean => {
    if (c >= 0xd800 && c <= 0xdfff) return false;
    if (ignoreCase && (c >= 0x80 || /[a-z]/i.test(String.fromCharCode(c)))) return false;
    (c < 0x80 ? ascii : other).push(c);
    return true;
  };
  if (node.type === types.CHAR) return addChar(node.value) ? { ascii, other } : undefined;
  if (node.type !== types.SET || node.not) return undefined;
  for (const m of node.set) {
    if (m.type === types.CHAR) {
      if (!addChar(m.value)) return undefined;
    } else if (m.type === types.RANGE) {
      if (m.to >= 0x80 || m.to - m.from > 127) return undefined;
      for (let c = m.from; c <= m.to; c++) if (!addChar(c)) return undefined;
    } else {
      return undefined; // a nested predefined or negated class: not read here
    }
  }
  // A long list of non-ASCII characters is a predefined class (\s) whose members ret may
  // list differently from V8; only short explicit lists (currency signs) are trusted.
  return ascii.length + other.length > 0 && other.length <= 8 ? { ascii, other } : undefined;
}

/**
 * An alternation every match passes through, as the literal each of its options starts with
 * ((?:/|per\s?) needs "/" or "per"), without the ones that hold another ("minute" holds "min").
 * Undefined when an option starts with no literal: it could match anything there.
 */
function alternationLiterals(options: readonly (readonly Tokens[])[], ignoreCase: boolean): string[] | undefined {
  const found: string[] = [];
  for (const option of options) {
    let literal = '';
    for (const t of option) {
      if (t.type !== types.CHAR) break;
      const c = t.value;
      if ((c >= 0xd800 && c <= 0xdfff) || (ignoreCase && (c >= 0x80 || /[a-z]/i.test(String.fromCharCode(c))))) break;
      literal += String.fromCharCode(c);
    }
    if (literal === '') return undefined;
    found.push(literal);
  }
  return found.filter((s, i) => !found.some((t, j) => j !== i && s.includes(t) && (t !== s || j < i)));
}

/** Required probes of one sequence of tokens (a branch), appended to `out`; required alternations' literals to `literals`. */
function requiredIn(stack: readonly Tokens[], ignoreCase: boolean, out: Probe[], literals: string[][]): void {
  for (const node of stack) {
    let t: Tokens = node;
    if (t.type === types.REPETITION) {
      if (t.min < 1) continue;
      t = t.value;
    }
    if (t.type === types.GROUP) {
      if (t.stack !== undefined) requiredIn(t.stack, ignoreCase, out, literals);
      else if (t.options !== undefined && t.options.length === 1) requiredIn(t.options[0]!, ignoreCase, out, literals);
      else if (t.options !== undefined) {
        const alternatives = alternationLiterals(t.options, ignoreCase);
        if (alternatives !== undefined) literals.push(alternatives);
      }
      continue; // an alternation inside: no single character required
    }
    const p = probeOf(t, ignoreCase);
    if (p !== undefined) out.push(p);
  }
}

/** One required character class: looked for with `indexOf` (a native search), or read off the analysis' digit count. */
interface RequiredProbe {
  /** Only ASCII digits: absent from any text without a digit. */
  readonly digits: boolean;
  /** The class's characters; a text holding none of them cannot match. */
  readonly chars: readonly string[];
  /** The same with the capitals of its ASCII letters: for the original of a text whose folded form is its lower case. */
  readonly anyCase: readonly string[];
}

/**
 * What a regex needs in a text: per top-level alternative, characters (classes) every match
 * of that alternative contains. A text holding none of the alternatives' needs is skipped.
 */
export interface RequiredChars {
  readonly branches: ReadonlyArray<readonly RequiredProbe[]>;
  /**
   * Literals of which every match holds one: per branch, those an alternation it must pass
   * through starts its options with (the one with fewest, each a native search), the same
   * lists of several branches given once. Empty when some branch has no such alternation:
   * then only the first stage can skip a text. Tested by `mayMatchLiterals`.
   */
  readonly literals: readonly string[];
  /**
   * Every needed character is an ASCII letter or has no case (digits, £, /): a text whose folded
   * form is its lower case can be tested on its original, capitals counting as their lower case,
   * without building the folded text.
   */
  readonly caseless: boolean;
}

/** A character that no other character lower-cases to (digits, punctuation, £), or an ASCII letter. */
function simpleCase(ch: string): boolean {
  return /^[a-z]$/.test(ch) || (ch.toLowerCase() === ch && ch.toUpperCase() === ch);
}

/** The required characters of a pattern, or undefined when it gives none to rely on. */
export function requiredChars(pattern: string, flags = ''): RequiredChars | undefined {
  // ret 0.5 reads \u, \x, \c, \p and octal escapes as plain letters: only escapes it reads
  // as V8 does are allowed through.
  if (/\\[^dwsDWSbBntrfv.\/\\()[\]{}*+?|^$-]/.test(pattern)) return undefined;
  let root: Tokens;
  try {
    root = tokenize(pattern);
  } catch {
    return undefined;
  }
  const ignoreCase = flags.includes('i');
  const top = root as { options?: Tokens[][]; stack?: Tokens[] };
  const branches = top.options ?? (top.stack ? [top.stack] : []);
  if (branches.length === 0) return undefined;
  const out: RequiredProbe[][] = [];
  const literals = new Set<string>();
  let everyBranchHasLiterals = true;
  let caseless = true;
  for (const branch of branches) {
    const found: Probe[] = [];
    const alternations: string[][] = [];
    requiredIn(branch, ignoreCase, found, alternations);
    if (found.length === 0 && alternations.length === 0) return undefined; // this alternative can match anything
    // The alternation with the fewest literals: fewest searches (an indexOf is a call of its own).
    const fewest = alternations.sort((a, b) => a.length - b.length)[0];
    if (fewest === undefined) everyBranchHasLiterals = false;
    else for (const literal of fewest) literals.add(literal);
    // Digit classes first (free to test), then at most two others.
    const probes = found.map((p): RequiredProbe => {
      const codes = [...p.ascii, ...p.other];
      const chars = codes.map((c) => String.fromCharCode(c));
      const anyCase = [...new Set(chars.flatMap((ch) => (/^[a-z]$/.test(ch) ? [ch, ch.toUpperCase()] : [ch])))];
      return { digits: codes.every((c) => c >= 0x30 && c <= 0x39), chars, anyCase };
    });
    const digits = probes.filter((p) => p.digits).slice(0, 1);
    const chosen = [...digits, ...probes.filter((p) => !p.digits).slice(0, 2)];
    if (!chosen.every((p) => p.chars.every(simpleCase))) caseless = false;
    out.push(chosen);
  }
  return { branches: out, caseless, literals: everyBranchHasLiterals ? [...literals] : [] };
}

/**
 * False only when `text` cannot match: some need of every alternative is absent.
 * `mayHoldDigit` false promises the text has no ASCII digit. With `lowerCased` (only when
 * `required.caseless`), the regex runs on `text` lower-cased, and `text` is tested as such.
 */
export function mayMatch(required: RequiredChars, text: string, mayHoldDigit: boolean, lowerCased = false): boolean {
  const branches = required.branches;
  for (let b = 0; b < branches.length; b++) {
    const probes = branches[b]!;
    let all = true;
    for (let k = 0; k < probes.length && all; k++) {
      const p = probes[k]!;
      if (p.digits) {
        all = mayHoldDigit;
        continue;
      }
      const chars = lowerCased ? p.anyCase : p.chars;
      all = false;
      for (let c = 0; c < chars.length && !all; c++) all = text.indexOf(chars[c]!) >= 0;
    }
    if (all) return true;
  }
  return false;
}

/**
 * The second stage, for a text that passed `mayMatch` (when `literals` is not empty): false
 * only when the text holds none of the literals. `text` is the one the regex runs on (folded,
 * or the original), so they are looked for as they are.
 */
export function mayMatchLiterals(required: RequiredChars, text: string): boolean {
  const literals = required.literals;
  for (let i = 0; i < literals.length; i++) if (text.indexOf(literals[i]!) >= 0) return true;
  return false;
}
