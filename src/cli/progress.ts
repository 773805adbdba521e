import cliProgress from 'cli-progress';
import { routeLogLines } from '../logger';

/** A progress bar on stderr, drawn only on a terminal. */
export interface ProgressBar {
  update(value: number, payload?: Record<string, unknown>): void;
  setTotal(total: number): void;
  getTotal(): number;
  stop(): void;
}

const NONE: ProgressBar = { update: () => {}, setTotal: () => {}, getTotal: () => 0, stop: () => {} };

/**
 * Starts a bar on stderr when it is a terminal (nothing otherwise: redirected output gets no
 * control codes). While it runs, log lines are printed above it (cli-progress' MultiBar log
 * buffer, flushed on each redraw) instead of across it; stop() restores them to stderr.
 */
export function startProgressBar(format: string, total: number, payload: Record<string, unknown>): ProgressBar {
  if (process.stderr.isTTY !== true) return NONE;
  const multi = new cliProgress.MultiBar({ stream: process.stderr, format, hideCursor: true, noTTYOutput: false }, cliProgress.Presets.shades_classic);
  const bar = multi.create(total, 0, payload);
  const unroute = routeLogLines((line) => multi.log(line));
  let stopped = false;
  return {
    update: (value, p) => bar.update(value, p),
    setTotal: (t) => bar.setTotal(t),
    getTotal: () => bar.getTotal(),
    stop: () => {
      if (stopped) return;
      stopped = true;
      // stop() does not flush the log buffer: one more redraw prints what was logged since the last.
      multi.update();
      multi.stop();
      unroute();
    },
  };
}
