/**
 * Rule and subscriber files are parsed with `yaml`, which keeps every node's position, and read
 * through `Field`: a value together with where it stands, so each validation error can say
 * file, line, column and what was expected. JSON files go through the same parser.
 */
import { LineCounter, isMap, isScalar, isSeq, parseDocument, type Node, type Document } from 'yaml';

export interface RuleProblem {
  readonly file: string;
  readonly line: number;
  readonly column: number;
  readonly message: string;
}

export function formatProblem(p: RuleProblem): string {
  return `${p.file}:${p.line}:${p.column}: ${p.message}`;
}

/** Thrown for the first error inside one rule; the loader collects them per rule. */
export class ProblemError extends Error {
  constructor(readonly problem: RuleProblem) {
    super(formatProblem(problem));
    this.name = 'ProblemError';
  }
}

/**
 * Run `read`, collecting a ProblemError it throws instead of stopping: a file is read to the
 * end so that one pass reports every problem in it.
 */
export function collectProblems(problems: RuleProblem[], read: () => void): void {
  try {
    read();
  } catch (err) {
    if (err instanceof ProblemError) problems.push(err.problem);
    else throw err;
  }
}

/** Everything wrong with a set of rule files, each problem with its place. */
export class RuleLoadError extends Error {
  constructor(readonly problems: readonly RuleProblem[]) {
    super(
      `${problems.length} problem${problems.length === 1 ? '' : 's'} in rules:\n` +
        problems.map((p) => '  ' + formatProblem(p)).join('\n'),
    );
    this.name = 'RuleLoadError';
  }
}

export interface SourceFile {
  readonly file: string;
  readonly lines: LineCounter;
}

export interface ParsedSource {
  readonly root: Field;
  readonly problems: RuleProblem[];
}

/** Parse YAML or JSON text; syntax errors come back as problems with their positions. */
export function parseSource(text: string, file: string): ParsedSource {
  const lines = new LineCounter();
  const doc: Document = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  const src: SourceFile = { file, lines };
  const problems: RuleProblem[] = [];
  for (const err of doc.errors) {
    const pos = lines.linePos(err.pos[0]);
    problems.push({ file, line: pos.line, column: pos.col, message: `invalid YAML: ${err.message.split('\n')[0]}` });
  }
  return { root: new Field(doc.contents as Node | null, src, ''), problems };
}

function describe(value: unknown): string {
  if (value === null || value === undefined) return 'nothing';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  return `${typeof value} ${JSON.stringify(value)}`;
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const cur = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = cur;
    }
  }
  return row[b.length]!;
}

/** "did you mean 'keywords'?" for a misspelt key. */
export function suggestion(key: string, known: readonly string[]): string {
  let best = '';
  let bestDistance = 3;
  for (const k of known) {
    const d = editDistance(key, k);
    if (d < bestDistance) {
      best = k;
      bestDistance = d;
    }
  }
  return best ? ` (did you mean '${best}'?)` : '';
}

/** A value in a rule file with its position. */
export class Field {
  constructor(
    readonly node: Node | null,
    readonly source: SourceFile,
    /** Dotted path for messages, e.g. `rules[3].keywords`. */
    readonly path: string,
  ) {}

  get file(): string {
    return this.source.file;
  }

  /** Plain JavaScript value of this node. */
  get value(): unknown {
    return this.node === null ? undefined : (this.node.toJSON() as unknown);
  }

  position(): { line: number; column: number } {
    const offset = this.node?.range?.[0];
    if (offset === undefined) return { line: 1, column: 1 };
    const p = this.source.lines.linePos(offset);
    return { line: p.line, column: p.col };
  }

  problem(message: string): RuleProblem {
    return { file: this.source.file, ...this.position(), message: this.path ? `${this.path}: ${message}` : message };
  }

  fail(message: string): never {
    throw new ProblemError(this.problem(message));
  }

  expected(what: string): never {
    this.fail(`expected ${what}, got ${describe(this.value)}`);
  }

  isMap(): boolean {
    return isMap(this.node);
  }

  isList(): boolean {
    return isSeq(this.node);
  }

  isScalar(): boolean {
    return isScalar(this.node);
  }

  /** Entries of a mapping, keys as strings, in file order. */
  entries(): Array<[string, Field]> {
    if (!isMap(this.node)) this.expected('a mapping');
    const out: Array<[string, Field]> = [];
    for (const pair of this.node.items) {
      const key = isScalar(pair.key) ? String(pair.key.value) : String(pair.key);
      const child = new Field((pair.value as Node | null) ?? null, this.source, this.path ? `${this.path}.${key}` : key);
      // Point an empty value's errors at its key.
      out.push([key, child.node === null && pair.key ? new Field(pair.key as Node, this.source, child.path) : child]);
    }
    return out;
  }

  /** A mapping's fields, refusing keys outside `known`. */
  fields(known: readonly string[]): Map<string, Field> {
    const map = new Map<string, Field>();
    for (const [key, field] of this.entries()) {
      if (!known.includes(key)) {
        this.keyField(key).fail(`unknown key '${key}'${suggestion(key, known)}; expected one of: ${known.join(', ')}`);
      }
      map.set(key, field);
    }
    return map;
  }

  /** The key itself (not its value), for errors about the key. */
  keyField(key: string): Field {
    return new Field(this.keyNode(key), this.source, this.path);
  }

  private keyNode(key: string): Node | null {
    if (!isMap(this.node)) return this.node;
    for (const pair of this.node.items) {
      if (isScalar(pair.key) && String(pair.key.value) === key) return pair.key as Node;
    }
    return this.node;
  }

  items(): Field[] {
    if (!isSeq(this.node)) this.expected('a list');
    return this.node.items.map((n, i) => new Field(n as Node | null, this.source, `${this.path}[${i}]`));
  }

  string(): string {
    const v = this.value;
    if (typeof v !== 'string') this.expected('a string');
    return v;
  }

  /** A non-empty string, or a number written without quotes (phone numbers, times). */
  text(): string {
    const v = this.value;
    if (typeof v === 'number') return String(v);
    if (typeof v !== 'string' || v.trim() === '') this.expected('a non-empty string');
    return v;
  }

  /** A string or a list of strings; each returned with its own field for positions. */
  textList(): Field[] {
    if (this.isList()) {
      const items = this.items();
      if (items.length === 0) this.fail('expected at least one entry, got an empty list');
      for (const item of items) item.text();
      return items;
    }
    this.text();
    return [this];
  }

  number(min = -Infinity, max = Infinity): number {
    const v = this.value;
    if (typeof v !== 'number' || !Number.isFinite(v)) this.expected('a number');
    if (v < min || v > max) this.fail(`expected a number from ${min} to ${max}, got ${v}`);
    return v;
  }

  boolean(): boolean {
    const v = this.value;
    if (typeof v !== 'boolean') this.expected('true or false');
    return v;
  }

  oneOf<T extends string>(choices: readonly T[]): T {
    const v = this.value;
    if (typeof v !== 'string' || !(choices as readonly string[]).includes(v)) {
      this.fail(`expected one of ${choices.join(', ')}, got ${describe(v)}`);
    }
    return v as T;
  }
}
