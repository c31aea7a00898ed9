/** The pool's recovery from workers that die or hang, with a stand-in worker script. */
import { describe, expect, it } from 'vitest';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { runPool, type PoolInput } from '../../src/mail/pool.js';

const FLAKY = pathToFileURL(resolve(__dirname, '../fixtures/mail/flaky-worker.mjs'));
const DEFERRING = pathToFileURL(resolve(__dirname, 'deferring-worker.mjs'));

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

  it('passes messages a worker hands back to the full parser, in input order', async () => {
    const texts = Array.from({ length: 60 }, (_, i) => (i % 7 === 3 ? `FULL ${i}` : `msg ${i}`));
    const out = [];
    for await (const o of runPool(inputs(texts), { workers: 3, batchSize: 4, workerUrl: DEFERRING, init: { mode: 'score', engine: {}, parse: {} } })) out.push(o);
    expect(out.map((o) => o.result.id)).toEqual(texts.map((_, i) => `m${i}`));
    const scored = out.map((o) => ('scored' in o.result ? o.result.scored : null));
    expect(scored.map((s) => s?.subject)).toEqual(texts);
    // Every handed-back message was parsed by the full parser; the other workers did take work.
    expect(scored.filter((s) => s?.subject.startsWith('FULL')).every((s) => s?.from === 'full')).toBe(true);
    expect(scored.some((s) => s?.from === 'direct')).toBe(true);
  });

  it('blames a handed-back message that kills the full parser, and only that one', async () => {
    const texts = Array.from({ length: 30 }, (_, i) => (i === 11 ? 'FULL CRASH' : i % 5 === 0 ? `FULL ${i}` : `msg ${i}`));
    const out = [];
    for await (const o of runPool(inputs(texts), { workers: 2, batchSize: 4, workerUrl: DEFERRING, init: { mode: 'score', engine: {}, parse: {} } })) out.push(o);
    expect(out.map((o) => o.result.id)).toEqual(texts.map((_, i) => `m${i}`));
    const errors = out.filter((o) => 'error' in o.result);
    expect(errors.map((o) => o.result.id)).toEqual(['m11']);
    expect(out.filter((o) => 'scored' in o.result)).toHaveLength(29);
  });
});
