// Training progress: a bar with ETA, loss and tokens/s on a terminal; plain periodic lines otherwise.

import cliProgress from 'cli-progress';

export interface Progress {
  update(done: number, values: { loss: number; tokensPerS: number }): void;
  stop(): void;
}

/**
 * `start`: steps already done when this process began (a resumed run), so that the ETA comes from the
 * steps this process ran, not from the earlier process's.
 */
export function progress(
  label: string,
  total: number,
  start = 0,
  stream: NodeJS.WriteStream = process.stderr,
): Progress {
  if (stream.isTTY) {
    const bar = new cliProgress.SingleBar(
      {
        format: `${label} [{bar}] {value}/{total} | eta {eta_formatted} | loss {loss} | {tps} tok/s`,
        stream,
        hideCursor: true,
      },
      cliProgress.Presets.shades_classic,
    );
    bar.start(total, start, { loss: '-', tps: '-' });
    return {
      update: (done, v) => bar.update(done, { loss: v.loss.toFixed(4), tps: Math.round(v.tokensPerS) }),
      stop: () => bar.stop(),
    };
  }
  const every = Math.max(1, Math.floor(total / 20));
  const began = Date.now();
  let lastLine = start;
  return {
    update: (done, v) => {
      // Several steps per call: a line whenever a multiple of `every` was passed, not only hit.
      if (Math.floor(done / every) === Math.floor(lastLine / every) && done !== total) return;
      lastLine = done;
      const eta = done > start ? ((Date.now() - began) / (done - start)) * (total - done) : NaN;
      stream.write(
        `${label} ${done}/${total} loss ${v.loss.toFixed(4)} ${Math.round(v.tokensPerS)} tok/s eta ${Math.round(eta / 1000)}s\n`,
      );
    },
    stop: () => {},
  };
}
