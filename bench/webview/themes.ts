// The --vscode-* variables VS Code gives a webview, for the three built-in theme families (Dark Modern, Light
// Modern, High Contrast), so the standalone harness page shows the webview as the editor would.
export type HarnessTheme = 'dark' | 'light' | 'high-contrast';

const common: Record<string, string> = {
  'font-family': 'system-ui, -apple-system, "Segoe UI", "Ubuntu", "Droid Sans", sans-serif',
  'font-size': '13px',
  'font-weight': 'normal',
  'editor-font-family': '"Droid Sans Mono", "monospace", monospace',
  'editor-font-size': '12px',
};

export const THEMES: Record<HarnessTheme, { bodyClass: string; kind: string; vars: Record<string, string> }> = {
  dark: {
    bodyClass: 'vscode-dark', kind: 'vscode-dark',
    vars: {
      ...common,
      'foreground': '#cccccc', 'descriptionForeground': '#9d9d9d', 'disabledForeground': '#8c8c8c', 'errorForeground': '#f85149',
      'focusBorder': '#0078d4', 'widget-border': '#313131', 'widget-shadow': 'rgba(0, 0, 0, 0.36)',
      'editor-background': '#1f1f1f', 'editor-foreground': '#cccccc', 'editor-selectionBackground': '#264f78',
      'sideBar-background': '#181818', 'panel-border': '#2b2b2b', 'editorWidget-background': '#202020',
      'editorHoverWidget-background': '#202020', 'editorHoverWidget-foreground': '#cccccc', 'editorHoverWidget-border': '#454545',
      'textLink-foreground': '#4daafc', 'textLink-activeForeground': '#4daafc', 'textCodeBlock-background': '#2b2b2b',
      'charts-foreground': '#cccccc', 'charts-lines': 'rgba(204, 204, 204, 0.5)', 'charts-red': '#f14c4c', 'charts-blue': '#3794ff',
      'charts-yellow': '#cca700', 'charts-orange': '#d18616', 'charts-green': '#89d185', 'charts-purple': '#b180d7',
      'terminal-ansiCyan': '#11a8cd', 'terminal-ansiMagenta': '#bc3fbc', 'terminal-ansiBrightBlue': '#3b8eea', 'terminal-ansiYellow': '#e5e510',
      'input-background': '#313131', 'input-foreground': '#cccccc', 'input-border': '#3c3c3c', 'input-placeholderForeground': '#989898',
      'button-background': '#0078d4', 'button-foreground': '#ffffff', 'button-hoverBackground': '#026ec1', 'button-border': 'rgba(255, 255, 255, 0.07)',
      'button-secondaryBackground': '#313131', 'button-secondaryForeground': '#cccccc', 'button-secondaryHoverBackground': '#3c3c3c',
      'dropdown-background': '#313131', 'dropdown-foreground': '#cccccc', 'dropdown-border': '#3c3c3c', 'dropdown-listBackground': '#1f1f1f',
      'checkbox-background': '#313131', 'checkbox-border': '#3c3c3c', 'checkbox-foreground': '#cccccc',
      'list-activeSelectionBackground': '#04395e', 'list-activeSelectionForeground': '#ffffff', 'list-hoverBackground': '#2a2d2e',
      'quickInput-background': '#222222', 'badge-background': '#616161', 'badge-foreground': '#f8f8f8',
      'scrollbarSlider-background': 'rgba(121, 121, 121, 0.4)', 'scrollbarSlider-hoverBackground': 'rgba(100, 100, 100, 0.7)',
    },
  },
  light: {
    bodyClass: 'vscode-light', kind: 'vscode-light',
    vars: {
      ...common,
      'foreground': '#3b3b3b', 'descriptionForeground': '#717171', 'disabledForeground': '#8c8c8c', 'errorForeground': '#a1260d',
      'focusBorder': '#005fb8', 'widget-border': '#e5e5e5', 'widget-shadow': 'rgba(0, 0, 0, 0.16)',
      'editor-background': '#ffffff', 'editor-foreground': '#3b3b3b', 'editor-selectionBackground': '#add6ff',
      'sideBar-background': '#f8f8f8', 'panel-border': '#e5e5e5', 'editorWidget-background': '#f8f8f8',
      'editorHoverWidget-background': '#f8f8f8', 'editorHoverWidget-foreground': '#3b3b3b', 'editorHoverWidget-border': '#c8c8c8',
      'textLink-foreground': '#005fb8', 'textLink-activeForeground': '#005fb8', 'textCodeBlock-background': '#f2f2f2',
      'charts-foreground': '#3b3b3b', 'charts-lines': 'rgba(59, 59, 59, 0.5)', 'charts-red': '#e51400', 'charts-blue': '#1a85ff',
      'charts-yellow': '#bf8803', 'charts-orange': '#d18616', 'charts-green': '#388a34', 'charts-purple': '#652d90',
      'terminal-ansiCyan': '#0598bc', 'terminal-ansiMagenta': '#bc05bc', 'terminal-ansiBrightBlue': '#0451a5', 'terminal-ansiYellow': '#949800',
      'input-background': '#ffffff', 'input-foreground': '#3b3b3b', 'input-border': '#cecece', 'input-placeholderForeground': '#767676',
      'button-background': '#005fb8', 'button-foreground': '#ffffff', 'button-hoverBackground': '#0258a8', 'button-border': 'rgba(0, 0, 0, 0.1)',
      'button-secondaryBackground': '#e5e5e5', 'button-secondaryForeground': '#3b3b3b', 'button-secondaryHoverBackground': '#cccccc',
      'dropdown-background': '#ffffff', 'dropdown-foreground': '#3b3b3b', 'dropdown-border': '#cecece', 'dropdown-listBackground': '#ffffff',
      'checkbox-background': '#f8f8f8', 'checkbox-border': '#cecece', 'checkbox-foreground': '#3b3b3b',
      'list-activeSelectionBackground': '#e8e8e8', 'list-activeSelectionForeground': '#000000', 'list-hoverBackground': '#f2f2f2',
      'quickInput-background': '#f8f8f8', 'badge-background': '#cccccc', 'badge-foreground': '#3b3b3b',
      'scrollbarSlider-background': 'rgba(100, 100, 100, 0.4)', 'scrollbarSlider-hoverBackground': 'rgba(100, 100, 100, 0.7)',
    },
  },
  'high-contrast': {
    bodyClass: 'vscode-high-contrast', kind: 'vscode-high-contrast',
    vars: {
      ...common,
      'foreground': '#ffffff', 'descriptionForeground': 'rgba(255, 255, 255, 0.7)', 'disabledForeground': '#a5a5a5', 'errorForeground': '#f48771',
      'focusBorder': '#f38518', 'contrastBorder': '#6fc3df', 'contrastActiveBorder': '#f38518', 'widget-border': '#6fc3df', 'widget-shadow': 'transparent',
      'editor-background': '#000000', 'editor-foreground': '#ffffff', 'editor-selectionBackground': '#ffffff',
      'sideBar-background': '#000000', 'panel-border': '#6fc3df', 'editorWidget-background': '#0c141f',
      'editorHoverWidget-background': '#0c141f', 'editorHoverWidget-foreground': '#ffffff', 'editorHoverWidget-border': '#6fc3df',
      'textLink-foreground': '#21a6ff', 'textLink-activeForeground': '#21a6ff', 'textCodeBlock-background': '#000000',
      'charts-foreground': '#ffffff', 'charts-lines': '#ffffff', 'charts-red': '#ff8b8b', 'charts-blue': '#67b7ff',
      'charts-yellow': '#ffd700', 'charts-orange': '#ffb347', 'charts-green': '#89d185', 'charts-purple': '#d6a6ff',
      'terminal-ansiCyan': '#00ffff', 'terminal-ansiMagenta': '#ff66ff', 'terminal-ansiBrightBlue': '#80b3ff', 'terminal-ansiYellow': '#ffff00',
      'input-background': '#000000', 'input-foreground': '#ffffff', 'input-border': '#6fc3df', 'input-placeholderForeground': 'rgba(255, 255, 255, 0.7)',
      'button-background': '#000000', 'button-foreground': '#ffffff', 'button-border': '#6fc3df', 'button-hoverBackground': '#000000',
      'button-secondaryBackground': '#000000', 'button-secondaryForeground': '#ffffff', 'button-secondaryHoverBackground': '#000000',
      'dropdown-background': '#000000', 'dropdown-foreground': '#ffffff', 'dropdown-border': '#6fc3df', 'dropdown-listBackground': '#000000',
      'checkbox-background': '#000000', 'checkbox-border': '#6fc3df', 'checkbox-foreground': '#ffffff',
      'list-activeSelectionBackground': '#000000', 'list-activeSelectionForeground': '#ffffff', 'list-hoverBackground': '#000000',
      'quickInput-background': '#000000', 'badge-background': '#000000', 'badge-foreground': '#ffffff',
      'scrollbarSlider-background': 'rgba(111, 195, 223, 0.6)', 'scrollbarSlider-hoverBackground': 'rgba(111, 195, 223, 0.8)',
    },
  },
};

// The settings-editor colours @vscode-elements reads; VS Code derives them from the input and dropdown colours.
for (const t of Object.values(THEMES)) {
  const v = t.vars;
  Object.assign(v, {
    'settings-textInputBackground': v['input-background'], 'settings-textInputForeground': v['input-foreground'],
    'settings-textInputBorder': v['input-border'], 'settings-dropdownBackground': v['dropdown-background'],
    'settings-dropdownForeground': v['dropdown-foreground'], 'settings-dropdownBorder': v['dropdown-border'],
    'settings-dropdownListBorder': v['dropdown-border'], 'settings-checkboxBackground': v['checkbox-background'],
    'settings-checkboxBorder': v['checkbox-border'], 'list-focusOutline': v['focusBorder'], 'toolbar-hoverOutline': v['contrastActiveBorder'] ?? 'transparent',
    'list-highlightForeground': v['textLink-foreground'], 'list-focusHighlightForeground': v['textLink-foreground'],
  });
}
