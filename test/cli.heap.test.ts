import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { heapFlags } from '../src/cli/heap';

describe('workers heap settings', () => {
  it('turn WORKERS_HEAP_GROWING_PERCENT and WORKERS_SEMI_SPACE_MB into V8 flags; 0 leaves V8 its own choice', () => {
    expect(heapFlags({ growingPercent: 25, semiSpaceMb: 8 })).toEqual(['--heap-growing-percent=25', '--max-semi-space-size=8']);
    expect(heapFlags({ growingPercent: 0, semiSpaceMb: 4 })).toEqual(['--max-semi-space-size=4']);
    expect(heapFlags({ growingPercent: 40, semiSpaceMb: 0 })).toEqual(['--heap-growing-percent=40']);
    expect(heapFlags({ growingPercent: 0, semiSpaceMb: 0 })).toEqual([]);
  });

  it('are flags this Node.js knows (v8.setFlagsFromString ignores unknown ones; the command line refuses them)', () => {
    const known = spawnSync(process.execPath, [...heapFlags({ growingPercent: 25, semiSpaceMb: 8 }), '-e', '0'], { encoding: 'utf8' });
    expect(known.stderr).toBe('');
    expect(known.status).toBe(0);
    // The check can fail: a misspelt flag is refused.
    const unknown = spawnSync(process.execPath, ['--heap-growing-percentage=25', '-e', '0'], { encoding: 'utf8' });
    expect(unknown.status).not.toBe(0);
    expect(unknown.stderr).toMatch(/bad option/);
  });
});
