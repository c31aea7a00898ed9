/**
 * Result records and how they are written: JSONL (one object a message, input order), CSV,
 * or an aligned table for people; plus the summary printed on stderr after a scan.
 */
import type { Writable } from 'node:stream';
import type { Action } from '../engine/types.js';
import type { Label } from '../message/records.js';

export interface ResultRow {
  readonly id: string;
  readonly action: Action;
  readonly score: number;
  /** Ids of the rules that fired, subscriber and classifier entries included. */
  readonly rules: readonly string[];
  readonly label?: Label;
  readonly spamProbability?: number;
  /** Mail scans add these. */
  readonly from?: string;
  readonly subject?: string;
  readonly date?: string;
}

export type OutputFormat = 'jsonl' | 'csv' | 'table';
export const OUTPUT_FORMATS: readonly OutputFormat[] = ['jsonl', 'csv', 'table'];

export interface ResultWriter {
  write(row: ResultRow): void;
  end(): Promise<void>;
}

function csvField(value: string): string {
  return /[",\n\r]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

/** Write rows to a stream, honouring back-pressure only at the end (rows are small). */
export function createResultWriter(format: OutputFormat, out: Writable): ResultWriter {
  let header = false;
  const buffer: string[] = [];
  const flush = (): void => {
    if (buffer.length > 0) {
      out.write(buffer.join(''));
      buffer.length = 0;
    }
  };
  const push = (line: string): void => {
    buffer.push(line);
    if (buffer.length >= 512) flush();
  };
  return {
    write(row) {
      if (format === 'jsonl') {
        push(JSON.stringify(row) + '\n');
      } else if (format === 'csv') {
        if (!header) {
          push('id,action,score,rules,label,spam_probability,from,subject,date\n');
          header = true;
        }
        push(
          [row.id, row.action, String(row.score), row.rules.join(' '), row.label ?? '', row.spamProbability?.toFixed(4) ?? '', row.from ?? '', row.subject ?? '', row.date ?? '']
            .map(csvField)
            .join(',') + '\n',
        );
      } else {
        if (!header) {
          push(`${'ID'.padEnd(32)} ${'ACTION'.padEnd(10)} ${'SCORE'.padStart(7)}  RULES\n`);
          header = true;
        }
        const id = row.id.length > 32 ? '…' + row.id.slice(-31) : row.id.padEnd(32);
        push(`${id} ${row.action.padEnd(10)} ${row.score.toFixed(2).padStart(7)}  ${row.rules.join(', ')}\n`);
      }
    },
    end() {
      flush();
      return new Promise((resolve) => {
        if ((out as { writableNeedDrain?: boolean }).writableNeedDrain) out.once('drain', () => resolve());
        else resolve();
      });
    },
  };
}

/** Counts for the end-of-scan summary; with labels, how well the verdicts agree with them. */
export class ScanSummary {
  readonly actions: Record<Action, number> = { deliver: 0, tag: 0, quarantine: 0, block: 0 };
  errors = 0;
  messages = 0;
  private readonly started = process.hrtime.bigint();
  private readonly confusion = { spamCaught: 0, spamMissed: 0, hamFlagged: 0, hamPassed: 0 };
  private labelled = 0;

  add(row: ResultRow): void {
    this.messages++;
    this.actions[row.action]++;
    if (row.label) {
      this.labelled++;
      // "Caught" means held or refused: quarantine or block. A tag still delivers.
      const caught = row.action === 'quarantine' || row.action === 'block';
      if (row.label === 'spam') caught ? this.confusion.spamCaught++ : this.confusion.spamMissed++;
      else caught ? this.confusion.hamFlagged++ : this.confusion.hamPassed++;
    }
  }

  get elapsedSeconds(): number {
    return Number(process.hrtime.bigint() - this.started) / 1e9;
  }

  toJSON(): Record<string, unknown> {
    const c = this.confusion;
    const spam = c.spamCaught + c.spamMissed;
    const ham = c.hamFlagged + c.hamPassed;
    return {
      messages: this.messages,
      errors: this.errors,
      actions: this.actions,
      seconds: Number(this.elapsedSeconds.toFixed(3)),
      messagesPerSecond: Math.round(this.messages / Math.max(this.elapsedSeconds, 1e-9)),
      ...(this.labelled > 0
        ? {
            labelled: { spam, ham, ...c },
            spamCaughtPercent: spam ? Number(((100 * c.spamCaught) / spam).toFixed(2)) : null,
            hamBlockedPercent: ham ? Number(((100 * c.hamFlagged) / ham).toFixed(3)) : null,
          }
        : {}),
    };
  }

  render(): string {
    const s = this.toJSON();
    const a = this.actions;
    const lines = [
      `${this.messages} messages in ${(s['seconds'] as number).toFixed(2)} s (${s['messagesPerSecond']} msgs/s)` +
        (this.errors ? `, ${this.errors} bad input${this.errors === 1 ? '' : 's'} skipped` : ''),
      `  deliver ${a.deliver}   tag ${a.tag}   quarantine ${a.quarantine}   block ${a.block}`,
    ];
    if (this.labelled > 0) {
      const c = this.confusion;
      // A share of no messages is null in JSON; a person reads "n/a".
      const percent = (v: unknown): string => (v === null || v === undefined ? 'n/a' : `${String(v)}%`);
      lines.push(
        `  labelled: spam caught ${percent(s['spamCaughtPercent'])} (${c.spamCaught}/${c.spamCaught + c.spamMissed}), ` +
          `ham held ${percent(s['hamBlockedPercent'])} (${c.hamFlagged}/${c.hamFlagged + c.hamPassed})  [caught = quarantine or block]`,
      );
    }
    return lines.join('\n');
  }
}
