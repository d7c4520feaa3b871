// Command gomapbench runs bench/'s map workloads on Go's built-in map (Go 1.19: the
// classic bucketed map that gomap rebuilds) and prints the results as JSON on stdout.
//
// Same key sets, same order and same workloads as bench/index.mjs and
// bench/core/core_bench.cc: keys "user:"+i and integers 0..n-1, misses "miss:"+i and
// n..2n-1, shuffled by the shared mulberry32 Fisher–Yates permutation.
//
//	go run . -sizes 1000,1000000 -rounds 3
//	go run . -sizes 1e7 -rounds 1 -lookup-repeats 3 -workloads getHit,getHitSame,getMiss
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Permutation seeds, one per workload (shared with JS and C++).
const (
	seedGetHit    = 1
	seedOverwrite = 2
	seedDelete    = 3
	seedGetMiss   = 4
)

// mulberry32 is the shared 32-bit generator (see bench/lib/prng.mjs).
type mulberry32 struct{ state uint32 }

func (g *mulberry32) next() uint32 {
	g.state += 0x6d2b79f5
	s := g.state
	t := (s ^ s>>15) * (s | 1)
	t = (t + (t^t>>7)*(t|61)) ^ t
	return t ^ t>>14
}

// permutation returns a random permutation of 0..n-1: Fisher–Yates from the top down.
func permutation(n int, seed uint32) []uint32 {
	p := make([]uint32, n)
	for i := range p {
		p[i] = uint32(i)
	}
	g := mulberry32{seed}
	for i := n - 1; i > 0; i-- {
		j := g.next() % uint32(i+1)
		p[i], p[j] = p[j], p[i]
	}
	return p
}

// sink keeps results alive so the compiler cannot drop the loops.
var sink float64

// keySet builds the keys of one kind: stored key i, and miss key i of a set of n.
type keySet[K comparable] struct {
	name string
	key  func(i int) K
	miss func(i, n int) K
}

var intKeys = keySet[int64]{
	name: "int",
	key:  func(i int) int64 { return int64(i) },
	miss: func(i, n int) int64 { return int64(n + i) },
}

var stringKeys = keySet[string]{
	name: "string",
	key:  func(i int) string { return "user:" + strconv.Itoa(i) },
	miss: func(i, n int) string { return "miss:" + strconv.Itoa(i) },
}

func (ks keySet[K]) stored(n int) []K {
	keys := make([]K, n)
	for i := range keys {
		keys[i] = ks.key(i)
	}
	return keys
}

// fresh builds new keys equal to the stored ones (for strings: new bytes), in perm order.
func (ks keySet[K]) fresh(perm []uint32) []K {
	keys := make([]K, len(perm))
	for j, i := range perm {
		keys[j] = ks.key(int(i))
	}
	return keys
}

func (ks keySet[K]) misses(perm []uint32) []K {
	keys := make([]K, len(perm))
	for j, i := range perm {
		keys[j] = ks.miss(int(i), len(perm))
	}
	return keys
}

func same[K comparable](stored []K, perm []uint32) []K {
	keys := make([]K, len(perm))
	for j, i := range perm {
		keys[j] = stored[i]
	}
	return keys
}

// --- the timed loops ---

func insert[K comparable](m map[K]float64, keys []K) int {
	for i, k := range keys {
		m[k] = float64(i) + 0.5
	}
	return len(m)
}

func get[K comparable](m map[K]float64, probes []K) int {
	found := 0
	sum := 0.0
	for _, k := range probes {
		if v, ok := m[k]; ok {
			found++
			sum += v
		}
	}
	sink += sum
	return found
}

func overwrite[K comparable](m map[K]float64, probes []K) int {
	for i, k := range probes {
		m[k] = float64(i) + 0.25
	}
	return len(m)
}

func iterate[K comparable](m map[K]float64) int {
	count := 0
	sum := 0.0
	for _, v := range m {
		count++
		sum += v
	}
	sink += sum
	return count
}

func remove[K comparable](m map[K]float64, probes []K) int {
	for _, k := range probes {
		delete(m, k)
	}
	return len(probes) - len(m)
}

// accumulator sums the time and operations of one workload over the passes of a sample.
type accumulator map[string]*struct {
	ns, ops int64
}

func (a accumulator) step(id string, n int, gcFirst bool, expected int, run func() int) {
	if gcFirst {
		runtime.GC()
	}
	t0 := time.Now()
	got := run()
	ns := time.Since(t0).Nanoseconds()
	if got != expected {
		fmt.Fprintf(os.Stderr, "gomapbench: %s n=%d: got %d, expected %d\n", id, n, got, expected)
		os.Exit(1)
	}
	if a[id] == nil {
		a[id] = &struct{ ns, ops int64 }{}
	}
	a[id].ns += ns
	a[id].ops += int64(n)
}

type perms struct{ getHit, getMiss, overwrite, delete []uint32 }

// plan says which workloads run and how many samples each lookup step takes per pass
// (lookups do not change the map, so at 10M keys one built map serves several samples).
type plan struct {
	enabled       map[string]bool
	lookupRepeats int
}

func (pl plan) on(id string) bool { return pl.enabled[id] }

// pass runs the life of one map: insert, lookups, overwrite, iterate, delete.
func pass[K comparable](ks keySet[K], n int, p perms, pl plan, accs []accumulator) {
	gcFirst := n >= 100_000
	stored := ks.stored(n)
	m := make(map[K]float64)
	accs[0].step("insert", n, gcFirst, n, func() int { return insert(m, stored) })
	lookup := func(id string, probes []K, expected int) {
		for r := 0; r < pl.lookupRepeats; r++ {
			accs[r].step(id, n, gcFirst, expected, func() int { return get(m, probes) })
		}
	}
	if pl.on("getHit") {
		lookup("getHit", ks.fresh(p.getHit), n)
	}
	if pl.on("getHitSame") {
		lookup("getHitSame", same(stored, p.getHit), n)
	}
	if pl.on("getMiss") {
		lookup("getMiss", ks.misses(p.getMiss), 0)
	}
	if pl.on("overwrite") {
		probes := ks.fresh(p.overwrite)
		accs[0].step("overwrite", n, gcFirst, n, func() int { return overwrite(m, probes) })
	}
	if pl.on("iterate") {
		accs[0].step("iterate", n, gcFirst, n, func() int { return iterate(m) })
	}
	if pl.on("delete") {
		probes := ks.fresh(p.delete)
		accs[0].step("delete", n, gcFirst, n, func() int { return remove(m, probes) })
	}
}

type result struct {
	Workload string    `json:"workload"`
	N        int       `json:"n"`
	Keys     string    `json:"keys"`
	NsPerOp  float64   `json:"nsPerOp"`
	Min      float64   `json:"min"`
	Samples  []float64 `json:"samples"`
}

func passesFor(n int) int {
	p := (1_000_000 + n/2) / n
	if p < 1 {
		return 1
	}
	return p
}

func scenario[K comparable](ks keySet[K], n, rounds int, pl plan) []result {
	p := perms{
		getHit:    permutation(n, seedGetHit),
		getMiss:   permutation(n, seedGetMiss),
		overwrite: permutation(n, seedOverwrite),
		delete:    permutation(n, seedDelete),
	}
	samples := map[string][]float64{}
	for r := 0; r < rounds; r++ {
		accs := make([]accumulator, pl.lookupRepeats)
		for i := range accs {
			accs[i] = accumulator{}
		}
		for i := 0; i < passesFor(n); i++ {
			pass(ks, n, p, pl, accs)
		}
		for _, acc := range accs {
			for id, a := range acc {
				samples[id] = append(samples[id], float64(a.ns)/float64(a.ops))
			}
		}
		fmt.Fprintf(os.Stderr, "go: %s n=%d round %d/%d\n", ks.name, n, r+1, rounds)
	}
	var out []result
	for _, id := range allWorkloads {
		if s := samples[id]; len(s) > 0 {
			out = append(out, result{Workload: id, N: n, Keys: ks.name, NsPerOp: median(s), Min: minimum(s), Samples: s})
		}
	}
	return out
}

var allWorkloads = []string{"insert", "getHit", "getHitSame", "getMiss", "overwrite", "iterate", "delete"}

func median(xs []float64) float64 {
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	m := len(s) / 2
	if len(s)%2 == 1 {
		return s[m]
	}
	return (s[m-1] + s[m]) / 2
}

func minimum(xs []float64) float64 {
	m := xs[0]
	for _, x := range xs {
		if x < m {
			m = x
		}
	}
	return m
}

func parseSizes(s string) ([]int, error) {
	var sizes []int
	for _, f := range strings.Split(s, ",") {
		v, err := strconv.ParseFloat(strings.TrimSpace(f), 64)
		if err != nil || v < 1 {
			return nil, fmt.Errorf("bad size %q", f)
		}
		sizes = append(sizes, int(v))
	}
	return sizes, nil
}

func main() {
	sizesFlag := flag.String("sizes", "1000,1000000,10000000", "comma-separated key counts (1e6 notation allowed)")
	rounds := flag.Int("rounds", 3, "samples per workload; the median is reported")
	kinds := flag.String("keys", "int,string", "key kinds to run: int, string")
	workloads := flag.String("workloads", strings.Join(allWorkloads, ","), "workloads to time (insert always runs)")
	repeats := flag.Int("lookup-repeats", 1, "samples of each lookup workload per pass")
	flag.Parse()
	pl := plan{enabled: map[string]bool{"insert": true}, lookupRepeats: *repeats}
	if pl.lookupRepeats < 1 {
		pl.lookupRepeats = 1
	}
	for _, w := range strings.Split(*workloads, ",") {
		pl.enabled[strings.TrimSpace(w)] = true
	}
	sizes, err := parseSizes(*sizesFlag)
	if err != nil {
		fmt.Fprintln(os.Stderr, "gomapbench:", err)
		os.Exit(2)
	}
	var results []result
	for _, n := range sizes {
		for _, kind := range strings.Split(*kinds, ",") {
			switch kind {
			case "int":
				results = append(results, scenario(intKeys, n, *rounds, pl)...)
			case "string":
				results = append(results, scenario(stringKeys, n, *rounds, pl)...)
			default:
				fmt.Fprintln(os.Stderr, "gomapbench: unknown key kind", kind)
				os.Exit(2)
			}
		}
	}
	check := permutation(1000, seedGetHit)[:8]
	out := map[string]any{
		"go":        runtime.Version(),
		"goarch":    runtime.GOARCH,
		"permCheck": check,
		"rounds":    *rounds,
		"results":   results,
	}
	enc := json.NewEncoder(os.Stdout)
	if err := enc.Encode(out); err != nil {
		fmt.Fprintln(os.Stderr, "gomapbench:", err)
		os.Exit(1)
	}
}
