// Rewrites a safetensors file without the tensors whose names start with a prefix (a checkpoint that
// lacks a part, such as an MLM checkpoint without BERT's pooler).

import { readSafetensors, tensorToFloat32, writeSafetensors } from '../../src/io/safetensors.js';

export async function dropTensors(file: string, prefix: string): Promise<void> {
  const all = (await readSafetensors(file)).tensors;
  await writeSafetensors(
    file,
    new Map(
      [...all]
        .filter(([k]) => !k.startsWith(prefix))
        .map(([k, t]) => [k, { shape: t.shape, data: tensorToFloat32(t, k) }]),
    ),
  );
}
