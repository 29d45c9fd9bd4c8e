// Tokenizers for BERT (WordPiece) and RoBERTa (byte-level BPE) from Hugging Face files, over the `tokenizers`
// package (Hugging Face's Rust tokenizers, Node bindings).

export * from './hf-json.js';
export * from './tokenizer.js';
export * from './files.js';
