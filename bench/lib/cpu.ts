// CPU time of processes from Linux /proc, for profiles that do not depend on the shared machine's
// load as much as wall time does. Clock ticks are USER_HZ (100 per second on Linux).
import { readdirSync, readFileSync } from 'node:fs';

const TICK_MS = 10;

interface Stat {
  comm: string;
  ppid: number;
  /** utime + stime of the process itself. */
  ownMs: number;
  /** cutime + cstime: children it has waited for. */
  childrenMs: number;
}

function stat(pid: number | 'self'): Stat | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const close = text.lastIndexOf(')');
    const comm = text.slice(text.indexOf('(') + 1, close);
    const f = text.slice(close + 2).split(' '); // f[0] is field 3 (state)
    const n = (field: number) => Number(f[field - 3]);
    return { comm, ppid: n(4), ownMs: (n(14) + n(15)) * TICK_MS, childrenMs: (n(16) + n(17)) * TICK_MS };
  } catch {
    return undefined; // gone meanwhile
  }
}

function cmdline(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
  } catch {
    return '';
  }
}

/** The processes named `comm` (and whose command line holds `cmdlineIncludes`), with their stat. */
function processesNamed(comm: string, cmdlineIncludes?: string): Stat[] {
  const found: Stat[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    const s = stat(Number(d));
    if (s?.comm === comm && (cmdlineIncludes === undefined || cmdline(Number(d)).includes(cmdlineIncludes))) found.push(s);
  }
  return found;
}

/**
 * CPU of every process named `comm`, plus what their parents of the same name have reaped: a
 * Postgres backend that exits is accounted in the postmaster's children time, so a run's
 * connections are counted even after they close. `cmdlineIncludes` picks one of several servers.
 */
export function cpuOfNamed(comm: string, cmdlineIncludes?: string): number {
  let ms = 0;
  for (const s of processesNamed(comm, cmdlineIncludes)) {
    ms += s.ownMs;
    if (stat(s.ppid)?.comm !== comm) ms += s.childrenMs; // the root of the tree (the postmaster)
  }
  return ms;
}

/** This process's own CPU, and that of the children it has reaped (finished CLI subprocesses). */
export function cpuOfSelf(): { ownMs: number; childrenMs: number } {
  const s = stat('self')!;
  return { ownMs: s.ownMs, childrenMs: s.childrenMs };
}
