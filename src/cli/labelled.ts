/**
 * Labelled messages for `train` and `rules stats`: TSV/JSONL records with a label, then mail
 * archives given as spam or ham. A bad line or message is reported and skipped.
 */
import { tuneJitForBatch } from '../mail/jit.js';
import { labelledArchiveInputs } from '../mail/scan.js';
import type { Label } from '../message/records.js';
import { readRecords } from '../message/records.js';
import type { MessageInput } from '../message/types.js';

export interface LabelledSources {
  /** TSV `spam|ham<TAB>text` or JSONL with "label". */
  readonly files?: readonly string[];
  readonly spam?: readonly string[];
  readonly ham?: readonly string[];
}

export async function* labelledInputs(sources: LabelledSources, report: (message: string) => void): AsyncGenerator<{ label: Label; input: MessageInput }> {
  for (const file of sources.files ?? []) {
    try {
      for await (const rec of readRecords(file)) {
        if (rec.kind === 'error') report(rec.error);
        else if (!rec.label) report(`${rec.id}: no label: expected 'spam' or 'ham' (TSV: label<TAB>text; JSONL: "label")`);
        else yield { label: rec.label, input: rec.input };
      }
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (!code) throw err;
      report(`cannot read ${file}: ${code}`);
    }
  }
  if ((sources.spam?.length ?? 0) + (sources.ham?.length ?? 0) > 0) {
    tuneJitForBatch();
    yield* labelledArchiveInputs({ spam: sources.spam ?? [], ham: sources.ham ?? [] }, { onError: (id, e) => report(`${id}: ${e}`) });
  }
}
