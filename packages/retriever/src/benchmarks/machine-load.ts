import os from 'node:os';

/** The 1-, 5- and 15-minute load averages, one decimal (the machine is shared: every latency phase records them). */
export function loadAverage(): number[] {
  return os.loadavg().map((value) => Math.round(value * 10) / 10);
}

/** Load before and after one latency phase. */
export interface PhaseLoad {
  start: number[];
  end: number[];
  /** Seconds spent waiting for the 1-minute load to fall under the quiet threshold before the phase. */
  waitedSeconds?: number;
}

export interface QuietPolicy {
  /** Start a latency phase only once the 1-minute load is below this (0: never wait). */
  belowLoad: number;
  /** Give up waiting after this many seconds and measure anyway (the load is recorded either way). */
  maxWaitSeconds: number;
}

/**
 * Waits, before a latency phase, until the 1-minute load average is under `policy.belowLoad` or
 * `policy.maxWaitSeconds` pass; returns the seconds waited. Builds are never delayed, only measurements.
 */
export async function waitForQuiet(policy: QuietPolicy | undefined, log: (line: string) => void): Promise<number> {
  if (policy === undefined || policy.belowLoad <= 0) return 0;
  const started = performance.now();
  let logged = false;
  while (os.loadavg()[0]! >= policy.belowLoad && (performance.now() - started) / 1000 < policy.maxWaitSeconds) {
    if (!logged) log(`  waiting for the 1-minute load (${loadAverage()[0]}) to fall under ${policy.belowLoad} (at most ${policy.maxWaitSeconds} s)`);
    logged = true;
    await new Promise((resolve) => setTimeout(resolve, 2000));
  }
  return Math.round((performance.now() - started) / 100) / 10;
}
