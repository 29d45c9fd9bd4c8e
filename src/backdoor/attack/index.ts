// Backdoor attacks that act on training itself (not only on the data): gradient control (Gu et al., 2023).

export {
  CLNORM_W_INPUT,
  clnormOptionsSchema,
  defaultBeta,
  gradientControl,
  gradientControlOptionsSchema,
  ilprojOptionsSchema,
  initialClnormWeights,
  layerGroups,
  layerIndexOf,
  parseGradientControlOptions,
  type GradientControl,
  type GradientControlOptions,
  type GradientControlOptionsInput,
  type GradientControlSpec,
  type LayerGroups,
} from './gradient-control.js';
