// What a directory holds when it is not what a command was given it as: a run directory where a model
// directory was expected, a PET module for a model, a model for a PET module. Users mix these up easily
// (`finetune --out runs/x` writes the model into runs/x/best), and "config.json: file not found" does not
// say which.

import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';

const isFile = (p: string) =>
  stat(p).then(
    (s) => s.isFile(),
    () => false,
  );

/**
 * Why `dir` is not a `wanted` directory, or undefined when there is nothing better to say than that the
 * file is missing.
 */
export async function directoryHint(dir: string, wanted: 'model' | 'adapter'): Promise<string | undefined> {
  const s = await stat(dir).catch(() => undefined);
  if (!s) return `directory ${dir} does not exist`;
  if (!s.isDirectory()) return `${dir} is a file, not a directory`;
  if (wanted === 'model' && (await isFile(join(dir, 'adapter_config.json'))))
    return `${dir} holds a PET module, not a model: give it as --adapter ${dir}, with its base model as --model`;
  if (wanted === 'adapter' && (await isFile(join(dir, 'config.json'))))
    return `${dir} holds a model, not a PET module: give it as --model ${dir}`;
  // A run directory: the exported model or module is in a subdirectory (best/, last/, published/, ...).
  const file = wanted === 'model' ? 'config.json' : 'adapter_config.json';
  const subdirs: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true }).catch(() => []))
    if (e.isDirectory() && (await isFile(join(dir, e.name, file)))) subdirs.push(join(dir, e.name));
  if (subdirs.length)
    return `${dir} is a run directory; the ${wanted === 'model' ? 'model' : 'PET module'} it saved is in ${subdirs.join(' or ')}`;
  return undefined;
}
