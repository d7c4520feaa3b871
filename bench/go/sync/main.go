// The Go side of the SyncMap benchmark: sync.Map and map+sync.RWMutex under the same
// mixed read/write loads as bench/core/sync_bench.cc (int64 keys 0..n-1 all stored
// first, per-goroutine xorshift64* key streams, reads or overwrites by the mix),
// printing one JSON object per line.
//
//	go run ./sync --size=1000000 --threads=1,2 --reads=100,90,50 --seconds=2
package main

import (
	"flag"
	"fmt"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

type stream struct{ s uint64 }

func (x *stream) next() uint64 {
	x.s ^= x.s >> 12
	x.s ^= x.s << 25
	x.s ^= x.s >> 27
	return x.s * 0x2545f4914f6cdd1d
}

// store is what both contenders offer the workers.
type store interface {
	load(k int64) (int64, bool)
	put(k, v int64)
}

type syncMap struct{ m sync.Map }

func (s *syncMap) load(k int64) (int64, bool) {
	v, ok := s.m.Load(k)
	if !ok {
		return 0, false
	}
	return v.(int64), true
}
func (s *syncMap) put(k, v int64) { s.m.Store(k, v) }

type rwMap struct {
	mu sync.RWMutex
	m  map[int64]int64
}

func (s *rwMap) load(k int64) (int64, bool) {
	s.mu.RLock()
	v, ok := s.m[k]
	s.mu.RUnlock()
	return v, ok
}
func (s *rwMap) put(k, v int64) {
	s.mu.Lock()
	s.m[k] = v
	s.mu.Unlock()
}

func run(st store, size uint64, threads, reads int, seconds float64) float64 {
	var stop atomic.Bool
	var total atomic.Uint64
	var wg sync.WaitGroup
	start := time.Now()
	for t := 0; t < threads; t++ {
		wg.Add(1)
		go func(t int) {
			defer wg.Done()
			rng := stream{0x9e3779b97f4a7c15 * uint64(t+1)}
			var ops, sum uint64
			for !stop.Load() {
				for b := 0; b < 256; b++ {
					r := rng.next()
					k := int64(r % size)
					if int((r>>40)%100) < reads {
						v, _ := st.load(k)
						sum += uint64(v)
					} else {
						st.put(k, int64(r))
					}
				}
				ops += 256
			}
			total.Add(ops)
			if sum == 1 {
				fmt.Print("")
			}
		}(t)
	}
	time.Sleep(time.Duration(seconds * float64(time.Second)))
	stop.Store(true)
	wg.Wait()
	return float64(total.Load()) / time.Since(start).Seconds()
}

func ints(s string) []int {
	var out []int
	for _, p := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(p))
		if err == nil {
			out = append(out, n)
		}
	}
	return out
}

func main() {
	sizeFlag := flag.Float64("size", 1e6, "keys (all stored before timing)")
	threadsFlag := flag.String("threads", "1,2", "goroutine counts")
	readsFlag := flag.String("reads", "100,90,50", "read percentages")
	seconds := flag.Float64("seconds", 1, "seconds per measurement")
	flag.Parse()
	size := uint64(*sizeFlag)
	maxThreads := 0
	for _, t := range ints(*threadsFlag) {
		if t > maxThreads {
			maxThreads = t
		}
	}
	if runtime.GOMAXPROCS(0) < maxThreads {
		runtime.GOMAXPROCS(maxThreads)
	}
	sm := &syncMap{}
	rw := &rwMap{m: make(map[int64]int64, size)}
	for i := uint64(0); i < size; i++ {
		sm.m.Store(int64(i), int64(i))
		rw.m[int64(i)] = int64(i)
	}
	contenders := []struct {
		name string
		st   store
	}{{"Go sync.Map", sm}, {"Go map+RWMutex", rw}}
	for _, reads := range ints(*readsFlag) {
		for _, threads := range ints(*threadsFlag) {
			for _, c := range contenders {
				ops := run(c.st, size, threads, reads, *seconds)
				fmt.Printf("{\"impl\":%q,\"size\":%d,\"threads\":%d,\"reads\":%d,\"opsPerSec\":%.0f}\n",
					c.name, size, threads, reads, ops)
			}
		}
	}
}
