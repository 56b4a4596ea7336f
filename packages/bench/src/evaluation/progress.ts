import cliProgress from 'cli-progress';

/** A progress bar on stderr (silent when stderr is not a terminal, so logs stay clean). */
export class ProgressBar {
  private readonly bar: cliProgress.SingleBar;
  private started = false;

  constructor(private readonly label: string) {
    this.bar = new cliProgress.SingleBar(
      { format: `${label} |{bar}| {value}/{total} {detail} | {duration_formatted} elapsed, eta {eta_formatted}`, stream: process.stderr, hideCursor: true, etaBuffer: 20 },
      cliProgress.Presets.shades_classic,
    );
  }

  update(value: number, total: number, detail = ''): void {
    if (!this.started) {
      this.bar.start(total, value, { detail });
      this.started = true;
    }
    this.bar.setTotal(total);
    this.bar.update(value, { detail });
  }

  stop(): void {
    if (this.started) this.bar.stop();
  }
}
