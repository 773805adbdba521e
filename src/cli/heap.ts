import { setFlagsFromString } from 'node:v8';
import type { Config } from '../config';

// The workers process's peak resident set is mostly V8 heap that is already garbage: with the
// default heuristics (a heap limit of a quarter of the machine's memory) the main isolate's old
// generation grows to about three times what it keeps before a full collection runs, and each
// workflow thread keeps a 16 MB semi-space pair. Measured at 10,000 tenants (docs/BENCHMARKS.md):
// the live main heap was 46 MB while its old generation held 117 MB. Growing it by at most 25 %
// between full collections, and giving the workflow threads 8 MB semi-spaces, keeps the peak
// under 300 MB without a hard limit that could end the process (--max-old-space-size would).

/** The V8 flags for `config.workersHeap` (empty when both are 0: V8's own choice). */
export function heapFlags(heap: Config['workersHeap']): string[] {
  const flags: string[] = [];
  if (heap.growingPercent > 0) flags.push(`--heap-growing-percent=${heap.growingPercent}`);
  if (heap.semiSpaceMb > 0) flags.push(`--max-semi-space-size=${heap.semiSpaceMb}`);
  return flags;
}

/**
 * Applies them to this process. Call before the Temporal workers start: the growing factor is read
 * at every full collection (the main isolate included); the semi-space size is read when an isolate
 * is created, so it reaches the workflow threads the workers create later, not the main thread.
 */
export function tuneWorkersHeap(heap: Config['workersHeap']): string[] {
  const flags = heapFlags(heap);
  // Neither flag is accepted in NODE_OPTIONS, so they are set here rather than on the command line.
  if (flags.length > 0) setFlagsFromString(flags.join(' '));
  return flags;
}
