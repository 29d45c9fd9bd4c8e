import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { describe, test } from 'node:test';
import {
  SPAMASSASSIN_PACKAGE,
  emailToText,
  findDataset,
  loadDataset,
  spamAssassinSplit,
} from '../../../src/io/data/index.js';
import type { Example } from '../../../src/io/data/index.js';

const corpusSize = (createRequire(import.meta.url)(SPAMASSASSIN_PACKAGE) as () => unknown[])().length;

describe('spamassassin', () => {
  test('emailToText keeps the unfolded Subject and the verbatim body, drops other headers', () => {
    const raw =
      'From someone@x  Thu Aug 22 13:17:22 2002\r\nReceived: from a\r\n\tby b\r\nSubject: Hello\r\n  there\r\n' +
      'Content-Type: text/plain; charset=3D"x"\r\n\r\n=3D body line 1\r\nline 2\r\n\r\n';
    assert.equal(emailToText(raw), 'Subject: Hello there\n\n=3D body line 1\nline 2');
    assert.equal(emailToText('To: a\n\nbody only'), 'body only');
    assert.equal(emailToText('Subject: =?iso-8859-1?Q?caf=E9?=\n\n'), 'Subject: =?iso-8859-1?Q?caf=E9?=');
  });

  test('split by seeded hash of the checksum: deterministic, about 80/10/10', () => {
    const keys = Array.from({ length: 2000 }, (_, i) => i.toString(16).padStart(32, '0'));
    const splits = keys.map((k) => spamAssassinSplit(k));
    assert.deepEqual(
      keys.map((k) => spamAssassinSplit(k, 0)),
      splits,
    );
    assert.notDeepEqual(
      keys.map((k) => spamAssassinSplit(k, 1)),
      splits,
    );
    const train = splits.filter((s) => s === 'train').length / keys.length;
    assert.ok(train > 0.76 && train < 0.84, String(train));
  });

  test('registered by name; the three splits partition the corpus, each with ham and spam', async () => {
    const info = await findDataset('spamassassin', { env: {} });
    assert.equal(info.origin, 'built in');
    const loaded: Record<string, Example[]> = {};
    for (const split of ['train', 'dev', 'test'] as const) {
      const result = await loadDataset('spamassassin', { split, env: {} });
      assert.deepEqual(result.labelNames, ['ham', 'spam']);
      assert.equal(result.skipped, 0);
      assert.match(result.source, /^npm:@stdlib\/datasets-spam-assassin@\S+ split \w+ \(seed 0\)$/);
      const labels = result.examples.map((e) => e.label);
      assert.ok(labels.includes(0) && labels.includes(1), split);
      assert.ok(result.examples.every((e) => e.text.trim() !== '' && e.textPair === undefined));
      loaded[split] = result.examples;
    }
    const [train, dev, test_] = [loaded['train'] ?? [], loaded['dev'] ?? [], loaded['test'] ?? []];
    assert.equal(train.length + dev.length + test_.length, corpusSize);
    assert.ok(train.length / corpusSize > 0.77 && train.length / corpusSize < 0.83, String(train.length));
    assert.ok(dev.length > 0.07 * corpusSize && test_.length > 0.07 * corpusSize);
    const subjects = train.filter((e) => e.text.startsWith('Subject: ')).length;
    assert.ok(subjects > 0.95 * train.length, String(subjects));
    assert.ok(!train.some((e) => /^Received: /m.test(e.text.split('\n\n')[0] ?? '')));

    // Messages that become the same text share a split.
    const trainTexts = new Set(train.map((e) => e.text));
    assert.ok(![...dev, ...test_].some((e) => trainTexts.has(e.text)), 'a text in train and in dev or test');
    assert.ok(!dev.some((e) => new Set(test_.map((t) => t.text)).has(e.text)), 'a text in dev and test');

    const again = await loadDataset('spamassassin', { split: 'test', env: {} });
    assert.deepEqual(again.examples, test_);
    const reseeded = await loadDataset('spamassassin', { split: 'test', splitSeed: 7, limit: 50, env: {} });
    assert.notDeepEqual(reseeded.examples, test_.slice(0, 50));
  });

  test('unknown split is an error', async () => {
    await assert.rejects(
      loadDataset('spamassassin', { split: 'validation' as 'dev' }),
      /no split "validation"/,
    );
  });
});
