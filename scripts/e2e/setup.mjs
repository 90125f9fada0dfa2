#!/usr/bin/env node
// Installs, when missing, the pinned Node 24 and code-server that the real-editor tests and `npm start` use,
// into ${IPCSCOPE_CACHE:-$HOME/.cache/ipc-scope} (outside the git clone), and reuses them afterwards.
// Prints the resolved paths as JSON on stdout.
import { ensureEditor } from './editor.mjs';

try {
  console.log(JSON.stringify(ensureEditor()));
} catch (e) {
  console.error(`[setup] ${e.message}`);
  process.exit(1);
}
