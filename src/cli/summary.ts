// `ipcscope summary [--json] FILE.ipctrace`: who talked to whom, who waited for whom, locks, pages and findings.
// The JSON form is documented field by field in docs/summary.md.
import { readTraceFile } from '../common/traceFile';
import { TraceModel, summarize, formatSummary } from '../common/model';
import { parse, UsageError } from './usage';

const HELP = `usage: ipcscope summary [--json] [--no-call-sites] FILE.ipctrace

  --json            the summary as JSON (docs/summary.md)
  --no-call-sites   do not resolve lock call sites with addr2line
`;

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, {
    json: { type: 'boolean' }, 'no-call-sites': { type: 'boolean' }, help: { type: 'boolean', short: 'h' },
  });
  if (values.help) { process.stdout.write(HELP); return 0; }
  if (positionals.length !== 1) throw new UsageError(`expected one trace file, got ${positionals.length}\n${HELP}`);
  const store = await readTraceFile(positionals[0]);
  if (store.cutOff) process.stderr.write(`ipcscope summary: warning: ${positionals[0]}: ${store.cutOff}; summarizing what is there\n`);
  const model = new TraceModel(store);
  model.update({ flush: true });
  const s = summarize(model, { callSites: !values['no-call-sites'] });
  process.stdout.write(values.json ? JSON.stringify(s, null, 2) + '\n' : formatSummary(s));
  return 0;
}
