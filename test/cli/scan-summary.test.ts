import { describe, expect, it } from 'vitest';
import { ScanSummary } from '../../src/cli/output.js';

describe('the scan summary a person reads', () => {
  it('says n/a for the share of a class with no labelled messages, and keeps null in JSON', () => {
    const summary = new ScanSummary();
    summary.add({ id: 'a:1', action: 'deliver', score: 0, rules: [], label: 'ham' } as Parameters<ScanSummary['add']>[0]);
    expect(summary.render()).toContain('spam caught n/a (0/0), ham held 0% (0/1)');
    expect(summary.toJSON()['spamCaughtPercent']).toBeNull();
  });
});
