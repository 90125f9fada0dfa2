// `ipcscope`: the command line. A small command table; each command lives in src/cli/<command>.ts and exports
// run(argv): Promise<exit code>. Adding a command is one line in COMMANDS.
import { TOOL_VERSION } from '../common/collector';
import { UsageError } from './usage';

interface CommandModule { run(argv: string[]): Promise<number> }
interface CommandEntry { summary: string; load: () => Promise<CommandModule> }

const COMMANDS: Record<string, CommandEntry> = {
  record: { summary: 'run a program under the shim and write an .ipctrace', load: () => import('./record') },
  export: { summary: 'convert an .ipctrace (--format jsonl, …)', load: () => import('./export') },
  summary: { summary: 'who talked to whom, who waited for whom, locks, pages, findings (--json)', load: () => import('./summary') },
};

const HELP = `IPC Scope ${TOOL_VERSION}: see what your processes say to each other.

usage: ipcscope <command> [options]

commands:
${Object.entries(COMMANDS).map(([n, c]) => `  ${n.padEnd(10)} ${c.summary}`).join('\n')}

  ipcscope <command> --help   options of one command
  ipcscope --version
`;

export async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  if (cmd === undefined || cmd === '--help' || cmd === '-h' || cmd === 'help') {
    (cmd === undefined ? process.stderr : process.stdout).write(HELP);
    return cmd === undefined ? 2 : 0;
  }
  if (cmd === '--version' || cmd === '-V') { process.stdout.write(`ipc-scope ${TOOL_VERSION}\n`); return 0; }
  const entry = Object.prototype.hasOwnProperty.call(COMMANDS, cmd) ? COMMANDS[cmd] : undefined;
  if (!entry) {
    process.stderr.write(`ipcscope: unknown command '${cmd}' (commands: ${Object.keys(COMMANDS).join(', ')}; try --help)\n`);
    return 2;
  }
  // A reader that stops early (`ipcscope export … | head`) closes our stdout: stop quietly with the status a tool
  // killed by SIGPIPE has (128 + 13), as cat or git do, instead of a stack or "write EPIPE".
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code !== 'EPIPE') throw e;
    process.exit(141);
  });
  try {
    return await (await entry.load()).run(rest);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EPIPE') return 141;
    if (e instanceof UsageError) { process.stderr.write(`ipcscope ${cmd}: ${e.message}\n`); return 2; }
    process.stderr.write(`ipcscope ${cmd}: ${(e as Error).message}\n`);
    return 1;
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).then((code) => { process.exitCode = code; }, (e) => {
    process.stderr.write(`ipcscope: ${(e as Error).stack ?? e}\n`);
    process.exitCode = 1;
  });
}
