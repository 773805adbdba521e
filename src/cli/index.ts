import { buildProgram } from './commands';
import { runProgram } from './program';

process.exitCode = await runProgram(buildProgram(), process.argv);
