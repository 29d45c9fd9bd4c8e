// Streaming line reader that checks UTF-8 per line (Node's readline would silently replace bad bytes).

import { createReadStream } from 'node:fs';

export interface Line {
  /** 1-based. */
  lineNo: number;
  /** The line without its `\n` / `\r\n`; invalid bytes replaced by U+FFFD when `validUtf8` is false. */
  text: string;
  validUtf8: boolean;
}

const strict = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const lenient = new TextDecoder('utf-8', { fatal: false, ignoreBOM: true });
const NEWLINE = 0x0a;

function decodeLine(bytes: Buffer, lineNo: number): Line {
  let end = bytes.length;
  if (end > 0 && bytes[end - 1] === 0x0d) end--;
  let start = 0;
  if (lineNo === 1 && end >= 3 && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) start = 3;
  const view = bytes.subarray(start, end);
  try {
    return { lineNo, text: strict.decode(view), validUtf8: true };
  } catch {
    return { lineNo, text: lenient.decode(view), validUtf8: false };
  }
}

/**
 * Yields the lines of a file one by one, reading it in chunks (large files are never held whole).
 * Splitting on the byte 0x0A is safe for UTF-8: it never occurs inside a multi-byte sequence. A UTF-8 BOM
 * at the start of the file is dropped; a final line without `\n` is yielded if non-empty.
 */
export async function* readLines(path: string): AsyncGenerator<Line> {
  let pending: Buffer[] = [];
  let lineNo = 0;
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 }) as AsyncIterable<Buffer>) {
    let from = 0;
    for (let nl = chunk.indexOf(NEWLINE); nl >= 0; nl = chunk.indexOf(NEWLINE, from)) {
      const part = chunk.subarray(from, nl);
      const bytes = pending.length === 0 ? part : Buffer.concat([...pending, part]);
      pending = [];
      yield decodeLine(bytes, ++lineNo);
      from = nl + 1;
    }
    if (from < chunk.length) pending.push(chunk.subarray(from));
  }
  if (pending.length > 0) {
    const bytes = Buffer.concat(pending);
    if (bytes.length > 0) yield decodeLine(bytes, lineNo + 1);
  }
}
