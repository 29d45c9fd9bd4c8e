// Plain progress lines (not a terminal): the ETA of a resumed run comes from this process's own steps, and
// a line is written each time a twentieth of the run is passed, also when several steps run per call.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { progress } from '../../src/report/progress.js';

function capture(): { stream: NodeJS.WriteStream; lines: string[] } {
  const lines: string[] = [];
  const stream = {
    isTTY: false,
    write: (s: string) => lines.push(s.trim()),
  } as unknown as NodeJS.WriteStream;
  return { stream, lines };
}

test('a resumed run estimates from the steps it ran itself', async () => {
  const { stream, lines } = capture();
  const p = progress('train', 200, 90, stream);
  await new Promise((r) => setTimeout(r, 200));
  p.update(100, { loss: 1, tokensPerS: 10 });
  // 10 steps in about 200 ms: the remaining 100 take about 2 s. Counting the earlier process's 90 steps
  // as this one's would say 0.2 s.
  const eta = Number(/eta (\d+)s/.exec(lines[0]!)![1]);
  assert.ok(eta >= 1 && eta <= 20, lines[0]);
});

test('steps that jump past a twentieth still print a line', () => {
  const { stream, lines } = capture();
  const p = progress('train', 200, 0, stream);
  for (let done = 8; done <= 200; done += 8) p.update(done, { loss: 1, tokensPerS: 10 });
  // every = 10: 8 steps per call pass a multiple of 10 at 16, 32, 48, ... and the end.
  assert.ok(lines.length >= 19, `${lines.length} lines`);
  assert.match(lines.at(-1)!, /^train 200\/200/);
});
