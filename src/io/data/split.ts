// Seeded, platform-independent shuffles and splits.

import { createHash } from 'node:crypto';
import { DatasetError } from './example.js';

export type Seed = number | string;

function seedBytes(seed: Seed, key = ''): Buffer {
  return createHash('sha256')
    .update(`${typeof seed}:${String(seed)}\u0000${key}`)
    .digest();
}

/** A seeded pseudo-random generator (xoshiro128**, state from SHA-256 of the seed): uniform in [0, 1). */
export function seededRandom(seed: Seed): () => number {
  const bytes = seedBytes(seed);
  const s = new Uint32Array([
    bytes.readUInt32LE(0),
    bytes.readUInt32LE(4),
    bytes.readUInt32LE(8),
    bytes.readUInt32LE(12),
  ]);
  return () => {
    const result = Math.imul(rotl(Math.imul(s[1], 5), 7), 9) >>> 0;
    const t = s[1] << 9;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 11);
    return result / 2 ** 32;
  };
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

/** A shuffled copy (Fisher–Yates); the same seed always gives the same order. */
export function shuffle<T>(items: readonly T[], seed: Seed): T[] {
  const out = [...items];
  const random = seededRandom(seed);
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

function checkFractions(fractions: readonly number[]): void {
  const sum = fractions.reduce((a, b) => a + b, 0);
  if (fractions.length === 0 || fractions.some((f) => !(f >= 0)) || Math.abs(sum - 1) > 1e-9) {
    throw new DatasetError(
      `split fractions must be non-negative and sum to 1, got [${fractions.join(', ')}]`,
    );
  }
}

/**
 * Shuffles with `seed`, then cuts into consecutive parts of the given fractions (which sum to 1). Part `i`
 * ends at `round(n * (f0 + … + fi))`, so the parts cover every item exactly once.
 */
export function randomSplit<T>(items: readonly T[], fractions: readonly number[], seed: Seed): T[][] {
  checkFractions(fractions);
  const shuffled = shuffle(items, seed);
  const parts: T[][] = [];
  let start = 0;
  let cumulative = 0;
  fractions.forEach((fraction, i) => {
    cumulative += fraction;
    const end = i === fractions.length - 1 ? shuffled.length : Math.round(shuffled.length * cumulative);
    parts.push(shuffled.slice(start, end));
    start = end;
  });
  return parts;
}

/** A number in [0, 1) fixed by `(seed, key)`: SHA-256 of both, first 32 bits. */
export function hashFraction(key: string, seed: Seed): number {
  return seedBytes(seed, key).readUInt32LE(0) / 2 ** 32;
}

/**
 * The part (index into `fractions`) that `key` falls into, by `hashFraction(key, seed)`: an item's part
 * depends only on its key, not on the other items or their order.
 */
export function hashSplit(key: string, seed: Seed, fractions: readonly number[]): number {
  checkFractions(fractions);
  const u = hashFraction(key, seed);
  let cumulative = 0;
  for (let i = 0; i < fractions.length - 1; i++) {
    cumulative += fractions[i];
    if (u < cumulative) return i;
  }
  return fractions.length - 1;
}
