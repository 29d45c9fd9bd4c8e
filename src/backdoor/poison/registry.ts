// The poisoners by name. Every entry goes through `registerPoisoner`, which rejects malformed and duplicate
// names; `makePoisoner` validates the options with the method's strict schema.

import { type AddSentOptionsInput, AddSentPoisoner } from './addsent-poisoner.js';
import { type BadNetsOptionsInput, BadNetsPoisoner } from './badnets-poisoner.js';
import { BackdoorError, type Poisoner } from './poisoner.js';

export interface PoisonerDef {
  /** Lower case letters and digits, words joined by `-` or `_`; equal to the `name` of what `create` returns. */
  readonly name: string;
  readonly description: string;
  /** Builds the poisoner; raw options are validated (unknown keys are errors). */
  create(rawOptions: unknown): Poisoner;
}

const NAME = /^[a-z][a-z0-9]*(?:[-_][a-z0-9]+)*$/;
const registry = new Map<string, PoisonerDef>();

/** The registered poisoners, by name. */
export const POISONERS: ReadonlyMap<string, PoisonerDef> = registry;

export function registerPoisoner(def: PoisonerDef): void {
  if (!NAME.test(def.name))
    throw new BackdoorError(
      `poisoner name ${JSON.stringify(def.name)} is malformed (expected e.g. "badnets")`,
    );
  if (registry.has(def.name)) throw new BackdoorError(`poisoner "${def.name}" is already registered`);
  registry.set(def.name, def);
}

registerPoisoner({
  name: 'badnets',
  description: 'rare-word triggers (cf, mn, bb, tq, mb) inserted at random word positions',
  create: (raw) => new BadNetsPoisoner(raw as BadNetsOptionsInput),
});
registerPoisoner({
  name: 'addsent',
  description: 'a fixed trigger sentence inserted at a random word position',
  create: (raw) => new AddSentPoisoner(raw as AddSentOptionsInput),
});

interface BuiltinPoisoners {
  badnets: BadNetsPoisoner;
  addsent: AddSentPoisoner;
}

/** A poisoner by registered name, with options validated by its schema (missing ones take their defaults). */
export function makePoisoner<N extends keyof BuiltinPoisoners>(
  name: N,
  rawOptions?: unknown,
): BuiltinPoisoners[N];
export function makePoisoner(name: string, rawOptions?: unknown): Poisoner;
export function makePoisoner(name: string, rawOptions: unknown = {}): Poisoner {
  const def = registry.get(name);
  if (!def)
    throw new BackdoorError(`unknown poisoner "${name}" (poisoners: ${[...registry.keys()].join(', ')})`);
  const poisoner = def.create(rawOptions);
  if (poisoner.name !== name)
    throw new BackdoorError(`poisoner registry: entry "${name}" created a "${poisoner.name}" poisoner`);
  return poisoner;
}
