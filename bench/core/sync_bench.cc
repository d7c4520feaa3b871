// gomap_sync_bench: the concurrent map (ConcurrentMap, the core of SyncMap) under mixed
// read/write loads from 1..T threads, printing one JSON object per line on stdout.
// bench/go/sync/main.go runs the same loads on Go's sync.Map and map+sync.RWMutex;
// bench/sync-compare.mjs runs both and prints ops/s side by side with ratios.
//
// Keys are the integers 0..n-1 as 8-byte blobs (as the addon encodes i64 keys), all
// stored before timing; values are 8-byte blobs. Each thread picks keys from its own
// xorshift stream and, per operation, reads (load) or overwrites (store) by the mix.
//
//   gomap_sync_bench --size=1000000 --threads=1,2 --reads=100,90,50 --seconds=2
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "core/concurrent_map.h"

namespace {

using gomap::Blob;
using gomap::ConcurrentMap;

struct Options {
  uint64_t size = 1000000;
  std::vector<int> threads{1, 2};
  std::vector<int> reads{100, 90, 50};
  double seconds = 1.0;
};

std::vector<int> parseList(const char* s) {
  std::vector<int> out;
  for (const char* p = s; *p != '\0';) {
    out.push_back(std::atoi(p));
    while (*p != '\0' && *p != ',') ++p;
    if (*p == ',') ++p;
  }
  return out;
}

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const char* a = argv[i];
    if (std::strncmp(a, "--size=", 7) == 0) o.size = static_cast<uint64_t>(std::atof(a + 7));
    else if (std::strncmp(a, "--threads=", 10) == 0) o.threads = parseList(a + 10);
    else if (std::strncmp(a, "--reads=", 8) == 0) o.reads = parseList(a + 8);
    else if (std::strncmp(a, "--seconds=", 10) == 0) o.seconds = std::atof(a + 10);
    else {
      std::fprintf(stderr, "usage: %s [--size=N] [--threads=1,2] [--reads=100,90,50] [--seconds=S]\n", argv[0]);
      std::exit(2);
    }
  }
  return o;
}

// The per-thread key stream (xorshift64*), the same in bench/go/sync/main.go.
struct Stream {
  uint64_t s;
  uint64_t next() {
    s ^= s >> 12;
    s ^= s << 25;
    s ^= s >> 27;
    return s * 0x2545f4914f6cdd1dull;
  }
};

struct Word {
  explicit Word(uint64_t v) { std::memcpy(bytes, &v, 8); }
  Blob blob() const { return Blob{gomap::kTagBytes, bytes, 8}; }
  uint8_t bytes[8];
};

// Runs `threads` workers for `seconds`; returns total operations per second.
double run(ConcurrentMap* m, const Options& o, int threads, int readPercent) {
  std::atomic<bool> go{false}, stop{false};
  std::atomic<uint64_t> total{0};
  std::atomic<uint64_t> checksum{0};
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      gomap::ebr::ThreadRecord* rec = gomap::ebr::registerThread();
      Stream rng{0x9e3779b97f4a7c15ull * static_cast<uint64_t>(t + 1)};
      uint64_t ops = 0, sum = 0;
      while (!go.load(std::memory_order_acquire)) std::this_thread::yield();
      while (!stop.load(std::memory_order_relaxed)) {
        for (int batch = 0; batch < 256; ++batch) {
          const uint64_t r = rng.next();
          Word key(r % o.size);
          if (static_cast<int>((r >> 40) % 100) < readPercent) {
            m->load(*rec, key.blob(), [&](Blob v) { sum += v.data[0]; });
          } else {
            Word value(r);
            m->store(*rec, key.blob(), value.blob(), nullptr);
          }
        }
        ops += 256;
      }
      total.fetch_add(ops);
      checksum.fetch_add(sum);
      gomap::ebr::unregisterThread(rec);
    });
  }
  auto start = std::chrono::steady_clock::now();
  go.store(true, std::memory_order_release);
  std::this_thread::sleep_for(std::chrono::duration<double>(o.seconds));
  stop.store(true);
  for (auto& w : workers) w.join();
  double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (checksum.load() == 1) std::fprintf(stderr, " ");  // keeps the reads observable
  return static_cast<double>(total.load()) / elapsed;
}

}  // namespace

int main(int argc, char** argv) {
  Options o = parse(argc, argv);
  gomap::MapOptions mo;
  mo.fixedSeed = true;
  mo.seed = 42;
  mo.hint = o.size;
  ConcurrentMap* m = nullptr;
  if (ConcurrentMap::create(mo, &m) != gomap::Status::kOk) return 1;
  gomap::ebr::ThreadRecord* rec = gomap::ebr::registerThread();
  for (uint64_t i = 0; i < o.size; ++i) {
    Word k(i), v(i);
    m->store(*rec, k.blob(), v.blob(), nullptr);
  }
  for (int reads : o.reads) {
    for (int threads : o.threads) {
      double opsPerSecond = run(m, o, threads, reads);
      gomap::ebr::collect(*rec);
      std::printf("{\"impl\":\"gomap ConcurrentMap\",\"size\":%llu,\"threads\":%d,\"reads\":%d,\"opsPerSec\":%.0f}\n",
                  static_cast<unsigned long long>(o.size), threads, reads, opsPerSecond);
      std::fflush(stdout);
    }
  }
  m->release();
  gomap::ebr::unregisterThread(rec);
  return 0;
}
