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
