import cliProgress from 'cli-progress';

/**
 * One progress view for a whole comparison: an overall bar (edits applied over all cells, so cells
 * of different T weigh by their work) and a bar for the cell at work. Where stderr is not a
 * terminal it prints a plain line at each cell and at most every `logIntervalSeconds` in between;
 * messages (skips, resumes) go above the bars.
 */
export class CompareProgress {
  private readonly multi: cliProgress.MultiBar | null;
  private overall: cliProgress.SingleBar | null = null;
  private cell: cliProgress.SingleBar | null = null;
  private offset = 0;
  private cellLabel = '';
  private cellTotal = 0;
  private lastLog = 0;
  private readonly startedAt = performance.now();

  constructor(
    private readonly total: number,
    private readonly write: (line: string) => void,
    private readonly logIntervalSeconds = 30,
    terminal = process.stderr.isTTY === true,
  ) {
    this.multi = terminal
      ? new cliProgress.MultiBar(
          { format: '{label} |{bar}| {value}/{total} edits | {duration_formatted} elapsed, eta {eta_formatted}', stream: process.stderr, hideCursor: true, etaBuffer: 50, clearOnComplete: false },
          cliProgress.Presets.shades_classic,
        )
      : null;
    if (this.multi) this.overall = this.multi.create(total, 0, { label: 'all cells'.padEnd(28) });
  }

  /** A message that stays (skipped editor, resumed cell). */
  note(line: string): void {
    if (this.multi) this.multi.log(`${line}\n`);
    else this.write(line);
  }

  startCell(label: string, total: number, done: number): void {
    this.cellLabel = label;
    this.cellTotal = total;
    if (this.multi) {
      this.cell?.stop();
      if (this.cell) this.multi.remove(this.cell);
      this.cell = this.multi.create(total, done, { label: label.slice(0, 28).padEnd(28) });
    } else {
      this.write(`compare: ${label} (${total} edits${done > 0 ? `, resuming after ${done}` : ''}) — overall ${this.offset}/${this.total} (${this.elapsed()} s)`);
      this.lastLog = performance.now();
    }
  }

  /** Edits done in the current cell. */
  update(done: number): void {
    if (this.multi) {
      this.cell?.update(done);
      this.overall?.update(this.offset + done);
      return;
    }
    const now = performance.now();
    if (now - this.lastLog >= this.logIntervalSeconds * 1000) {
      this.lastLog = now;
      this.write(`compare: ${this.cellLabel} ${done}/${this.cellTotal} — overall ${this.offset + done}/${this.total} (${this.elapsed()} s)`);
    }
  }

  /** The cell is finished (or skipped): its whole share counts as done. */
  endCell(share: number): void {
    this.offset += share;
    this.overall?.update(this.offset);
  }

  stop(): void {
    this.multi?.stop();
  }

  private elapsed(): string {
    return ((performance.now() - this.startedAt) / 1000).toFixed(0);
  }
}
