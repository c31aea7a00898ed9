/** The pool's recovery from workers that die or hang, with a stand-in worker script. */
import { describe, expect, it } from 'vitest';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { runPool, type PoolInput } from '../../src/mail/pool.js';

const FLAKY = pathToFileURL(resolve(__dirname, '../fixtures/mail/flaky-worker.mjs'));

async function* inputs(texts: string[]): AsyncGenerator<PoolInput<number>> {
  let i = 0;
  for (const t of texts) {
    const n = i++;
    yield { item: { id: `m${n}`, raw: Buffer.from(t), source: { path: 'x' } }, meta: n };
  }
}

describe('runPool', () => {
  it('keeps input order and replaces a worker that dies, blaming only the message that killed it', async () => {
    const texts = Array.from({ length: 40 }, (_, i) => (i === 13 ? 'CRASH' : `msg ${i}`));
    const out = [];
    for await (const o of runPool(inputs(texts), { workers: 2, batchSize: 4, workerUrl: FLAKY, init: { mode: 'score', engine: {}, parse: {} } })) out.push(o);
    expect(out.map((o) => o.result.id)).toEqual(texts.map((_, i) => `m${i}`));
    const errors = out.filter((o) => 'error' in o.result);
    expect(errors.map((o) => o.result.id)).toEqual(['m13']);
    expect((errors[0]!.result as { error: string }).error).toMatch(/worker exited with code 3/);
  });

  it('gives up on a message that hangs its worker and goes on', async () => {
    const texts = ['a', 'b', 'HANG', 'c', 'd'];
    const out = [];
    for await (const o of runPool(inputs(texts), { workers: 1, batchSize: 2, hardTimeoutMs: 1500, workerUrl: FLAKY, init: { mode: 'score', engine: {}, parse: {} } })) out.push(o);
    expect(out.map((o) => ('error' in o.result ? `error:${o.result.id}` : o.result.id))).toEqual(['m0', 'm1', 'error:m2', 'm3', 'm4']);
    expect((out[2]!.result as { error: string }).error).toMatch(/stuck/);
  });
});
