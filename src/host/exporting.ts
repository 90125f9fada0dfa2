// Export Trace: the .ipctrace itself (a copy of the file the session streamed to or was opened from), or the
// Perfetto / Chrome JSON formats through the model's exporters (src/common/model/export*.ts).
import * as vscode from 'vscode';
import { writeFile } from 'node:fs/promises';
import { TraceModel, encodePerfetto, chromeTrace } from '../common/model';
import type { TraceSession } from './session';

export type ExportFormat = 'ipctrace' | 'perfetto' | 'chrome';
export const EXPORT_FORMATS: readonly { id: ExportFormat; extension: string; label: () => string }[] = [
  { id: 'ipctrace', extension: '.ipctrace', label: () => vscode.l10n.t('IPC Scope trace (.ipctrace)') },
  { id: 'perfetto', extension: '.perfetto-trace', label: () => vscode.l10n.t('Perfetto trace (.perfetto-trace)') },
  { id: 'chrome', extension: '.json', label: () => vscode.l10n.t('Chrome trace JSON (.json)') },
];

export async function exportSession(s: TraceSession, format: ExportFormat, target: string,
  copy: (from: string, to: string) => Promise<void>): Promise<void> {
  if (format === 'ipctrace') {
    if (!s.traceFile) throw new Error(vscode.l10n.t('this session has no trace file'));
    if (s.traceFile !== target) await copy(s.traceFile, target);
    return;
  }
  if (!s.store) throw new Error(vscode.l10n.t('this session has no events'));
  // A model of its own, flushed: the view model of a live session holds back its newest events.
  const m = new TraceModel(s.store);
  m.update({ flush: true });
  if (format === 'perfetto') await writeFile(target, encodePerfetto(m).bytes);
  else await writeFile(target, JSON.stringify(chromeTrace(m)));
}
