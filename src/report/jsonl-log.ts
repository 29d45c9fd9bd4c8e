// Append-only JSON Lines logs: one event per line, each appended whole.

import { appendFile, mkdir, readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { writeFileAtomic } from '../io/atomic-file.js';

export class JsonlLog {
  private ready: Promise<unknown>;
  constructor(readonly path: string) {
    this.ready = mkdir(dirname(path), { recursive: true });
  }
  async write(event: Readonly<Record<string, unknown>>): Promise<void> {
    await this.ready;
    await appendFile(this.path, `${JSON.stringify({ time: new Date().toISOString(), ...event })}\n`);
  }

  /**
   * Before a run resumes from a checkpoint: drops the events that `keep` rejects (those logged after the
   * checkpoint, which the resumed run logs again) and a line torn by the interruption, so the log holds
   * each event once. Returns how many lines were dropped.
   */
  async rewind(keep: (event: Record<string, unknown>) => boolean): Promise<number> {
    await this.ready;
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return 0;
      throw e;
    }
    const lines = text.split('\n').filter((l) => l !== '');
    const kept = lines.filter((line) => {
      try {
        return keep(JSON.parse(line) as Record<string, unknown>);
      } catch {
        return false;
      }
    });
    if (kept.length < lines.length) await writeFileAtomic(this.path, kept.map((l) => `${l}\n`).join(''));
    return lines.length - kept.length;
  }
}
