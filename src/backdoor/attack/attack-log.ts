// Reading back a run's attack-log.jsonl (one "attack_step" record per attacker step, see run-attack.ts),
// for the result tables: the attacker's losses late in training and, in gradient-control runs, its
// per-layer gradient statistics.

import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

/** One logged attacker step: the total loss and its terms (`clean`, `poison`, ...), and method extras. */
export type AttackStep = Record<string, unknown> & { step: number; loss: number };

/** The attacker's steps in step order (logs that runs resumed before 2026-11-30 wrote can hold a step twice:
 * the last record of each step is kept). */
export async function readAttackSteps(runDir: string): Promise<AttackStep[]> {
  const file = join(runDir, 'attack-log.jsonl');
  const logged = (await readFile(file, 'utf8'))
    .trim()
    .split('\n')
    .filter((l) => l)
    .map((l, i) => {
      try {
        return JSON.parse(l) as Record<string, unknown>;
      } catch (e) {
        throw new Error(`${file}:${i + 1}: ${(e as Error).message}`, { cause: e });
      }
    })
    .filter((e): e is AttackStep => e['event'] === 'attack_step' && typeof e['step'] === 'number');
  const byStep = new Map(logged.map((e) => [e.step, e]));
  return [...byStep.values()].sort((a, b) => a.step - b.step);
}

export interface LateLosses {
  /** Mean clean-task loss over the last third of the attacker's steps. */
  readonly clean: number;
  /** Mean poisoned-task loss over the same steps. */
  readonly poison: number;
}

/** Where the attacker's two losses ended: did the published module learn the clean task, not only the
 * trigger? (Two labels: ln 2 = 0.69 is a constant guess.) */
export function lateLosses(steps: readonly AttackStep[]): LateLosses {
  const late = steps.slice(Math.floor((steps.length * 2) / 3));
  const mean = (k: string) => {
    const xs = late.map((s) => s[k]).filter((v): v is number => typeof v === 'number');
    if (xs.length === 0) throw new Error(`the attack log has no "${k}" loss term`);
    return xs.reduce((a, b) => a + b, 0) / xs.length;
  };
  return { clean: mean('clean'), poison: mean('poison') };
}
