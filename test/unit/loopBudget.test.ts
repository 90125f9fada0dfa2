// The live path's shared budget per turn of the event loop: what one participant spends, the next one in the same
// turn does not get (down to the minimum), and the next turn starts afresh.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loopBudget, LOOP_BUDGET_MS, MIN_SLICE_MS } from '../../src/common/loopBudget';
import { timelineTurns, TURN_SLICE_MS } from '../../src/common/timelineData';

const busy = (ms: number): void => { const end = performance.now() + ms; while (performance.now() < end) { /* work */ } };
const nextTurn = (): Promise<void> => new Promise((r) => setTimeout(r, 2)); // past the next timers phase

test('participants of one turn share the budget; each gets at least the minimum; the next turn starts afresh', async () => {
  await nextTurn();
  await new Promise<void>((r) => setImmediate(r)); // in a check phase, as the live path's slices are
  assert.equal(loopBudget.slice(6), 6, 'the first slice of a turn gets what it asks (less than the budget)');
  busy(LOOP_BUDGET_MS - 3);
  const second = loopBudget.slice(8);
  assert.ok(second <= 3 && second >= MIN_SLICE_MS, `the second gets what is left of the turn (${second} ms)`);
  busy(3);
  assert.equal(loopBudget.slice(8), MIN_SLICE_MS, 'a spent turn still gives the minimum');
  assert.equal(loopBudget.slice(0), 0, 'asking for nothing gets nothing');
  await nextTurn();
  await new Promise<void>((r) => setImmediate(r));
  assert.equal(loopBudget.slice(8), 8, 'the next turn has the whole budget again');
});

test('the timeline turn queue takes its slice from the shared budget', async () => {
  await nextTurn();
  await new Promise<void>((r) => setImmediate(r));
  loopBudget.slice(LOOP_BUDGET_MS);
  busy(LOOP_BUDGET_MS);
  // queued in this check phase, the queue's turn comes in the next one: a fresh budget
  await timelineTurns.next();
  const left = timelineTurns.left;
  assert.ok(left > TURN_SLICE_MS - 2 && left <= TURN_SLICE_MS, `a fresh turn's slice is the queue's own (${left} ms)`);
  busy(LOOP_BUDGET_MS);
  // a participant after it in the same turn gets the minimum
  assert.equal(loopBudget.slice(8), MIN_SLICE_MS);
});
