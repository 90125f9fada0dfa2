// The terminal a session owns: program output goes here and what the user types goes to the program's stdin.
// The program's stdin is a pipe, not a tty, so this terminal echoes and edits the line itself and sends it on Enter.
import * as vscode from 'vscode';

export class ProgramTerminal implements vscode.Pseudoterminal {
  private readonly writeEmitter = new vscode.EventEmitter<string>();
  private readonly closeEmitter = new vscode.EventEmitter<number | void>();
  readonly onDidWrite = this.writeEmitter.event;
  readonly onDidClose = this.closeEmitter.event;
  private line = '';
  private lastWasCr = false;
  private opened = false;
  private pending: string[] = [];
  readonly terminal: vscode.Terminal;
  /** Everything written so far (tests read it; bounded). */
  transcript = '';

  constructor(name: string, private readonly input: (text: string) => void, private readonly endInput: () => void, private readonly onUserClose: () => void) {
    this.terminal = vscode.window.createTerminal({ name, pty: this, iconPath: new vscode.ThemeIcon('pulse') });
  }

  open(): void {
    this.opened = true;
    for (const p of this.pending) this.writeEmitter.fire(p);
    this.pending = [];
  }

  close(): void { this.onUserClose(); }

  /** Program output: bare \n becomes \r\n so lines start at column 0. */
  write(text: string): void {
    this.transcript = (this.transcript + text).slice(-65536);
    const t = text.replace(/\r?\n/g, '\r\n');
    if (this.opened) this.writeEmitter.fire(t); else this.pending.push(t);
  }

  handleInput(data: string): void {
    for (const ch of data) {
      // Enter arrives as \r from the keyboard, \n or \r\n from sendText: one line each time.
      const crlf = ch === '\n' && this.lastWasCr;
      this.lastWasCr = ch === '\r';
      if (crlf) continue;
      if (ch === '\r' || ch === '\n') { this.writeEmitter.fire('\r\n'); this.input(`${this.line}\n`); this.line = ''; }
      else if (ch === '\x7f') { if (this.line) { this.line = this.line.slice(0, -1); this.writeEmitter.fire('\b \b'); } }
      else if (ch === '\x04') this.endInput(); // Ctrl-D: end of input, like a terminal's EOF
      else if (ch >= ' ') { this.line += ch; this.writeEmitter.fire(ch); }
    }
  }

  /** Ends the terminal (the session is over and the user asked to close it). */
  dispose(): void { this.closeEmitter.fire(); this.terminal.dispose(); }
}
