// Registers the @vscode-elements/elements controls the panels use (each import defines its custom element).
// Imported one by one so a panel's bundle carries only what it shows.
import '@vscode-elements/elements/dist/vscode-button/index.js';
import '@vscode-elements/elements/dist/vscode-checkbox/index.js';
import '@vscode-elements/elements/dist/vscode-textfield/index.js';
import '@vscode-elements/elements/dist/vscode-single-select/index.js';
import '@vscode-elements/elements/dist/vscode-multi-select/index.js';
import '@vscode-elements/elements/dist/vscode-option/index.js';
import '@vscode-elements/elements/dist/vscode-badge/index.js';
import '@vscode-elements/elements/dist/vscode-divider/index.js';

/** The value of a vscode-multi-select as a string list. */
export function multiValue(el: Element): string[] {
  const v = (el as unknown as { value: string[] | string }).value;
  return Array.isArray(v) ? v : v ? [v] : [];
}
