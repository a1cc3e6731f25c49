import type ivm from 'isolated-vm';
import type { RuntimeErrorCode } from './errors.js';

/** One run under watch. */
export interface Watched {
  isolate: ivm.Isolate;
  /** `isolate.cpuTime` when the run started. */
  cpuStart: bigint;
  /** `performance.now()` when the run started. */
  wallStart: number;
  cpuLimitMs: number;
  wallLimitMs: number;
  /** Called once, with the limit that was passed; it must stop the run (dispose the isolate). */
  onBreach(code: RuntimeErrorCode): void;
}

const TICK_MS = 10;

/**
 * Checks the CPU and wall time of every running script every 10 ms from the host's event loop (which a
 * script cannot block: isolates run on their own threads) and reports the first breach of each run.
 * Its timer is referenced while a run is watched, so a run in progress keeps the process alive until it
 * ends (a script awaiting a promise that never settles is ended at its wall time, not by Node exiting
 * with code 13), and it is cleared when no run is left.
 */
export class Watchdog {
  private readonly runs = new Set<Watched>();
  private timer: NodeJS.Timeout | undefined;

  watch(run: Watched): void {
    this.runs.add(run);
    this.timer ??= setInterval(() => this.tick(), TICK_MS);
  }

  unwatch(run: Watched): void {
    this.runs.delete(run);
    if (this.runs.size === 0 && this.timer) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
  }

  private tick(): void {
    const now = performance.now();
    for (const run of this.runs) {
      let code: RuntimeErrorCode | undefined;
      if (run.isolate.isDisposed) code = undefined;
      else if (Number(run.isolate.cpuTime - run.cpuStart) / 1e6 > run.cpuLimitMs) code = 'cpu_time_exceeded';
      else if (now - run.wallStart > run.wallLimitMs) code = 'wall_time_exceeded';
      if (code) {
        this.unwatch(run);
        run.onBreach(code);
      }
    }
  }
}
