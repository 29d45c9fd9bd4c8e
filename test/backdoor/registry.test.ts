// The poisoner registry and the strict option schemas.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  AddSentPoisoner,
  BackdoorError,
  BadNetsPoisoner,
  makePoisoner,
  POISONERS,
  registerPoisoner,
} from '../../src/backdoor/poison/index.js';

test('registered poisoners', () => {
  assert.deepEqual([...POISONERS.keys()], ['badnets', 'addsent']);
  const b = makePoisoner('badnets', { numTriggers: 10, poisonRate: 0.5 });
  assert.ok(b instanceof BadNetsPoisoner);
  assert.equal(b.options.numTriggers, 10);
  assert.equal(b.options.poisonRate, 0.5);
  assert.ok(makePoisoner('addsent') instanceof AddSentPoisoner);
  assert.throws(
    () => makePoisoner('hidden-killer'),
    /unknown poisoner "hidden-killer" \(poisoners: badnets, addsent\)/,
  );
});

test('registerPoisoner rejects duplicate and malformed names', () => {
  const create = () => new BadNetsPoisoner();
  assert.throws(() => registerPoisoner({ name: 'badnets', description: '', create }), /already registered/);
  for (const name of ['', 'BadNets', 'bad nets', '1bad', 'bad-', 'bad__nets'])
    assert.throws(
      () => registerPoisoner({ name, description: '', create }),
      (e: unknown) => e instanceof BackdoorError && /malformed/.test(e.message),
      name,
    );
  assert.deepEqual([...POISONERS.keys()], ['badnets', 'addsent']);
});

const bad: [name: string, raw: unknown, re: RegExp][] = [
  ['badnets', { rate: 0.1 }, /Unrecognized key.*"rate"/],
  ['badnets', { sentence: 'x' }, /"sentence"/],
  ['addsent', { triggers: ['cf'] }, /"triggers"/],
  ['addsent', { numTriggers: 2 }, /"numTriggers"/],
  ['badnets', { poisonRate: 1.5 }, /^badnets options: poisonRate: /],
  ['badnets', { poisonRate: -0.1 }, /poisonRate/],
  ['addsent', { poisonRate: '0.1' }, /poisonRate/],
  ['badnets', { target: -1 }, /target/],
  ['badnets', { target: 0.5 }, /target/],
  ['badnets', { seed: 1.5 }, /seed/],
  ['badnets', { mode: 'dirty' }, /mode/],
  ['badnets', { numTriggers: 0 }, /numTriggers/],
  ['badnets', { triggers: [] }, /triggers/],
  ['badnets', { triggers: ['cf', 'cf'] }, /triggers: triggers must be distinct/],
  ['badnets', { triggers: ['two words'] }, /triggers\.0: a trigger must be one word/],
  ['addsent', { sentence: '   ' }, /sentence: the trigger sentence must contain a word/],
  ['addsent', 'cf', /\(root\)/],
];
for (const [name, raw, re] of bad)
  test(`refused: ${name} ${JSON.stringify(raw)}`, () => {
    assert.throws(
      () => makePoisoner(name, raw),
      (e: unknown) => e instanceof BackdoorError && re.test(e.message),
    );
  });
