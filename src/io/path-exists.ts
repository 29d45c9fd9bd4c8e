// Whether a file or directory is there (any error reading its status counts as "not there").

import { stat } from 'node:fs/promises';

export async function pathExists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}
