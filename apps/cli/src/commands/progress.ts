import { SingleBar, Presets } from 'cli-progress';

/** A progress bar on stderr (silent when stderr is not a terminal, except a final line). */
export function progressBar(title: string): { update: (done: number, total: number, label: string) => void; stop: () => void } {
  const bar = new SingleBar(
    { format: `${title} [{bar}] {percentage}% {value}/{total} {label}`, hideCursor: true, stream: process.stderr, noTTYOutput: false },
    Presets.shades_classic,
  );
  let started = false;
  return {
    update(done, total, label) {
      if (!started) {
        bar.start(total, done, { label });
        started = true;
      } else bar.update(done, { label });
    },
    stop() {
      if (started) bar.stop();
    },
  };
}

/** Parse a comma list of utilization levels in 0..1. */
export function parseLevels(text: string): number[] {
  const levels = text.split(',').map((s) => Number(s.trim()));
  if (levels.length === 0 || levels.some((u) => !(u >= 0 && u <= 1))) throw new Error(`--levels must be numbers from 0 to 1, got '${text}'`);
  return [...new Set(levels)].sort((a, b) => a - b);
}

export function parsePositiveInt(name: string) {
  return (text: string): number => {
    const v = Number(text);
    if (!Number.isInteger(v) || v < 1) throw new Error(`${name} must be a positive integer, got '${text}'`);
    return v;
  };
}
