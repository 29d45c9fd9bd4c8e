// Append-only JSON Lines logs: one event per line, each appended whole.

import { appendFile, mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';

export class JsonlLog {
  private ready: Promise<unknown>;
  constructor(readonly path: string) {
    this.ready = mkdir(dirname(path), { recursive: true });
  }
  async write(event: Readonly<Record<string, unknown>>): Promise<void> {
    await this.ready;
    await appendFile(this.path, `${JSON.stringify({ time: new Date().toISOString(), ...event })}\n`);
  }
}
