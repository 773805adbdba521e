import type { Command } from 'commander';
import { createProgram, runProgram } from '../../src/cli/program';

/**
 * Runs CLI commands inside the test process (milliseconds instead of a tsx start-up per case),
 * for the many flag-validation cases; subprocess tests cover the real binary and exit codes.
 */
export async function runInProcess(
  register: (program: Command) => void,
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  const program = createProgram();
  register(program);
  let stdout = '';
  let stderr = '';
  const log = console.log;
  const write = process.stderr.write.bind(process.stderr);
  const saved = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]));
  Object.assign(process.env, env);
  console.log = (...parts: unknown[]) => {
    stdout += `${parts.join(' ')}\n`;
  };
  process.stderr.write = ((chunk: string | Uint8Array) => {
    stderr += chunk.toString();
    return true;
  }) as typeof process.stderr.write;
  try {
    const code = await runProgram(program, ['node', 'analytics', ...args]);
    return { code, stdout, stderr };
  } finally {
    console.log = log;
    process.stderr.write = write;
    process.exitCode = undefined;
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}
