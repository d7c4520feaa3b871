/**
 * Handles of the WebAssembly engine's objects (maps, iterators, caches): `generation *
 * 2^32 + index`, as the addon's HandleTable (native/addon/handle_table.h). A closed or
 * forged handle never matches its slot (the slot's generation moved on), so every call
 * on it can throw ERR_GOMAP_CLOSED instead of touching freed memory.
 *
 * @module
 */

const TWO_32 = 0x1_0000_0000;
const MAX_GENERATION = 2 ** 21;

/** A slot table of records named by generation-checked handles. */
export class HandleTable<T extends { handle: number }> {
  readonly slots: (T | undefined)[] = [];
  readonly generations: number[] = [];
  readonly free: number[] = [];
  live = 0;

  add(make: (handle: number) => T): T {
    const index = this.free.length > 0 ? this.free.pop()! : this.slots.length;
    if (index === this.slots.length) {
      this.slots.push(undefined);
      this.generations.push(1);
    }
    const record = make(this.generations[index]! * TWO_32 + index);
    this.slots[index] = record;
    this.live++;
    return record;
  }

  find(handle: number): T | undefined {
    // handle >>> 0 is handle mod 2^32 for the integers handles are (any other number
    // lands on some slot whose record.handle then differs).
    const record = this.slots[handle >>> 0];
    return record !== undefined && record.handle === handle ? record : undefined;
  }

  remove(record: T): void {
    const index = record.handle >>> 0;
    this.slots[index] = undefined;
    const g = this.generations[index]! + 1;
    this.generations[index] = g >= MAX_GENERATION ? 1 : g;
    this.free.push(index);
    this.live--;
  }
}
