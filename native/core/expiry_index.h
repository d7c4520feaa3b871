// ExpiryIndex: which buckets of a cache's table may hold an expired entry.
//
// A min segment tree over the buckets of the table. Leaf b holds a lower bound of the
// expiry times (ms) of the entries in bucket b (kNever: nothing expires there); each inner
// node holds the minimum of its two children. So:
//
//   - "is anything expired at time t?" is one comparison with the root, and
//   - "which bucket?" is a walk down the tree to a leaf <= t: O(log buckets).
//
// A set lowers its bucket's leaf to the new entry's expiry. Deletes, reads that refresh
// an entry's age and overwrites never raise a leaf (a stale bound is still a lower
// bound); the cache recomputes a leaf exactly whenever it has visited the whole bucket
// (an expiry purge or an eviction step), so a false alarm costs one bucket visit, once.
//
// Growth: when the table doubles, old bucket j splits into new buckets j and j + n, so
// both new leaves start from old leaf j (still a lower bound of each half). While the
// table grows incrementally, a visit of leaf j reads the old bucket j if it is not
// evacuated yet, which holds the entries of both halves: the min over it bounds both.
//
// Bounds are exact milliseconds, so a bucket whose recomputed bound is in the future is
// never found again at the same `now` (a coarser tick could keep a not-yet-expired entry
// "due" for a whole tick). 2 * buckets 64-bit words: about 2.5 bytes per entry at Go's
// 6.5 entries per bucket.
// Allocation failure disables the index (the cache then falls back to sweeping buckets in
// order); it never fails a cache operation.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "alloc.h"

namespace gomap {

class ExpiryIndex {
 public:
  static constexpr uint64_t kNever = ~uint64_t{0};

  ExpiryIndex() = default;
  ExpiryIndex(const ExpiryIndex&) = delete;
  ExpiryIndex& operator=(const ExpiryIndex&) = delete;
  ~ExpiryIndex() { freeBytes(tree_); }

  bool enabled() const { return tree_ != nullptr; }
  uint64_t leaves() const { return leaves_; }
  size_t bytes() const { return tree_ == nullptr ? 0 : static_cast<size_t>(2 * leaves_) * sizeof(uint64_t); }

  // Resizes to `buckets` leaves (a power of two). Growing copies leaf j to every leaf
  // congruent to j; shrinking takes the minimum. False (index disabled) when memory fails.
  bool resize(uint64_t buckets) {
    if (buckets == leaves_ && tree_ != nullptr) return true;
    if (buckets == 0 || buckets > (SIZE_MAX / sizeof(uint64_t)) / 2) {
      disable();
      return false;
    }
    auto* fresh = static_cast<uint64_t*>(allocateBytes(static_cast<size_t>(2 * buckets) * sizeof(uint64_t)));
    if (fresh == nullptr) {
      disable();
      return false;
    }
    for (uint64_t i = 0; i < buckets; ++i) fresh[buckets + i] = kNever;
    if (tree_ != nullptr) {
      for (uint64_t j = 0; j < leaves_; ++j) {
        uint64_t v = tree_[leaves_ + j];
        uint64_t target = j & (buckets - 1);
        for (uint64_t i = target; i < buckets; i += leaves_ < buckets ? leaves_ : buckets) {
          if (v < fresh[buckets + i]) fresh[buckets + i] = v;
        }
      }
    }
    for (uint64_t i = buckets - 1; i >= 1; --i) fresh[i] = min(fresh[2 * i], fresh[2 * i + 1]);
    freeBytes(tree_);
    tree_ = fresh;
    leaves_ = buckets;
    return true;
  }

  // Entry in `bucket` expires at expiresAtMs: lower the bound.
  void lower(uint64_t bucket, uint64_t expiresAtMs) {
    if (tree_ == nullptr) return;
    const uint64_t t = expiresAtMs;
    uint64_t i = leaves_ + (bucket & (leaves_ - 1));
    if (tree_[i] <= t) return;
    for (; i >= 1 && tree_[i] > t; i >>= 1) tree_[i] = t;
  }

  // The exact bound of `bucket` after a visit of all of it (0: nothing expires there).
  void assign(uint64_t bucket, uint64_t minExpiresAtMs) {
    if (tree_ == nullptr) return;
    uint64_t i = leaves_ + (bucket & (leaves_ - 1));
    tree_[i] = minExpiresAtMs == 0 ? kNever : minExpiresAtMs;
    for (i >>= 1; i >= 1; i >>= 1) tree_[i] = min(tree_[2 * i], tree_[2 * i + 1]);
  }

  // A bucket that may hold an entry expired at nowMs; false when none can.
  bool findDue(uint64_t nowMs, uint64_t* bucket) const {
    if (tree_ == nullptr || leaves_ == 0) return false;
    const uint64_t t = nowMs;
    if (tree_[1] > t) return false;
    uint64_t i = 1;
    while (i < leaves_) i = tree_[2 * i] <= t ? 2 * i : 2 * i + 1;
    *bucket = i - leaves_;
    return true;
  }

  // Nothing expires anywhere (the table was cleared).
  void reset() {
    if (tree_ == nullptr) return;
    for (uint64_t i = 1; i < 2 * leaves_; ++i) tree_[i] = kNever;
  }

 private:
  static uint64_t min(uint64_t a, uint64_t b) { return a < b ? a : b; }
  void disable() {
    freeBytes(tree_);
    tree_ = nullptr;
    leaves_ = 0;
  }

  uint64_t* tree_ = nullptr;  // tree_[1] root; children of i: 2i, 2i+1; leaves at leaves_ + b
  uint64_t leaves_ = 0;
};

}  // namespace gomap
