import { describe, expect, it } from 'vitest';
import type { EditRequest } from '../../src/contracts/edit-request.js';
import { createRandom } from '../../src/index.js';
import { epochOrder, relationKey } from '../../src/recipe/epoch-order.js';

const templates = ['By trade, {} is a', '{} has a pet', 'The mother tongue of {} is'];
/** 30 edits, 10 per relation, subjects "Name 0" … "Name 29". */
const requests: EditRequest[] = Array.from({ length: 30 }, (_, i) => {
  const subject = `Name ${i}`;
  return { id: `e${i}`, prompt: (templates[i % 3] as string).replace('{}', subject), subject, targetNew: 'x', generality: [], locality: [] };
});

/** The uniform Fisher–Yates order the trainer drew before relation groups existed. */
function plainShuffle(count: number, random: () => number): number[] {
  const order = Array.from({ length: count }, (_, k) => k);
  for (let k = count - 1; k > 0; k--) {
    const j = Math.floor(random() * (k + 1));
    [order[k], order[j]] = [order[j] as number, order[k] as number];
  }
  return order;
}

describe('epochOrder', () => {
  it('keys an edit by its prompt with the subject cut out', () => {
    expect(relationKey(requests[0] as EditRequest)).toBe('By trade, {} is a');
    expect(relationKey({ ...(requests[0] as EditRequest), subject: 'absent' })).toBe('By trade, Name 0 is a');
  });

  it('with group size 1 is the uniform shuffle the trainer always drew (resumed runs keep their order)', () => {
    expect(epochOrder(requests, 1, createRandom(7))).toEqual(plainShuffle(30, createRandom(7)));
  });

  it('with group size k lists every edit once, in runs of k edits of one relation', () => {
    const order = epochOrder(requests, 4, createRandom(7));
    expect([...order].sort((a, b) => a - b)).toEqual(Array.from({ length: 30 }, (_, k) => k));
    // 10 edits per relation → runs of 4, 4, 2: walk the order run by run.
    const runs: string[][] = [];
    for (const index of order) {
      const key = relationKey(requests[index] as EditRequest);
      const last = runs.at(-1);
      if (last && last[0] === key && last.length < 4) last.push(key);
      else runs.push([key]);
    }
    expect(runs.map((run) => run.length).sort()).toEqual([2, 2, 2, 4, 4, 4, 4, 4, 4]);
    expect(epochOrder(requests, 4, createRandom(7))).toEqual(order);
    expect(epochOrder(requests, 4, createRandom(8))).not.toEqual(order);
  });
});
