// The webview's side of the host channel: typed post, request/reply by message id, and the saved state
// (getState/setState, which VS Code keeps across hide/show and, with the panel serializer, across reloads).
import {
  WEBVIEW_PROTOCOL_VERSION, type FromWebviewMessage, type ReplyOf, type RequestOf, type ToWebviewMessage, type WebviewRequest,
} from '../../src/common/webviewProtocol';

interface VsCodeApi { postMessage(message: unknown): void; getState(): unknown; setState(state: unknown): void }
declare function acquireVsCodeApi(): VsCodeApi;

export class HostChannel<State> {
  private readonly api: VsCodeApi = acquireVsCodeApi();
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (r: unknown) => void; reject: (e: Error) => void }>();
  private readonly listeners: ((m: ToWebviewMessage) => void)[] = [];

  constructor() {
    window.addEventListener('message', (e: MessageEvent) => {
      const m = e.data as ToWebviewMessage;
      if (!m || typeof m !== 'object' || typeof (m as { type?: unknown }).type !== 'string') return;
      if (m.type === 'reply' || m.type === 'replyError') {
        const p = this.pending.get(m.inReplyTo);
        if (!p) return;
        this.pending.delete(m.inReplyTo);
        if (m.type === 'reply') p.resolve(m.reply); else p.reject(new Error(m.message));
        return;
      }
      for (const l of this.listeners) l(m);
    });
  }

  onMessage(listener: (m: ToWebviewMessage) => void): void { this.listeners.push(listener); }
  post(m: FromWebviewMessage): void { this.api.postMessage(m); }
  /** Tells the host the listeners are in place; it answers with `init`. */
  ready(): void { this.post({ type: 'ready', protocol: WEBVIEW_PROTOCOL_VERSION }); }

  request<T extends WebviewRequest['type']>(request: RequestOf<T>): Promise<ReplyOf<T>> {
    const messageId = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(messageId, { resolve: resolve as (r: unknown) => void, reject });
      this.post({ type: 'request', messageId, request });
    });
  }
  get pendingRequests(): number { return this.pending.size; }

  getState(): Partial<State> { const s = this.api.getState(); return s && typeof s === 'object' ? (s as Partial<State>) : {}; }
  setState(s: State): void { this.api.setState(s); }
}
