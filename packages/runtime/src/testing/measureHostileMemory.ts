import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

/** What one hostile case left behind, measured after the next (healthy) run and a full GC. */
export interface HostileMemoryFigure {
  name: string;
  /** The code the case ended with (null: it succeeded). */
  code: string | null;
  /** Host heap plus external memory, minus the baseline taken before the first case. */
  hostGrowthBytes: number;
  /** Used heap of the pool's idle isolates. */
  idleHeapBytes: number;
  isolates: number;
  busy: number;
}

/**
 * Runs the hostile-script table in a child process (hostileMemory.ts: its own heap and GC, so the figures do not
 * move with whatever else the calling process runs) and returns what each case left behind.
 * @param args - hostileMemory.ts's options: `--only=<case name>`, `--leak-mb=<n>`
 */
export async function measureHostileMemory(args: string[] = []): Promise<HostileMemoryFigure[]> {
  const script = fileURLToPath(new URL('./hostileMemory.ts', import.meta.url));
  const { stdout } = await promisify(execFile)(
    process.execPath,
    ['--no-node-snapshot', '--import', 'tsx', script, ...args],
    { cwd: fileURLToPath(new URL('../..', import.meta.url)), maxBuffer: 16 * 2 ** 20 },
  );
  // Its last line: the figures, as JSON.
  return JSON.parse(stdout.trim().split('\n').at(-1) ?? '') as HostileMemoryFigure[];
}
