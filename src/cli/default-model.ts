// The bundled pre-trained encoder, the default --model everywhere.

import { fileURLToPath } from 'node:url';

export const DEFAULT_MODEL = fileURLToPath(new URL('../../models/plmkit-bert-mini', import.meta.url));
