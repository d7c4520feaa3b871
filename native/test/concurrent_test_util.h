// Helpers for the ConcurrentMap / EBR tests: blobs made from integers and strings, a
// per-thread EBR registration, and waiting for threads with a deadline (a test that
// would hang fails instead).
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <cstring>
#include <future>
#include <string>
#include <thread>
#include <vector>

#include "core/concurrent_map.h"
#include "core/epoch.h"

namespace cmap_test {

using gomap::Blob;
using gomap::ConcurrentMap;
using gomap::Status;

// Registers the current thread for its lifetime.
class Registered {
 public:
  Registered() : rec_(gomap::ebr::registerThread()) {}
  ~Registered() { gomap::ebr::unregisterThread(rec_); }
  Registered(const Registered&) = delete;
  Registered& operator=(const Registered&) = delete;
  gomap::ebr::ThreadRecord& operator*() const { return *rec_; }
  bool ok() const { return rec_ != nullptr; }

 private:
  gomap::ebr::ThreadRecord* rec_;
};

// An 8-byte key (as the addon encodes i64 keys), stored in the object itself.
struct IntKey {
  explicit IntKey(uint64_t v) { std::memcpy(bytes, &v, sizeof v); }
  Blob blob() const { return Blob{gomap::kTagBytes, bytes, sizeof bytes}; }
  uint8_t bytes[8];
};
inline uint64_t intOf(Blob b) {
  uint64_t v = 0;
  std::memcpy(&v, b.data, b.len < 8 ? b.len : 8);
  return v;
}

inline Blob strBlob(const std::string& s) {
  return Blob{gomap::kTagLatin1, reinterpret_cast<const uint8_t*>(s.data()), static_cast<uint32_t>(s.size())};
}
inline std::string text(Blob b) { return std::string(reinterpret_cast<const char*>(b.data), b.len); }

inline ConcurrentMap* newMap(uint64_t seed = 1, uint64_t (*hashOverride)(uint64_t) = nullptr, uint64_t hint = 0) {
  gomap::MapOptions options;
  options.fixedSeed = true;
  options.seed = seed;
  options.hint = hint;
  options.hashOverride = hashOverride;
  ConcurrentMap* m = nullptr;
  EXPECT_EQ(ConcurrentMap::create(options, &m), Status::kOk);
  return m;
}

// Frees everything retired so far (no thread may be pinned). True when nothing is left.
inline bool drainRetired(gomap::ebr::ThreadRecord& rec) {
  for (int i = 0; i < 8; ++i) {
    gomap::ebr::collect(rec);
    if (gomap::ebr::pendingObjects() == 0) return true;
  }
  return gomap::ebr::pendingObjects() == 0;
}

// Runs fn on n threads; waits for all of them at most `deadline`. Returns false on a
// timeout (the threads are then detached: the test fails instead of hanging).
template <class F>
bool runThreads(int n, F fn, std::chrono::seconds deadline = std::chrono::seconds(60)) {
  std::vector<std::thread> threads;
  std::vector<std::future<void>> done;
  for (int i = 0; i < n; ++i) {
    std::packaged_task<void()> task([fn, i] { fn(i); });
    done.push_back(task.get_future());
    threads.emplace_back(std::move(task));
  }
  const auto until = std::chrono::steady_clock::now() + deadline;
  bool ok = true;
  for (auto& f : done) ok = ok && f.wait_until(until) == std::future_status::ready;
  for (auto& t : threads) {
    if (ok) t.join();
    else t.detach();
  }
  return ok;
}

}  // namespace cmap_test
