// Training progress: a bar with ETA, loss and tokens/s on a terminal; plain periodic lines otherwise.

import cliProgress from 'cli-progress';

export interface Progress {
  update(done: number, values: { loss: number; tokensPerS: number }): void;
  stop(): void;
}

export function progress(
  label: string,
  total: number,
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
    bar.start(total, 0, { loss: '-', tps: '-' });
    return {
      update: (done, v) => bar.update(done, { loss: v.loss.toFixed(4), tps: Math.round(v.tokensPerS) }),
      stop: () => bar.stop(),
    };
  }
  const every = Math.max(1, Math.floor(total / 20));
  const start = Date.now();
  return {
    update: (done, v) => {
      if (done % every !== 0 && done !== total) return;
      const eta = ((Date.now() - start) / done) * (total - done);
      stream.write(
        `${label} ${done}/${total} loss ${v.loss.toFixed(4)} ${Math.round(v.tokensPerS)} tok/s eta ${Math.round(eta / 1000)}s\n`,
      );
    },
    stop: () => {},
  };
}
