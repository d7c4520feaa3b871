// Command-line flags and environment variables of `npm run bench` (see bench/README.md).
//   npm run bench -- --sizes=1e3,1e6,1e7     or     BENCH_FULL=1 npm run bench

import { parseArgs } from 'node:util';

const SECTIONS = ['ops', 'batch', 'memory', 'gc', 'core', 'go', 'sync', 'flood', 'wasm', 'cache', 'synccore'];

const PROFILES = {
  default: {
    sizes: [1e3, 1e6],
    nativeSizes: [1e3, 1e6],
    nativeLargeSizes: [1e7],
    memorySizes: [1.0e6, 1.2e6, 1.4e6, 1.6e6],
    batchN: 1e6,
    gcN: 5e6,
    gcOps: 5e6,
    syncN: 1e6,
    syncOps: 5e6,
    rounds: 3,
    out: 'latest',
  },
  // Smoke test of the harness: small sizes, one round, its own result files.
  quick: {
    sizes: [1e3, 1e5],
    nativeSizes: [1e3, 1e5],
    nativeLargeSizes: [],
    memorySizes: [1.0e5, 1.2e5, 1.4e5, 1.6e5],
    batchN: 1e5,
    gcN: 2e5,
    gcOps: 2e5,
    syncN: 1e4,
    syncOps: 2e5,
    rounds: 1,
    out: 'tmp/quick',
  },
};

const parseList = (s) =>
  s
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean);
const parseSizes = (s) => parseList(s).map((x) => {
  const n = Math.round(Number(x));
  if (!Number.isFinite(n) || n < 1) throw new TypeError(`bad size "${x}"`);
  return n;
});

export function parseOptions(argv = process.argv.slice(2), env = process.env) {
  const { values } = parseArgs({
    args: argv,
    options: {
      sizes: { type: 'string' },
      'native-sizes': { type: 'string' },
      rounds: { type: 'string' },
      only: { type: 'string' },
      skip: { type: 'string' },
      full: { type: 'boolean' },
      quick: { type: 'boolean' },
      'stand-in': { type: 'boolean' },
      out: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const quick = values.quick || env.BENCH_QUICK === '1';
  const full = values.full || env.BENCH_FULL === '1';
  const o = { ...PROFILES[quick ? 'quick' : 'default'], quick, full, help: !!values.help };
  const sizes = values.sizes ?? env.BENCH_SIZES;
  if (sizes) o.sizes = parseSizes(sizes);
  else if (full) o.sizes = [...o.sizes, 1e7];
  const nativeSizes = values['native-sizes'] ?? env.BENCH_NATIVE_SIZES;
  if (nativeSizes) {
    o.nativeSizes = parseSizes(nativeSizes).filter((n) => n < 1e7);
    o.nativeLargeSizes = parseSizes(nativeSizes).filter((n) => n >= 1e7);
  }
  const rounds = values.rounds ?? env.BENCH_ROUNDS;
  if (rounds) o.rounds = Math.max(1, Number.parseInt(rounds, 10) || 1);
  const only = values.only ?? env.BENCH_ONLY;
  const skip = new Set(parseList(values.skip ?? env.BENCH_SKIP ?? ''));
  o.sections = new Set((only ? parseList(only) : SECTIONS).filter((s) => !skip.has(s)));
  for (const s of [...o.sections, ...skip]) {
    if (!SECTIONS.includes(s)) throw new TypeError(`unknown section "${s}" (known: ${SECTIONS.join(', ')})`);
  }
  o.standIn = !!values['stand-in'];
  o.out = values.out ?? (o.standIn ? 'tmp/stand-in' : o.out);
  return o;
}

export const HELP = `node --expose-gc bench/index.mjs [flags]     (npm run bench -- [flags])

  --sizes=1e3,1e6         key counts of the JS workloads (default 1e3,1e6; --full adds 1e7)
  --native-sizes=...      key counts of the C++ core and Go runs (default 1e3,1e6 + 1e7)
  --full                  also 10M keys in JS, and every workload at 10M in C++/Go (long)
  --rounds=3              samples per measurement; tables show the median
  --only=ops,batch,...    sections to run: ${SECTIONS.join(', ')}
  --skip=gc,...           sections to leave out
  --quick                 small sizes, one round: a smoke test (writes results/tmp/quick.*)
  --stand-in              a Map posing as GoMap, to test the harness without dist/
  --out=name              result files bench/results/<name>.{md,json} (default latest)

Environment: BENCH_FULL=1, BENCH_QUICK=1, BENCH_SIZES, BENCH_NATIVE_SIZES, BENCH_ROUNDS,
BENCH_ONLY, BENCH_SKIP (same meanings).`;
