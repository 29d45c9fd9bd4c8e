// Data poisoning for backdoor attacks: the shared `Poisoner` base, the methods, and their registry.

export {
  type PoisonedExample,
  type PoisonerOptions,
  type PoisonMode,
  BackdoorError,
  POISON_MODES,
  Poisoner,
  parsePoisonerOptions,
  poisonerOptionsSchema,
  poisonerOptionsShape,
  splitWords,
} from './poisoner.js';
export {
  type BadNetsOptions,
  type BadNetsOptionsInput,
  BADNETS_TRIGGERS,
  BadNetsPoisoner,
  badnetsOptionsSchema,
} from './badnets-poisoner.js';
export {
  type AddSentOptions,
  type AddSentOptionsInput,
  ADDSENT_SENTENCE,
  AddSentPoisoner,
  addsentOptionsSchema,
} from './addsent-poisoner.js';
export { type PoisonerDef, POISONERS, makePoisoner, registerPoisoner } from './registry.js';
