/**
 * User code that runs in the middle of a GoMap call and changes (or closes) the map:
 * `toJSON` of a 'json' value, getters read by the 'v8' serializer, the iterables given
 * to getMany / setMany / the constructor, forEach callbacks. API.md: "No input from
 * JavaScript, however wrong, may crash or hang the process", "mutating during iteration
 * never throws and never corrupts the map", and the map behaves like a `Map`: after the
 * call, its contents are exactly what the calls made, in the order they ran.
 */
import { describe, expect, it } from 'vitest';
import { describeEachBackend } from './helpers/backends.ts';
import {
  Model,
  bulkKey,
  expectClosed,
  expectMapMatches,
  isAllowedError,
  isClosedError,
  makeMap,
  thrown,
  type KeyKindName,
} from './helpers/kinds.ts';

describeEachBackend('GoMap: re-entrant user code', () => {
  describe("a 'json' value's toJSON that changes the map", () => {
    for (const keyKind of ['any', 'string', 'i64'] as const) {
      it(`inserts other keys ('${keyKind}' keys): both writes land, like Map`, () => {
        const m = makeMap({ key: keyKind, value: 'json' });
        const model = new Model(keyKind, 'json');
        const outer = keyKind === 'any' ? { outer: 1 } : bulkKey(keyKind, 1);
        const inner = keyKind === 'any' ? { inner: 2 } : bulkKey(keyKind, 2);
        const v = {
          toJSON(): unknown {
            m.set(inner, 'inner value');
            model.set(inner, 'inner value');
            return { outer: true };
          },
        };
        m.set(outer, v);
        model.set(outer, { outer: true });
        expectMapMatches(m, model);
        expect(m.get(inner)).toBe('inner value');
        expect(m.get(outer)).toEqual({ outer: true });
      });

      it(`inserts many keys (the table grows under the outer set) ('${keyKind}' keys)`, () => {
        const m = makeMap({ key: keyKind, value: 'json' });
        const model = new Model(keyKind, 'json');
        const outer = keyKind === 'any' ? { outer: 1 } : bulkKey(keyKind, 0);
        const v = {
          toJSON(): unknown {
            for (let i = 1; i < 3000; i++) {
              const k = bulkKey(keyKind, i);
              m.set(k, i);
              model.set(k, i);
            }
            return 'outer';
          },
        };
        m.set(outer, v);
        model.set(outer, 'outer');
        expectMapMatches(m, model);
      });

      it(`deletes the key being set, or clears the map ('${keyKind}' keys)`, () => {
        const m = makeMap({ key: keyKind, value: 'json' });
        const model = new Model(keyKind, 'json');
        const k = keyKind === 'any' ? { k: 1 } : bulkKey(keyKind, 7);
        m.set(k, 'old');
        for (let i = 10; i < 20; i++) m.set(bulkKey(keyKind, i), i);
        m.set(k, {
          toJSON(): unknown {
            m.delete(k);
            return 'after delete';
          },
        });
        for (let i = 10; i < 20; i++) model.set(bulkKey(keyKind, i), i);
        model.set(k, 'after delete');
        expectMapMatches(m, model);
        m.set(k, {
          toJSON(): unknown {
            m.clear();
            return 'after clear';
          },
        });
        model.clear();
        model.set(k, 'after clear');
        expectMapMatches(m, model);
      });
    }

    it('setMany whose values insert identity keys while being encoded', () => {
      const m = makeMap({ key: 'any', value: 'json' });
      const model = new Model('any', 'json');
      const a = { a: 1 };
      const b = { b: 1 };
      const sneaky = { sneaky: 1 };
      m.setMany([
        [a, 1],
        [
          b,
          {
            toJSON(): unknown {
              m.set(sneaky, 'sneaky');
              return 2;
            },
          },
        ],
      ]);
      model.set(sneaky, 'sneaky');
      model.set(a, 1);
      model.set(b, 2);
      expectMapMatches(m, model);
    });

    it('closes the map: ERR_GOMAP_CLOSED (or a clean stop), never a crash', () => {
      for (const keyKind of ['any', 'string'] as const) {
        const m = makeMap({ key: keyKind, value: 'json' });
        m.set(bulkKey(keyKind, 1), 1);
        const e = thrown(() =>
          m.set(bulkKey(keyKind, 2), {
            toJSON(): unknown {
              m.close();
              return 1;
            },
          }),
        );
        expect(isClosedError(e), String(e)).toBe(true);
        expectClosed(() => m.size);
        const n = makeMap({ key: keyKind, value: 'json' });
        const e2 = thrown(() =>
          n.setMany([
            [bulkKey(keyKind, 1), 1],
            [
              bulkKey(keyKind, 2),
              {
                toJSON(): unknown {
                  n.close();
                  return 2;
                },
              },
            ],
          ]),
        );
        expect(isClosedError(e2), String(e2)).toBe(true);
      }
    });
  });

  describe("a 'v8' value's getter that changes the map", () => {
    it('inserts and deletes while the value is serialized', () => {
      const m = makeMap({ key: 'any', value: 'v8' });
      const model = new Model('any', 'v8');
      const victim = { victim: true };
      m.set(victim, 'bye');
      const newcomer = { newcomer: true };
      const k = { k: 1 };
      const value = {
        get x(): number {
          m.delete(victim);
          m.set(newcomer, [1, 2]);
          return 42;
        },
      };
      const e = (() => {
        try {
          m.set(k, value);
          return undefined;
        } catch (err) {
          return err;
        }
      })();
      if (e !== undefined) {
        // a serializer that refuses accessors is fine too, as long as it is a TypeError
        expect(e).toBeInstanceOf(TypeError);
        return;
      }
      model.set(newcomer, [1, 2]);
      model.set(k, { x: 42 });
      expectMapMatches(m, model);
    });
  });

  describe('iterables given to batch calls and the constructor', () => {
    it('getMany keys iterator that inserts and deletes', () => {
      const m = makeMap({ key: 'any', value: 'f64' });
      const o = { o: 1 };
      m.set(o, 1).set('s', 2);
      function* keys(): Generator<unknown> {
        yield o;
        m.delete(o);
        m.set('t', 3);
        yield 's';
        yield 't';
        yield o;
      }
      const got = m.getMany(keys());
      // the keys were all read before the lookups (one native call) or one by one:
      // either way every answer matches the final state or the state when it was read
      expect(got).toHaveLength(4);
      expect(got[1]).toBe(2);
      expect(got[2]).toBe(3);
      expect(got[3]).toBeUndefined();
      expect([undefined, 1]).toContain(got[0]);
      expect(m.size).toBe(2);
    });

    it('getMany / setMany keys iterator that closes the map: ERR_GOMAP_CLOSED, no crash', () => {
      for (const keyKind of ['any', 'string', 'i64', 'bytes', 'f64'] as const) {
        const m = makeMap({ key: keyKind, value: 'f64' });
        m.set(bulkKey(keyKind, 1), 1);
        function* keys(): Generator<unknown> {
          yield bulkKey(keyKind, 1);
          m.close();
          yield bulkKey(keyKind, 2);
        }
        const e = thrown(() => m.getMany(keys()));
        expect(isClosedError(e), `${keyKind} getMany: ${String(e)}`).toBe(true);
        const n = makeMap({ key: keyKind, value: 'f64' });
        function* entries(): Generator<[unknown, number]> {
          yield [bulkKey(keyKind, 1), 1];
          n.close();
          yield [bulkKey(keyKind, 2), 2];
        }
        const e2 = thrown(() => n.setMany(entries()));
        expect(isClosedError(e2), `${keyKind} setMany: ${String(e2)}`).toBe(true);
      }
    });

    it('setMany entries iterator that changes the map: its changes, then the batch', () => {
      for (const keyKind of ['any', 'i64'] as const satisfies readonly KeyKindName[]) {
        const m = makeMap({ key: keyKind, value: 'f64' });
        const model = new Model(keyKind, 'f64');
        for (let i = 0; i < 100; i++) {
          m.set(bulkKey(keyKind, i), i);
          model.set(bulkKey(keyKind, i), i);
        }
        function* entries(): Generator<[unknown, number]> {
          for (let i = 100; i < 200; i++) {
            m.delete(bulkKey(keyKind, i - 100));
            m.set(bulkKey(keyKind, i + 1000), -i);
            yield [bulkKey(keyKind, i), i];
          }
        }
        for (let i = 100; i < 200; i++) {
          model.delete(bulkKey(keyKind, i - 100));
          model.set(bulkKey(keyKind, i + 1000), -i);
        }
        m.setMany(entries());
        for (let i = 100; i < 200; i++) model.set(bulkKey(keyKind, i), i);
        expectMapMatches(m, model);
      }
    });

    it('entry objects whose getters throw: the error comes through, map unchanged', () => {
      const m = makeMap({ key: 'string', value: 'f64' });
      m.set('keep', 1);
      const model = new Model('string', 'f64');
      model.set('keep', 1);
      const boom = new Error('getter');
      const evil = {
        get 0(): string {
          throw boom;
        },
        1: 5,
      };
      expect(thrown(() => m.setMany([['a', 1], evil as unknown as [string, number]]))).toBe(boom);
      expectMapMatches(m, model);
    });
  });

  describe('forEach callbacks', () => {
    it('closing the map inside forEach: ERR_GOMAP_CLOSED or a clean stop, never a crash', () => {
      const m = makeMap({ key: 'i64', value: 'string' });
      for (let i = 0n; i < 5000n; i++) m.set(i, `v${i}`);
      let calls = 0;
      let error: unknown;
      try {
        m.forEach(() => {
          calls++;
          if (calls === 10) m.close();
        });
      } catch (e) {
        error = e;
      }
      expect(calls).toBe(10);
      if (error !== undefined) expect(isClosedError(error), String(error)).toBe(true);
      expectClosed(() => m.get(1n));
    });

    it('a throwing callback stops forEach, the error comes through, map usable', () => {
      const m = makeMap({ key: 'string', value: 'f64' });
      for (let i = 0; i < 100; i++) m.set(`k${i}`, i);
      const boom = new Error('cb');
      let calls = 0;
      expect(
        thrown(() =>
          m.forEach(() => {
            if (++calls === 3) throw boom;
          }),
        ),
      ).toBe(boom);
      expect(calls).toBe(3);
      expect(m.size).toBe(100);
      let n = 0;
      m.forEach(() => n++);
      expect(n).toBe(100);
    });

    it('forEach nested in forEach on the same map, with writes', () => {
      const m = makeMap({ key: 'f64', value: 'f64' });
      for (let i = 0; i < 50; i++) m.set(i, i);
      let pairs = 0;
      m.forEach((_v, k) => {
        m.forEach(() => {
          pairs++;
        });
        // new keys (x.5) may or may not be visited; only the old ones write
        if (Number.isInteger(k)) m.set((k as number) + 0.5, 0);
      });
      expect(pairs).toBeGreaterThanOrEqual(50 * 50);
      expect(m.size).toBe(100);
      for (let i = 0; i < 50; i++) expect(m.get(i + 0.5)).toBe(0);
      for (let i = 0; i < 50; i++) expect(m.get(i)).toBe(i);
    });
  });

  describe('odd byte views', () => {
    it('a detached or zero-length view is an empty key or a TypeError, never a crash', () => {
      const m = makeMap({ key: 'bytes', value: 'bytes' });
      const u = new Uint8Array([1, 2, 3]);
      structuredClone(u.buffer, { transfer: [u.buffer] }); // detaches u's buffer
      expect(u.length).toBe(0);
      for (const call of [() => m.set(u, new Uint8Array([9])), () => m.get(u), () => m.set(new Uint8Array([1]), u)]) {
        try {
          call();
        } catch (e) {
          expect(isAllowedError(e), String(e)).toBe(true);
        }
      }
      expect(m.size).toBeLessThanOrEqual(2);
      for (const [k, v] of m) {
        expect(Buffer.isBuffer(k) && Buffer.isBuffer(v)).toBe(true);
      }
    });

    it('views over SharedArrayBuffer and resizable ArrayBuffer are read by contents', () => {
      const m = makeMap({ key: 'bytes', value: 'bytes' });
      const shared = new Uint8Array(new SharedArrayBuffer(8));
      shared.set([1, 2, 3, 4]);
      m.set(shared.subarray(0, 4), shared.subarray(2, 6));
      expect([...(m.get(Buffer.from([1, 2, 3, 4])) as Buffer)]).toEqual([3, 4, 0, 0]);
      const Resizable = ArrayBuffer as unknown as new (n: number, o: { maxByteLength: number }) => ArrayBuffer & { resize(n: number): void };
      const rab = new Resizable(4, { maxByteLength: 16 });
      const tracking = new Uint8Array(rab);
      tracking.set([5, 6, 7, 8]);
      m.set(tracking, Buffer.from('x'));
      rab.resize(8);
      expect(m.get(Buffer.from([5, 6, 7, 8]))?.toString()).toBe('x');
      expect(m.get(tracking)).toBeUndefined(); // now 8 bytes long
    });
  });
});
