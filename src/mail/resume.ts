/**
 * `--resume`: the ids already in an output file, so an interrupted scan goes on where it
 * stopped. A last line cut short by the interruption is removed before appending.
 */
import { closeSync, existsSync, ftruncateSync, openSync, readSync, fstatSync } from 'node:fs';
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';

/** Cut a trailing partial line (no final newline) off the file; returns the new size. */
export function dropPartialLastLine(path: string): number {
  const fd = openSync(path, 'r+');
  try {
    const size = fstatSync(fd).size;
    if (size === 0) return 0;
    const chunk = Buffer.alloc(Math.min(size, 64 * 1024));
    let end = size;
    // Walk back to the last newline.
    for (let pos = size; pos > 0; ) {
      const len = Math.min(chunk.length, pos);
      pos -= len;
      readSync(fd, chunk, 0, len, pos);
      if (pos + len === size && chunk[len - 1] === 0x0a) return size; // already ends cleanly
      const nl = chunk.subarray(0, len).lastIndexOf(0x0a);
      if (nl >= 0) {
        end = pos + nl + 1;
        break;
      }
      if (pos === 0) end = 0;
    }
    ftruncateSync(fd, end);
    return end;
  } finally {
    closeSync(fd);
  }
}

function csvFirstField(line: string): string {
  if (!line.startsWith('"')) {
    const comma = line.indexOf(',');
    return comma < 0 ? line : line.slice(0, comma);
  }
  let out = '';
  for (let i = 1; i < line.length; i++) {
    const c = line[i];
    if (c === '"') {
      if (line[i + 1] === '"') {
        out += '"';
        i++;
      } else break;
    } else out += c;
  }
  return out;
}

export interface ResumeState {
  readonly ids: Set<string>;
  /** True when the file already has content (CSV must not repeat its header). */
  readonly nonEmpty: boolean;
}

/** Ids of the results in an existing JSONL or CSV output file (none when it does not exist). */
export async function readDoneIds(path: string, format: 'jsonl' | 'csv' | 'table'): Promise<ResumeState> {
  const ids = new Set<string>();
  if (!existsSync(path)) return { ids, nonEmpty: false };
  const size = dropPartialLastLine(path);
  if (size === 0) return { ids, nonEmpty: false };
  const rl = createInterface({ input: createReadStream(path, 'utf8'), crlfDelay: Infinity });
  let first = true;
  for await (const line of rl) {
    if (line.length === 0) continue;
    if (format === 'csv') {
      if (first && line.startsWith('id,action')) {
        first = false;
        continue;
      }
      ids.add(csvFirstField(line));
    } else if (format === 'jsonl') {
      try {
        const v = JSON.parse(line) as { id?: unknown };
        if (typeof v.id === 'string') ids.add(v.id);
      } catch {
        // A damaged line: its message is scored again.
      }
    } else {
      throw new Error('--resume needs --format jsonl or csv');
    }
    first = false;
  }
  return { ids, nonEmpty: true };
}
