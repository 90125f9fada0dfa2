// The page/locks/map panels in the real extension host, linked to the timeline: selecting an event in the timeline
// (what Reveal in Timeline does) moves the shared cursor, and the open locks panel follows it; a panel's cursor
// reaches the timeline's host side. The program is the fixture pipe_hello.c traced for real.
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import type { TraceSession } from '../../../src/host/session';
import { kindId } from '../../../src/common/vocabulary';
import { api, fixture, waitFor } from './helpers';

describe('panels linked to the timeline', () => {
  it('an event selected in the timeline moves the locks panel\'s cursor to its time', async () => {
    const a = await api();
    const s = await vscode.commands.executeCommand<TraceSession>('ipcScope.traceProgram', vscode.Uri.file(fixture('pipe_hello.c')));
    assert.ok(s && s.state !== 'failed', s?.error);
    await s.whenEnded();
    a.sessions.setCurrent(s);
    assert.equal(await vscode.commands.executeCommand('ipcScope.showTimeline', s), true);
    await vscode.commands.executeCommand('ipcScope.showLocks');
    await waitFor('the locks panel bound to the session', () => a.panels.cursorOf('locks') !== undefined, 20_000);
    const store = s.store!;
    let index = -1;
    for (let i = 0; i < store.count && index < 0; i++) if (store.get(i).kind === kindId('write')) index = i;
    assert.ok(index >= 0, 'the program writes');
    await vscode.commands.executeCommand('ipcScope.revealInTimeline', { type: 'event', index });
    await waitFor(`the timeline to select event ${index}`, () => a.timeline.selectedEvent(s.id) === index, 20_000);
    const ts = store.get(index).ts;
    await waitFor('the shared cursor at the event', () => a.panels.cursorNs === ts, 10_000);
    await waitFor('the locks panel following it', () => a.panels.cursorOf('locks') === ts, 10_000);
    // A panel moving the cursor (its scrubber) tells everyone else, the locks panel excepted as the origin.
    const later = ts + 1000n;
    a.panels.setCursor(later, 'pages');
    assert.equal(a.panels.cursorOf('locks'), later);
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });
});
