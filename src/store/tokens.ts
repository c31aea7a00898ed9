/**
 * The Bayesian model on disk: token counts, message totals and the digests of trained messages
 * (so training a message twice counts it once), in the embedded SQLite database. The whole
 * model is loaded into a TokenTable for scoring; nothing is read per token while checking.
 * Training changes are written back in one transaction, so a crash or an error leaves the
 * stored model as it was.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { openDatabase, migrate, schemaVersion, StoreError, type Db, type Migration } from './db.js';
import { BayesModel, DEFAULT_PARAMETERS, type Label, type ModelParameters } from '../bayes/model.js';
import { TokenTable } from '../bayes/token-table.js';
import type { MessageInput } from '../message/types.js';

const COMPONENT = 'bayes';

const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description: 'token counts, totals and trained-message digests',
    up(db) {
      db.exec(`
        CREATE TABLE bayes_tokens (hash INTEGER PRIMARY KEY, spam INTEGER NOT NULL, ham INTEGER NOT NULL) WITHOUT ROWID;
        CREATE TABLE bayes_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
        CREATE TABLE bayes_trained (digest TEXT PRIMARY KEY, label TEXT NOT NULL CHECK (label IN ('spam', 'ham')), trained_at INTEGER NOT NULL) WITHOUT ROWID;
      `);
    },
  },
];

export const BAYES_SCHEMA_VERSION = MIGRATIONS.length;

/** Identity of a message for training: who sent it, to whom, and what it says. */
export function messageDigest(input: MessageInput): string {
  const h = createHash('sha256');
  h.update(input.channel ?? 'sms').update('\0').update(input.from ?? '').update('\0').update(input.to ?? '').update('\0');
  h.update(input.email?.subject ?? '').update('\0').update(input.text);
  return h.digest('base64url').slice(0, 32);
}

export type TrainOutcome = 'learned' | 'already' | 'relabelled' | 'forgotten' | 'unknown';

/** A model bound to its database: learn and forget in memory, then `save()` in one transaction. */
export class TokenStore {
  readonly model: BayesModel;
  /**
   * Count changes since the last save, per token hash: saved as increments, not totals, so a
   * server taking feedback and `spamgate train` writing the same database add up instead of
   * overwriting each other.
   */
  private readonly spamDeltas = new Map<number, number>();
  private readonly hamDeltas = new Map<number, number>();
  private messageDeltas = { spam: 0, ham: 0 };
  private readonly trained = new Map<string, Label>();
  private readonly trainedChanges = new Map<string, Label | null>();

  private constructor(
    private readonly db: Db,
    readonly path: string,
    model: BayesModel,
  ) {
    this.model = model;
  }

  /**
   * Open a model database for training (created when missing). A file that is not a spamgate
   * database, or whose model tables are newer than this version, is refused and left untouched.
   */
  static open(path: string, parameters: ModelParameters = DEFAULT_PARAMETERS): TokenStore {
    const db = openDatabase(path);
    try {
      migrate(db, COMPONENT, MIGRATIONS);
      const store = new TokenStore(db, path, readModel(db, parameters));
      for (const row of db.prepare('SELECT digest, label FROM bayes_trained').iterate() as Iterable<{ digest: string; label: Label }>) {
        store.trained.set(row.digest, row.label);
      }
      return store;
    } catch (err) {
      db.close();
      throw err;
    }
  }

  get messages(): { spam: number; ham: number } {
    return { spam: this.model.spamMessages, ham: this.model.hamMessages };
  }

  /**
   * Learn one message under a label. The same message again with the same label changes
   * nothing; with the other label its old counts are taken out first.
   */
  learn(label: Label, input: MessageInput, features: Int32Array): TrainOutcome {
    const digest = messageDigest(input);
    const before = this.trained.get(digest);
    if (before === label) return 'already';
    if (before !== undefined) this.apply(features, before, -1);
    this.apply(features, label, 1);
    this.trained.set(digest, label);
    this.trainedChanges.set(digest, label);
    return before === undefined ? 'learned' : 'relabelled';
  }

  /** Undo a training; `unknown` when the message was never trained with that label. */
  forget(label: Label, input: MessageInput, features: Int32Array): TrainOutcome {
    const digest = messageDigest(input);
    if (this.trained.get(digest) !== label) return 'unknown';
    this.apply(features, label, -1);
    this.trained.delete(digest);
    this.trainedChanges.set(digest, null);
    return 'forgotten';
  }

  isTrained(input: MessageInput): Label | undefined {
    return this.trained.get(messageDigest(input));
  }

  private apply(features: Int32Array, label: Label, sign: 1 | -1): void {
    const before = label === 'spam' ? this.model.spamMessages : this.model.hamMessages;
    this.model.learn(features, label, sign);
    this.messageDeltas[label] += (label === 'spam' ? this.model.spamMessages : this.model.hamMessages) - before;
    const deltas = label === 'spam' ? this.spamDeltas : this.hamDeltas;
    for (let i = 0; i < features.length; i++) {
      const hash = features[i]!;
      deltas.set(hash, (deltas.get(hash) ?? 0) + sign);
    }
  }

  /**
   * Write every change in one transaction, as increments to what is stored (counts never go
   * below zero; tokens left at zero are removed). Another process's training since this store
   * was opened is kept, though this process's in-memory model does not see it until reopened.
   */
  save(): void {
    const bump = this.db.prepare(
      'INSERT INTO bayes_tokens (hash, spam, ham) VALUES (@hash, max(@spam, 0), max(@ham, 0)) ' +
        'ON CONFLICT(hash) DO UPDATE SET spam = max(spam + @spam, 0), ham = max(ham + @ham, 0)',
    );
    const dropEmpty = this.db.prepare('DELETE FROM bayes_tokens WHERE hash = ? AND spam = 0 AND ham = 0');
    const bumpMeta = this.db.prepare(
      "INSERT INTO bayes_meta (key, value) VALUES (@key, CAST(max(@delta, 0) AS TEXT)) " +
        'ON CONFLICT(key) DO UPDATE SET value = CAST(max(CAST(value AS INTEGER) + @delta, 0) AS TEXT)',
    );
    const meta = this.db.prepare('INSERT INTO bayes_meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value');
    const addTrained = this.db.prepare('INSERT INTO bayes_trained (digest, label, trained_at) VALUES (?, ?, ?) ON CONFLICT(digest) DO UPDATE SET label = excluded.label, trained_at = excluded.trained_at');
    const dropTrained = this.db.prepare('DELETE FROM bayes_trained WHERE digest = ?');
    this.db.transaction(() => {
      const touched = new Set<number>([...this.spamDeltas.keys(), ...this.hamDeltas.keys()]);
      for (const hash of touched) {
        const spam = this.spamDeltas.get(hash) ?? 0;
        const ham = this.hamDeltas.get(hash) ?? 0;
        if (spam === 0 && ham === 0) continue;
        bump.run({ hash, spam, ham });
        if (spam < 0 || ham < 0) dropEmpty.run(hash);
      }
      bumpMeta.run({ key: 'spam_messages', delta: this.messageDeltas.spam });
      bumpMeta.run({ key: 'ham_messages', delta: this.messageDeltas.ham });
      meta.run('parameters', JSON.stringify(this.model.parameters));
      const now = Date.now();
      for (const [digest, label] of this.trainedChanges) {
        if (label === null) dropTrained.run(digest);
        else addTrained.run(digest, label, now);
      }
    }).immediate();
    this.spamDeltas.clear();
    this.hamDeltas.clear();
    this.messageDeltas = { spam: 0, ham: 0 };
    this.trainedChanges.clear();
  }

  close(): void {
    this.db.close();
  }
}

function readModel(db: Db, parameters: ModelParameters): BayesModel {
  const count = (db.prepare('SELECT count(*) AS n FROM bayes_tokens').get() as { n: number }).n;
  const table = new TokenTable(Math.max(count, 1 << 12));
  for (const row of db.prepare('SELECT hash, spam, ham FROM bayes_tokens').raw().iterate() as Iterable<[number, number, number]>) {
    table.set(row[0], row[1], row[2]);
  }
  const model = new BayesModel(parameters, table);
  const meta = new Map((db.prepare('SELECT key, value FROM bayes_meta').all() as Array<{ key: string; value: string }>).map((r) => [r.key, r.value]));
  model.spamMessages = Number(meta.get('spam_messages') ?? 0);
  model.hamMessages = Number(meta.get('ham_messages') ?? 0);
  return model;
}

/**
 * Load a trained model read-only for scoring. Undefined when the database does not exist or
 * holds no trained model yet; a clear StoreError when the file is not a spamgate model.
 */
export function loadModel(path: string, parameters: ModelParameters = DEFAULT_PARAMETERS): BayesModel | undefined {
  if (!existsSync(path)) return undefined;
  const db = openDatabase(path, { readonly: true });
  try {
    const version = schemaVersion(db, COMPONENT);
    if (version === 0) return undefined;
    if (version > BAYES_SCHEMA_VERSION) {
      throw new StoreError(`${path}: the model is at schema version ${version}, newer than this spamgate understands (${BAYES_SCHEMA_VERSION}); upgrade spamgate`);
    }
    const model = readModel(db, parameters);
    return model.trained ? model : undefined;
  } finally {
    db.close();
  }
}
