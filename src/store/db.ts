/**
 * The embedded database: better-sqlite3 in WAL mode with foreign keys on. Each room's
 * repository owns its own tables and migrations, versioned per component in `schema_versions`,
 * so rooms evolve their schemas independently and a database from an older version upgrades
 * itself on open. A database written by a newer spamgate is refused with a clear message.
 */
import type BetterSqlite3 from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';

export type Db = BetterSqlite3.Database;

let sqlite: typeof BetterSqlite3 | undefined;
/**
 * The native addon, loaded on the first open: what never opens a database (a mail scan's
 * workers scoring with the shared model, most CLI commands) does not pay for loading it.
 */
function loadSqlite(): typeof BetterSqlite3 {
  return (sqlite ??= createRequire(import.meta.url)('better-sqlite3') as typeof BetterSqlite3);
}

export interface Migration {
  /** 1, 2, 3…: applied in order, each in its own transaction. */
  readonly version: number;
  readonly description: string;
  up(db: Db): void;
}

export class StoreError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StoreError';
  }
}

/** Where the embedded default lives: $SPAMGATE_HOME/spamgate.db, by default ~/.spamgate/spamgate.db. */
export function defaultDatabasePath(): string {
  const home = process.env['SPAMGATE_HOME'] || join(homedir(), '.spamgate');
  return join(home, 'spamgate.db');
}

export interface OpenOptions {
  readonly readonly?: boolean;
  /** Create the file and its folder when missing (default true unless readonly). */
  readonly create?: boolean;
}

/** Open (or create) a database file with the pragmas every room relies on. */
export function openDatabase(path: string, options: OpenOptions = {}): Db {
  const create = options.create ?? !options.readonly;
  if (path !== ':memory:' && create) mkdirSync(dirname(path), { recursive: true });
  let db: Db;
  try {
    const Sqlite = loadSqlite();
    db = new Sqlite(path, { readonly: options.readonly ?? false, fileMustExist: !create });
  } catch (err) {
    throw new StoreError(`cannot open database ${path}: ${(err as Error).message}`);
  }
  try {
    if (!options.readonly) {
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = NORMAL');
    }
    db.pragma('foreign_keys = ON');
    db.pragma('busy_timeout = 5000');
    // Reading one page proves this is an SQLite file before any room touches it.
    db.prepare('SELECT count(*) AS n FROM sqlite_master').get();
  } catch (err) {
    db.close();
    throw new StoreError(`${path} is not a spamgate database (or is corrupt): ${(err as Error).message}`);
  }
  return db;
}

/** The schema version of one component, 0 when it has none yet. */
export function schemaVersion(db: Db, component: string): number {
  const exists = db
    .prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_versions'")
    .get();
  if (!exists) return 0;
  const row = db.prepare('SELECT version FROM schema_versions WHERE component = ?').get(component) as
    | { version: number }
    | undefined;
  return row?.version ?? 0;
}

/**
 * Bring one component's tables up to date. Each migration runs in a transaction together with
 * the version bump, so a crash leaves the schema at a whole version.
 */
export function migrate(db: Db, component: string, migrations: readonly Migration[]): void {
  db.exec(
    'CREATE TABLE IF NOT EXISTS schema_versions (component TEXT PRIMARY KEY, version INTEGER NOT NULL, updated_at INTEGER NOT NULL)',
  );
  const current = schemaVersion(db, component);
  const latest = migrations.reduce((max, m) => Math.max(max, m.version), 0);
  if (current > latest) {
    throw new StoreError(
      `the ${component} tables are at schema version ${current}, newer than this spamgate understands (${latest}); upgrade spamgate`,
    );
  }
  const pending = [...migrations].filter((m) => m.version > current).sort((a, b) => a.version - b.version);
  for (const m of pending) {
    db.transaction(() => {
      m.up(db);
      db.prepare(
        'INSERT INTO schema_versions (component, version, updated_at) VALUES (?, ?, ?) ' +
          'ON CONFLICT(component) DO UPDATE SET version = excluded.version, updated_at = excluded.updated_at',
      ).run(component, m.version, Date.now());
    })();
  }
}
