import cliProgress from 'cli-progress';

/**
 * A progress bar on stderr. When stderr is not a terminal (logs, CI) it prints a plain line at most
 * every `logIntervalSeconds` instead, so long runs still show they are alive.
 */
export class ProgressBar {
  private readonly bar: cliProgress.SingleBar | null;
  private started = false;
  private lastLog = 0;
  private readonly startedAt = performance.now();

  constructor(
    private readonly label: string,
    private readonly logIntervalSeconds = 30,
  ) {
    this.bar = process.stderr.isTTY
      ? new cliProgress.SingleBar(
          { format: `${label} |{bar}| {value}/{total} {detail} | {duration_formatted} elapsed, eta {eta_formatted}`, stream: process.stderr, hideCursor: true, etaBuffer: 20 },
          cliProgress.Presets.shades_classic,
        )
      : null;
  }

  update(value: number, total: number, detail = ''): void {
    if (!this.bar) {
      const now = performance.now();
      if (now - this.lastLog >= this.logIntervalSeconds * 1000 || value === total) {
        this.lastLog = now;
        const elapsed = ((now - this.startedAt) / 1000).toFixed(0);
        process.stderr.write(`${this.label}: ${value}/${total} ${detail} (${elapsed} s)\n`);
      }
      return;
    }
    if (!this.started) {
      this.bar.start(total, value, { detail });
      this.started = true;
    }
    this.bar.setTotal(total);
    this.bar.update(value, { detail });
  }

  stop(): void {
    if (this.bar && this.started) this.bar.stop();
    this.started = false;
  }
}
