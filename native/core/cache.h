// Cache<K, V>: a bounded cache built into the Go table (API.md "GoCache").
//
// The entries live in a GoMap<K, CacheSlot<V>>: each value slot carries the entry's CLOCK
// bit, its expiry time and its ttl (cache_slot.h). Nothing else is kept per entry: no
// list nodes, no per-entry timers, no second index. What the cache adds to the table:
//
// Limits. maxEntries and maxBytes (the sum of key + value charges, cache_slot.h Charge).
// After every call returns, count <= maxEntries and bytes <= maxBytes. A set inserts
// first and evicts after: the insert is the only step that can fail (allocation), and a
// failed insert leaves the cache exactly as it was; eviction never allocates. The entry
// just written is never its own victim. An entry whose charge alone is over maxBytes is
// refused (not stored; an older entry under that key is removed with reason kDelete, so
// kSet always means "the key stays, with a new value").
//
// Eviction: CLOCK over buckets. A hand walks the bucket array; at each bucket it looks at
// every live slot (visitBucket). An expired slot is removed (reason kExpire) whatever the
// limits say. While the cache is over a limit, a slot with its referenced bit set gets a
// second chance (the bit is cleared), and the first slot without it is the victim (reason
// kEvict). Reads set the bit. This approximates LRU: an entry read since the hand last
// passed survives one more revolution. Entries start unreferenced, so an entry that is
// never read again goes first (some scan resistance, as in CLOCK-Pro / 2Q). At most two
// revolutions find a victim (the first clears every bit). The hand's position is masked
// to the current table size, so growth (which doubles the array) only skews it.
//
// Expiry. Each entry has expiresAt on a millisecond clock that the caller passes
// in (`now`, from a monotonic clock in the binding, injected in tests). Reads check it:
// an expired entry is removed and reads as absent. An ExpiryIndex (expiry_index.h, a min
// tree of per-bucket lower bounds) says which buckets may hold expired entries, so:
//   - before evicting any live entry, eviction removes every expired entry in the cache
//     (each due bucket found in O(log buckets)): expired entries always go first;
//   - each write purges up to kSweepBucketsPerWrite due buckets, so dead entries do not
//     wait for a read or for memory pressure (a bounded, incremental sweep; no timers).
// If the index cannot be allocated, the cache falls back to sweeping buckets in order
// (expired-first then holds within the buckets eviction visits).
//
// Table size. Go doubles a table at 6.5 entries per bucket, so a full cache would often
// sit at 3.3-4 entries per bucket. A cache with an entry limit caps its table at the
// size whose slots hold max entries (kMaxLoadPerBucket per bucket): for the last ~20 % of
// its budget it grows overflow chains instead of doubling (GoMap::limitGrowth).
//
// Reporting. Every removal (evict, expire, delete, set, clear) is reported to the
// RemovalSink, if any, before the slot is freed: the binding copies the key and value and
// hands the batch to JavaScript after the call (onEvict runs in JS, never from the core).
//
// Admission. A set of a new key that forces an eviction asks Admission whether the
// candidate may displace the victim CLOCK picked (TinyLFU with a count-min sketch plugs in
// here, as in Caffeine); if not, the candidate itself is evicted and the victim stays.
// Every get and set reports the key's hash to Admission::recordAccess. AdmitAll, the
// default, admits everything and compiles to nothing (kEnabled = false).
#pragma once

#include <cstddef>
#include <cstdint>

#include "cache_slot.h"
#include "expiry_index.h"
#include "go_map.h"
#include "status.h"

namespace gomap {

// Why an entry left the cache (the onEvict reason).
enum class RemovalReason : uint8_t { kEvict = 0, kExpire = 1, kDelete = 2, kSet = 3 };

struct CacheLimits {
  uint64_t maxEntries = 0;  // 0: no entry limit
  uint64_t maxBytes = 0;    // 0: no byte limit
  uint64_t ttl = 0;         // default time-to-live (ms); 0: entries do not expire
  bool updateAgeOnGet = false;
};

struct CacheStats {
  uint64_t hits = 0;
  uint64_t misses = 0;
  uint64_t evictions = 0;
  uint64_t expirations = 0;
  uint64_t size = 0;   // entries held (expired ones included until removed)
  uint64_t bytes = 0;  // sum of key + value charges
};

// What a set did.
enum class SetOutcome : uint8_t { kInserted, kReplaced, kRefused };

// Receives each removed entry before its slot is freed (views valid during the call).
template <class KeyView, class ValueView>
class RemovalSink {
 public:
  virtual ~RemovalSink() = default;
  virtual void removed(const KeyView& key, const ValueView& value, RemovalReason reason) = 0;
  // Forgets the last report (a replace that then failed).
  virtual void retract() = 0;
};

// The admission policy that admits everything (no frequency sketch).
struct AdmitAll {
  static constexpr bool kEnabled = false;
  void recordAccess(uint64_t) {}
  bool admit(uint64_t /*candidateHash*/, uint64_t /*victimHash*/) { return true; }
};

namespace cache_detail {
// Buckets the expiry sweep visits per write.
constexpr uint64_t kSweepBucketsPerWrite = 2;
// The hand clears every bit in one revolution: two revolutions always find a victim.
constexpr uint64_t kMaxRevolutions = 2;
// Entries per bucket at which a cache with an entry limit stops doubling its table (Go
// doubles at 6.5; a bucket has 8 slots, so this keeps chains to ~1.5 buckets on average).
constexpr uint64_t kMaxLoadPerBucket = 8;
// Passed as ttl to set(): use the cache's default ttl.
constexpr uint64_t kDefaultTtl = ~uint64_t{0};
}  // namespace cache_detail

template <class K, class V, class Admission = AdmitAll>
class Cache {
 public:
  using Slot = CacheSlot<V>;
  using Table = GoMap<K, Slot>;
  using KeyView = typename K::View;
  using ValueView = typename V::View;
  using Sink = RemovalSink<KeyView, ValueView>;
  using Iterator = typename Table::Iterator;

  Cache(const MapOptions& options, const CacheLimits& limits, Sink* sink = nullptr)
      : table_(options), limits_(limits), sink_(sink) {
    // With an entry limit, the table stops doubling once its slots could hold every
    // entry (max + 1 during a set): up to kMaxLoadPerBucket entries per bucket, in overflow
    // chains past Go's 6.5, instead of a table twice as big for the last entries.
    if (limits.maxEntries != 0) {
      unsigned b = 0;
      while (b < map_detail::kMaxB &&
             (uint64_t{cache_detail::kMaxLoadPerBucket} << b) < limits.maxEntries + 1) {
        ++b;
      }
      table_.limitGrowth(b);
    }
  }
  Cache(const Cache&) = delete;
  Cache& operator=(const Cache&) = delete;

  // Stores key -> value for ttl ms (cache_detail::kDefaultTtl: the default ttl; 0: none).
  Status set(const KeyView& key, const ValueView& value, uint64_t now, uint64_t ttl, SetOutcome* outcome);
  // A read: on a hit sets the CLOCK bit (and restarts the ttl with updateAgeOnGet), and
  // counts a hit or a miss.
  bool get(const KeyView& key, uint64_t now, ValueView* out);
  // A read without recency update or stats.
  bool peek(const KeyView& key, uint64_t now, ValueView* out);
  bool has(const KeyView& key, uint64_t now) { return peek(key, now, nullptr); }
  // Removes key (reason kDelete).
  bool erase(const KeyView& key) { return eraseFor(key, RemovalReason::kDelete); }
  // Removes everything (each entry reported with reason kDelete).
  void clear();
  // Remaining time-to-live of key: false when absent (or expired); *noExpiry when it
  // never expires.
  bool remainingTtl(const KeyView& key, uint64_t now, uint64_t* remaining, bool* noExpiry);
  // Removes every expired entry now.
  void purgeExpired(uint64_t now);

  uint64_t size() const { return table_.size(); }
  uint64_t bytes() const { return bytes_; }
  // Native bytes beyond the table: the expiry index.
  size_t indexBytes() const { return index_.bytes(); }
  CacheStats stats() const {
    CacheStats s = stats_;
    s.size = table_.size();
    s.bytes = bytes_;
    return s;
  }
  const CacheLimits& limits() const { return limits_; }
  // The table (iteration, table stats). Iterators see expired entries: check isLive().
  Table& table() { return table_; }
  static bool isLive(const typename Slot::View& v, uint64_t now) { return !expired(v.state, now); }

  static uint64_t chargeOf(const KeyView& key, const ValueView& value) {
    return Charge<K>::of(key) + Charge<V>::of(value);
  }

 private:
  static bool expired(uint64_t state, uint64_t now) {
    uint64_t at = state & kCacheExpiryMask;
    return at != 0 && at <= now;
  }
  static uint64_t expiryFor(uint64_t now, uint64_t ttl) {
    if (ttl == 0) return 0;
    uint64_t at = now + ttl;
    return at > kCacheExpiryMask ? kCacheExpiryMask : at;
  }
  bool overLimits() const {
    return (limits_.maxEntries != 0 && table_.size() > limits_.maxEntries) ||
           (limits_.maxBytes != 0 && bytes_ > limits_.maxBytes);
  }
  void report(const uint8_t* keySlot, const uint8_t* valueSlot, RemovalReason reason) {
    ValueView v = Slot::value(valueSlot);
    bytes_ -= chargeOf(K::load(keySlot), v);
    if (sink_ != nullptr) sink_->removed(K::load(keySlot), v, reason);
  }
  bool eraseFor(const KeyView& key, RemovalReason reason);
  // Removes key because it expired (a read found it so).
  void expire(const KeyView& key) {
    if (eraseFor(key, RemovalReason::kExpire)) ++stats_.expirations;
  }
  // Evicts until within limits; never evicts the slot `keep` (the entry just written).
  // `candidate`: the key just inserted (null for an overwrite), which Admission may refuse.
  void enforceLimits(const uint8_t* keep, const KeyView* candidate, uint64_t now);
  void sweep(uint64_t now, uint64_t buckets);
  // Removes the expired entries of one bucket and sets its index bound exactly.
  void purgeBucket(uint64_t bucket, uint64_t now);
  // Whether the expiry index covers every entry with a ttl.
  bool indexed() const { return anyExpiry_ && !indexFailed_ && index_.enabled(); }
  // Keeps the index as large as the table (after any insert, which may grow it).
  void syncIndex() {
    if (!anyExpiry_ || indexFailed_) return;
    if (index_.leaves() != table_.bucketCount() && !index_.resize(table_.bucketCount())) indexFailed_ = true;
  }

  Table table_;
  CacheLimits limits_;
  Sink* sink_;
  Admission admission_;
  CacheStats stats_;
  uint64_t bytes_ = 0;
  uint64_t hand_ = 0;       // CLOCK hand: bucket index ...
  size_t handPosition_ = 0;  // ... and the first chain position it has not passed yet
  uint64_t sweepHand_ = 0;  // expiry sweep (bucket index)
  bool anyExpiry_ = false;  // some entry was stored with a ttl since the last clear
  bool indexFailed_ = false;  // the index could not be allocated: sweep in order instead
  ExpiryIndex index_;
};

template <class K, class V, class A>
Status Cache<K, V, A>::set(const KeyView& key, const ValueView& value, uint64_t now, uint64_t ttl,
                           SetOutcome* outcome) {
  const uint64_t charge = chargeOf(key, value);
  if (limits_.maxBytes != 0 && charge > limits_.maxBytes) {
    eraseFor(key, RemovalReason::kDelete);  // as lru-cache does for an oversized set
    *outcome = SetOutcome::kRefused;
    return Status::kOk;
  }
  if (ttl == cache_detail::kDefaultTtl) ttl = limits_.ttl;
  if (ttl > kMaxCacheTtl) return Status::kTooLarge;
  typename Slot::View entry;
  entry.state = expiryFor(now, ttl) | cache_ttl::encode(ttl);
  entry.value = value;
  uint8_t* slot = table_.findValue(key);
  bool reported = false;
  uint64_t oldCharge = 0;
  if (slot != nullptr) {
    // Overwrite: the entry counts as used (referenced), the old value is reported first
    // (its memory goes with the write) and taken back if the write fails.
    entry.state |= kCacheReferencedBit;
    ValueView old = Slot::value(slot);
    oldCharge = chargeOf(key, old);
    if (sink_ != nullptr) {
      sink_->removed(key, old, RemovalReason::kSet);
      reported = true;
    }
  }
  bool inserted = false;
  uint8_t* where = nullptr;
  Status s = table_.setLocated(key, entry, &inserted, &where);
  if (s != Status::kOk) {
    if (reported) sink_->retract();
    return s;
  }
  bytes_ = bytes_ - oldCharge + charge;
  if (ttl != 0) anyExpiry_ = true;
  syncIndex();
  if (ttl != 0 && indexed()) index_.lower(table_.bucketOf(key), entry.state & kCacheExpiryMask);
  *outcome = inserted ? SetOutcome::kInserted : SetOutcome::kReplaced;
  if constexpr (A::kEnabled) admission_.recordAccess(K::hash(key, 0));
  if (anyExpiry_) sweep(now, cache_detail::kSweepBucketsPerWrite);
  // Removals never move a slot, and the sweep cannot take the fresh entry (it expires
  // after now, or never): `where` still names it.
  if (overLimits()) enforceLimits(where, inserted ? &key : nullptr, now);
  return Status::kOk;
}

template <class K, class V, class A>
bool Cache<K, V, A>::get(const KeyView& key, uint64_t now, ValueView* out) {
  uint8_t* slot = table_.findValue(key);
  if (slot != nullptr) {
    uint64_t state = Slot::state(slot);
    if (!expired(state, now)) {
      state |= kCacheReferencedBit;
      if (limits_.updateAgeOnGet) {
        const uint64_t ttl = cache_ttl::decode(state);
        if (ttl != 0) state = kCacheReferencedBit | (state & kCacheTtlField) | expiryFor(now, ttl);
      }
      Slot::setState(slot, state);
      if (out != nullptr) *out = Slot::value(slot);
      ++stats_.hits;
      if constexpr (A::kEnabled) admission_.recordAccess(K::hash(key, 0));
      return true;
    }
    expire(key);
  }
  ++stats_.misses;
  if constexpr (A::kEnabled) admission_.recordAccess(K::hash(key, 0));
  return false;
}

template <class K, class V, class A>
bool Cache<K, V, A>::peek(const KeyView& key, uint64_t now, ValueView* out) {
  uint8_t* slot = table_.findValue(key);
  if (slot == nullptr) return false;
  if (expired(Slot::state(slot), now)) {
    expire(key);
    return false;
  }
  if (out != nullptr) *out = Slot::value(slot);
  return true;
}

template <class K, class V, class A>
bool Cache<K, V, A>::remainingTtl(const KeyView& key, uint64_t now, uint64_t* remaining, bool* noExpiry) {
  uint8_t* slot = table_.findValue(key);
  if (slot == nullptr) return false;
  uint64_t at = Slot::state(slot) & kCacheExpiryMask;
  if (at != 0 && at <= now) {
    expire(key);
    return false;
  }
  *noExpiry = at == 0;
  *remaining = at == 0 ? 0 : at - now;
  return true;
}

template <class K, class V, class A>
bool Cache<K, V, A>::eraseFor(const KeyView& key, RemovalReason reason) {
  return table_.erase(key, [&](const typename Slot::View& v) {
    bytes_ -= chargeOf(key, v.value);
    if (sink_ != nullptr) sink_->removed(key, v.value, reason);
  });
}

template <class K, class V, class A>
void Cache<K, V, A>::clear() {
  if (sink_ != nullptr && table_.size() != 0) {
    const uint64_t n = table_.bucketCount();
    for (uint64_t i = 0; i < n; ++i) {
      table_.visitBucket(i, [&](size_t, uint8_t* k, uint8_t* v) {
        sink_->removed(K::load(k), Slot::value(v), RemovalReason::kDelete);
        return Table::SlotAction::kKeep;
      });
    }
  }
  table_.clear();
  bytes_ = 0;
  hand_ = sweepHand_ = 0;
  handPosition_ = 0;
  anyExpiry_ = false;
  indexFailed_ = false;
  index_.reset();
}

template <class K, class V, class A>
void Cache<K, V, A>::purgeBucket(uint64_t bucket, uint64_t now) {
  uint64_t earliest = 0;  // of the entries that stay
  table_.visitBucket(bucket, [&](size_t, uint8_t* k, uint8_t* v) {
    const uint64_t at = Slot::state(v) & kCacheExpiryMask;
    if (at != 0 && at <= now) {
      report(k, v, RemovalReason::kExpire);
      ++stats_.expirations;
      return Table::SlotAction::kRemove;
    }
    if (at != 0 && (earliest == 0 || at < earliest)) earliest = at;
    return Table::SlotAction::kKeep;
  });
  if (indexed()) index_.assign(bucket, earliest);
}

template <class K, class V, class A>
void Cache<K, V, A>::sweep(uint64_t now, uint64_t buckets) {
  const uint64_t n = table_.bucketCount();
  if (n == 0) return;
  if (buckets > n) buckets = n;
  if (indexed()) {
    uint64_t b;
    for (uint64_t step = 0; step < buckets && index_.findDue(now, &b); ++step) purgeBucket(b, now);
    return;
  }
  for (uint64_t step = 0; step < buckets && table_.size() != 0; ++step) {
    purgeBucket(sweepHand_, now);
    sweepHand_ = (sweepHand_ + 1) & (n - 1);
  }
}

template <class K, class V, class A>
void Cache<K, V, A>::purgeExpired(uint64_t now) {
  if (!anyExpiry_) return;
  if (indexed()) {
    uint64_t b;
    while (index_.findDue(now, &b)) purgeBucket(b, now);
    return;
  }
  sweepHand_ = 0;
  sweep(now, table_.bucketCount());
}

template <class K, class V, class A>
void Cache<K, V, A>::enforceLimits(const uint8_t* keep, const KeyView* candidate, uint64_t now) {
  bool refused = false;  // Admission turned the candidate away
  // The hand is a (bucket, position-in-chain) pair: it stays in a bucket until it has
  // passed every slot there, so each slot gets its second chance once per revolution.
  // Two revolutions clear and then find every bit.
  if (indexed()) {
    // Expired entries first, wherever they are. Each due bucket either loses an expired
    // entry or gets its exact bound (then in the future): this ends.
    uint64_t b;
    while (overLimits() && index_.findDue(now, &b)) purgeBucket(b, now);
  }
  uint64_t budget = (cache_detail::kMaxRevolutions + 1) * table_.bucketCount() + 1;
  while (overLimits() && table_.size() != 0 && budget-- != 0) {
    const uint64_t n = table_.bucketCount();
    hand_ &= n - 1;
    bool stopped = false;
    table_.visitBucket(hand_, [&](size_t position, uint8_t* k, uint8_t* v) {
      if (v == keep) return Table::SlotAction::kKeep;
      uint64_t state = Slot::state(v);
      if (expired(state, now)) {
        report(k, v, RemovalReason::kExpire);
        ++stats_.expirations;
        return Table::SlotAction::kRemove;
      }
      if (stopped || position < handPosition_) return Table::SlotAction::kKeep;
      if (!overLimits()) {
        stopped = true;
        handPosition_ = position;
        return Table::SlotAction::kKeep;
      }
      if ((state & kCacheReferencedBit) != 0) {
        Slot::setState(v, state & ~kCacheReferencedBit);
        return Table::SlotAction::kKeep;
      }
      if constexpr (A::kEnabled) {
        // TinyLFU's question: is the newcomer worth more than this victim? If not, the
        // newcomer goes instead (below) and the victim stays.
        if (candidate != nullptr && !refused &&
            !admission_.admit(K::hash(*candidate, 0), K::hash(K::load(k), 0))) {
          refused = true;
          stopped = true;
          return Table::SlotAction::kKeep;
        }
      }
      report(k, v, RemovalReason::kEvict);
      ++stats_.evictions;
      return Table::SlotAction::kRemove;
    });
    if (refused) {
      // The candidate is evicted in place of the victim Admission preferred to keep.
      table_.erase(*candidate, [&](const typename Slot::View& v) {
        bytes_ -= chargeOf(*candidate, v.value);
        if (sink_ != nullptr) sink_->removed(*candidate, v.value, RemovalReason::kEvict);
      });
      ++stats_.evictions;
      keep = nullptr;
      candidate = nullptr;
      continue;
    }
    if (!stopped) {
      if (!overLimits()) {
        // Satisfied by the bucket's last slot: the next eviction resumes after it.
        handPosition_ = ~size_t{0};
        break;
      }
      hand_ = (hand_ + 1) & (n - 1);
      handPosition_ = 0;
    }
  }
  if (handPosition_ == ~size_t{0}) {
    hand_ = (hand_ + 1) & (table_.bucketCount() - 1);
    handPosition_ = 0;
  }
}

}  // namespace gomap
