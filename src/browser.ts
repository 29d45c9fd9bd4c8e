// plmkit in a browser: sequence classifiers from a Hugging Face model directory's files, fine-tuned and
// run by onnxruntime-web, tokenized by @huggingface/tokenizers (pure JavaScript). No module this one loads
// touches a file system or a native package; a page fetches the files (see `fetchModelFiles`).

export {
  fetchModelFiles,
  fetchPetFiles,
  fetchTokenizerFiles,
  modelTensors,
  type ModelFiles,
  type ShardedWeights,
  type PetModuleFiles,
} from './browser/model-files.js';
export { encodeInput, type BrowserInput } from './browser/encode.js';
export { BrowserClassifier, type BrowserPrediction } from './browser/classifier.js';
export {
  BrowserTrainer,
  type BrowserExample,
  type BrowserStep,
  type BrowserTrainOptions,
  type BrowserTrainResult,
} from './browser/trainer.js';
