// ConcurrentMap: the core of SyncMap (first version: every operation under one mutex).
//
// This commit fixes the public interface; the lock-free-read implementation replaces the
// body without changing any signature below.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <new>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "blob.h"
#include "epoch.h"
#include "go_map.h"  // MapOptions
#include "map_stats.h"
#include "status.h"

namespace gomap {

class ConcurrentMap {
 public:
  class Iterator;

  // Creates a map with one reference (release() frees it). kNoMemory / kTooLarge (hint).
  static Status create(const MapOptions& options, ConcurrentMap** out) noexcept;

  // Views (JS objects in any thread) and iterators each hold a reference.
  void retain() noexcept { refs_.fetch_add(1, std::memory_order_relaxed); }
  // Drops a reference; at zero (no view, no reader left) frees the map.
  void release() noexcept;

  // ---- reads (lock-free in the final design) -----------------------------------------
  // Calls onValue(Blob value) with the value of `key` (valid only during the call).
  template <class F>
  bool load(ebr::ThreadRecord& rec, Blob key, F&& onValue);
  bool contains(ebr::ThreadRecord& rec, Blob key) {
    return load(rec, key, [](Blob) {});
  }
  uint64_t size() const noexcept { return count_.load(std::memory_order_relaxed); }

  // ---- writes --------------------------------------------------------------------------
  Status store(ebr::ThreadRecord& rec, Blob key, Blob value, bool* inserted);
  // Stores value if key is absent (*loaded = false); else calls onExisting(Blob current)
  // and sets *loaded = true.
  template <class F>
  Status loadOrStore(ebr::ThreadRecord& rec, Blob key, Blob value, F&& onExisting, bool* loaded);
  // Deletes key; calls onValue(Blob previous) first if it was present.
  template <class F>
  bool loadAndDelete(ebr::ThreadRecord& rec, Blob key, F&& onValue);
  // Stores value; calls onPrevious(Blob previous) and sets *loaded if key was present.
  template <class F>
  Status swap(ebr::ThreadRecord& rec, Blob key, Blob value, F&& onPrevious, bool* loaded);
  // Stores value if the current value equals expected (same tag, same bytes).
  Status compareAndSwap(ebr::ThreadRecord& rec, Blob key, Blob expected, Blob value, bool* swapped);
  // Deletes key if its current value equals expected.
  bool compareAndDelete(ebr::ThreadRecord& rec, Blob key, Blob expected);
  bool erase(ebr::ThreadRecord& rec, Blob key);
  void clear(ebr::ThreadRecord& rec);
  // Pre-sizes for n entries (may be a no-op on a non-empty map).
  Status reserve(ebr::ThreadRecord& rec, uint64_t n);

  // Takes the write lock (a consistent picture of the table).
  MapStats stats(ebr::ThreadRecord& rec);

  // ---- iteration ----------------------------------------------------------------------
  // An iterator may be held across calls: it pins nothing and locks nothing between
  // iterNext calls. It holds a reference to the map until iterEnd.
  Status iterStart(ebr::ThreadRecord& rec, Iterator** out) noexcept;
  // Calls onEntry(Blob key, Blob value) for the next entries (views valid during the
  // call only) and returns how many it produced; 0 means the iteration is finished.
  // It may produce more than `max` (it finishes the bucket it is in) and at least
  // min(max, 1) while entries remain. Writes to this map from onEntry are allowed.
  template <class F>
  size_t iterNext(ebr::ThreadRecord& rec, Iterator* it, size_t max, F&& onEntry);
  void iterEnd(Iterator* it) noexcept;

  // Test hook: the lock every writer takes.
  std::mutex& writeLockForTesting() noexcept { return writeLock_; }

 private:
  explicit ConcurrentMap(const MapOptions& options);
  ~ConcurrentMap();
  static std::string encode(Blob b) {
    std::string s;
    s.reserve(b.len + 1);
    s.push_back(static_cast<char>(b.tag));
    s.append(reinterpret_cast<const char*>(b.data), b.len);
    return s;
  }
  static Blob view(const std::string& s) {
    return Blob{static_cast<uint8_t>(s[0]), reinterpret_cast<const uint8_t*>(s.data()) + 1,
                static_cast<uint32_t>(s.size() - 1)};
  }
  static bool tooLarge(Blob b) { return b.len > kMaxBlobLength; }

  std::atomic<uint32_t> refs_{1};
  std::atomic<uint64_t> count_{0};
  std::mutex writeLock_;
  std::unordered_map<std::string, std::string> table_;
};

class ConcurrentMap::Iterator {
 public:
  ConcurrentMap* map;
  std::vector<std::string> keys;
  size_t next = 0;
};

template <class F>
bool ConcurrentMap::load(ebr::ThreadRecord& rec, Blob key, F&& onValue) {
  ebr::Guard guard(rec);
  std::lock_guard<std::mutex> lock(writeLock_);
  auto found = table_.find(encode(key));
  if (found == table_.end()) return false;
  onValue(view(found->second));
  return true;
}

template <class F>
Status ConcurrentMap::loadOrStore(ebr::ThreadRecord& rec, Blob key, Blob value, F&& onExisting, bool* loaded) {
  if (tooLarge(key) || tooLarge(value)) return Status::kTooLarge;
  ebr::Guard guard(rec);
  std::lock_guard<std::mutex> lock(writeLock_);
  try {
    auto found = table_.find(encode(key));
    if (found != table_.end()) {
      *loaded = true;
      onExisting(view(found->second));
      return Status::kOk;
    }
    table_.emplace(encode(key), encode(value));
  } catch (const std::bad_alloc&) {
    return Status::kNoMemory;
  }
  count_.store(table_.size(), std::memory_order_relaxed);
  *loaded = false;
  return Status::kOk;
}

template <class F>
bool ConcurrentMap::loadAndDelete(ebr::ThreadRecord& rec, Blob key, F&& onValue) {
  ebr::Guard guard(rec);
  std::lock_guard<std::mutex> lock(writeLock_);
  auto found = table_.find(encode(key));
  if (found == table_.end()) return false;
  onValue(view(found->second));
  table_.erase(found);
  count_.store(table_.size(), std::memory_order_relaxed);
  return true;
}

template <class F>
Status ConcurrentMap::swap(ebr::ThreadRecord& rec, Blob key, Blob value, F&& onPrevious, bool* loaded) {
  if (tooLarge(key) || tooLarge(value)) return Status::kTooLarge;
  ebr::Guard guard(rec);
  std::lock_guard<std::mutex> lock(writeLock_);
  try {
    std::string v = encode(value);
    auto found = table_.find(encode(key));
    if (found != table_.end()) {
      *loaded = true;
      onPrevious(view(found->second));
      found->second.swap(v);
      return Status::kOk;
    }
    table_.emplace(encode(key), std::move(v));
  } catch (const std::bad_alloc&) {
    return Status::kNoMemory;
  }
  count_.store(table_.size(), std::memory_order_relaxed);
  *loaded = false;
  return Status::kOk;
}

template <class F>
size_t ConcurrentMap::iterNext(ebr::ThreadRecord& rec, Iterator* it, size_t max, F&& onEntry) {
  size_t produced = 0;
  ebr::Guard guard(rec);
  while (produced < max && it->next < it->keys.size()) {
    std::string value;
    {
      std::lock_guard<std::mutex> lock(writeLock_);
      auto found = table_.find(it->keys[it->next++]);
      if (found == table_.end()) continue;
      value = found->second;
    }
    onEntry(view(it->keys[it->next - 1]), view(value));
    ++produced;
  }
  return produced;
}

}  // namespace gomap
