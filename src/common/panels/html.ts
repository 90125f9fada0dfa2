// The HTML shell of a panel webview, shared by the extension host and the browser-test harness so both load the
// bundle under the same Content-Security-Policy: nothing by default, our script only by nonce, styles by nonce.
import type { PanelKind } from './protocol';

export interface PanelHtmlOptions {
  kind: PanelKind;
  /** URI of out/webview/<kind>.js as the webview may load it. */
  scriptUri: string;
  /** webview.cspSource (the origin local resources are served from). */
  cspSource: string;
  /** Fresh per render, from crypto (never Math.random). */
  nonce: string;
  lang: string;
  title: string;
}

export function panelHtml(o: PanelHtmlOptions): string {
  const csp = [`default-src 'none'`, `img-src ${o.cspSource} data:`, `style-src ${o.cspSource} 'nonce-${o.nonce}'`,
    `font-src ${o.cspSource}`, `script-src 'nonce-${o.nonce}'`].join('; ');
  const esc = (s: string) => s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);
  return `<!DOCTYPE html>
<html lang="${esc(o.lang)}">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<title>${esc(o.title)}</title>
</head>
<body data-panel="${o.kind}">
<script nonce="${o.nonce}" src="${esc(o.scriptUri)}"></script>
</body>
</html>`;
}
