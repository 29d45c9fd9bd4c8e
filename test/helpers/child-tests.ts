// Running test files in a child Node process (other modules preloaded, another environment), reading back
// its TAP counts: for checks that need a process of their own, such as one where some imports fail.

import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';

const root = join(import.meta.dirname, '..', '..');

export async function runTestsInChild(
  files: readonly string[],
  opts: { imports: readonly string[]; env?: Record<string, string | undefined> },
): Promise<{ pass: number; fail: number; stdout: string }> {
  const { stdout } = await promisify(execFile)(
    process.execPath,
    [
      ...opts.imports.flatMap((m) => ['--import', m]),
      '--import',
      'tsx',
      '--test',
      '--test-reporter',
      'tap',
      ...files,
    ],
    // Without NODE_TEST_CONTEXT (set by a parent test runner) the child reports in TAP, not to the parent.
    { cwd: root, env: { ...process.env, NODE_TEST_CONTEXT: undefined, ...opts.env }, maxBuffer: 1 << 26 },
  ).catch((e: { stdout?: string; message: string }) => {
    throw new Error(`${e.message}\n${e.stdout ?? ''}`.slice(0, 20000));
  });
  const count = (k: string) => Number(new RegExp(`^# ${k} (\\d+)$`, 'm').exec(stdout)?.[1]);
  return { pass: count('pass'), fail: count('fail'), stdout };
}
