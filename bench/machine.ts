// Where and how a benchmark ran, printed with its figures so that a committed JSON file names its machine.

import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { availableParallelism, cpus, totalmem } from 'node:os';
import { dirname, join } from 'node:path';

export function machine(): Record<string, unknown> {
  // A package's version from its package.json, found above its entry point (an exports map may hide it).
  const version = (pkg: string): string | null => {
    try {
      for (let d = dirname(createRequire(import.meta.url).resolve(pkg)); d !== dirname(d); d = dirname(d)) {
        try {
          const json = JSON.parse(readFileSync(join(d, 'package.json'), 'utf8')) as {
            name?: string;
            version: string;
          };
          if (json.name === pkg) return json.version;
        } catch {
          // no package.json here: go up
        }
      }
    } catch {
      // not installed
    }
    return null;
  };
  return {
    cpu: cpus()[0]?.model ?? null,
    cores: availableParallelism(),
    memory_gb: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    onnxruntime_node: version('onnxruntime-node'),
    onnxruntime_web: version('onnxruntime-web'),
    // The settings that change the engine's speed (src/runtime/ort.ts).
    threads: process.env['PLMKIT_THREADS'] ?? null,
    execution_providers: process.env['PLMKIT_EXECUTION_PROVIDERS'] ?? null,
    finished_at: new Date().toISOString(),
  };
}
