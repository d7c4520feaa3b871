// WasmCache: one Cache of the core (core/cache.h) as the WebAssembly exports see it,
// whatever its kinds.
//
// The counterpart of the addon's CacheBinding (native/addon/cache_binding.h) for the
// WebAssembly build, as WasmMap (wasm_map.h) is MapBinding's. Keys and values arrive as
// Args (abi.h) that JS has already checked and encoded, with the cache's clock (`now`,
// ms, from JS: the module imports nothing, so it cannot read a clock itself); each method
// reads them with the Arg readers of wasm_map.h, calls the core and writes the result
// back as Args. No cache logic lives here.
//
//   SlabChargeArg  'any' values of a cache: the word is the core's SlabChargeValue
//                  (slab index in the low 32 bits, sizeOf charge in the high 32 bits)
//
// Removal reports. When JS asks for them (a report mode other than none: onEvict, or
// 'any' keys / values whose identities and slab cells JS must free), every entry the
// core removes is copied into a ReportLog before its slot is freed, as the addon's
// TypedCache copies it into a std::vector. JS reads the log after the call in one go
// (gomap_cache_reports) and empties it. The module has no exceptions and no libc++: the
// log grows with realloc, and a copy that cannot be allocated drops that report, exactly
// where the addon's catch (...) drops it.
#pragma once

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <new>
#include <type_traits>

#include "abi.h"
#include "core/cache.h"
#include "core/cache_slot.h"
#include "wasm_map.h"

namespace gomap::wasm {

struct SlabChargeArg {
  using Policy = SlabChargeValue;
  using View = uint64_t;
  static View read(const Arg& a) { return a.word; }
  static void write(Arg* a, View v) { a->word = v; }
};

// One removed entry as JS reads it (lib/wasm/cache-binding.ts mirrors this layout).
struct Report {
  Arg key;
  Arg value;
  uint32_t reason;  // RemovalReason
  uint32_t mark;    // size of the byte arena before this report's bytes
};
static_assert(sizeof(Report) == 56 && offsetof(Report, reason) == 48, "lib/wasm/cache-binding.ts mirrors this layout");

// The removed entries of one cache since JS last read them: Report records, and the bytes
// of their blob keys and values in one arena (blob Args hold arena offsets until
// published() turns them into addresses).
class ReportLog {
 public:
  ReportLog() = default;
  ReportLog(const ReportLog&) = delete;
  ReportLog& operator=(const ReportLog&) = delete;
  ~ReportLog() {
    std::free(reports_);
    std::free(bytes_);
  }

  uint32_t size() const { return size_; }

  // Appends a report (key and value Args already written, blob ptrs as arena offsets by
  // copy()); false when memory runs out (nothing is appended then).
  Report* append(uint32_t mark) {
    if (size_ == capacity_) {
      const uint32_t more = capacity_ == 0 ? 16 : capacity_ * 2;
      auto* grown = static_cast<Report*>(std::realloc(reports_, sizeof(Report) * more));
      if (grown == nullptr) return nullptr;
      reports_ = grown;
      capacity_ = more;
    }
    Report* r = &reports_[size_++];
    std::memset(r, 0, sizeof(Report));
    r->mark = mark;
    return r;
  }

  // Copies `len` bytes into the arena; the offset, or -1 when memory runs out.
  int64_t copy(const uint8_t* data, uint32_t len) {
    if (len > kMaxArena - used_) return -1;
    if (used_ + len > arenaCapacity_) {
      uint32_t want = arenaCapacity_ == 0 ? 256 : arenaCapacity_;
      while (want < used_ + len) want = want > kMaxArena / 2 ? kMaxArena : want * 2;
      auto* grown = static_cast<uint8_t*>(std::realloc(bytes_, want));
      if (grown == nullptr) return -1;
      bytes_ = grown;
      arenaCapacity_ = want;
    }
    const uint32_t at = used_;
    if (len != 0) std::memcpy(bytes_ + at, data, len);
    used_ += len;
    return at;
  }

  uint32_t arenaUsed() const { return used_; }

  // Forgets the last report (and its bytes).
  void popBack() {
    if (size_ == 0) return;
    used_ = reports_[--size_].mark;
  }

  // The reports with their blob Args pointing into the arena (valid until the next
  // change of the log).
  Report* published() {
    if (!published_) {
      for (uint32_t i = 0; i < size_; ++i) {
        fix(&reports_[i].key);
        fix(&reports_[i].value);
      }
      published_ = true;
    }
    return reports_;
  }

  // Empties the log, giving back big buffers (as the addon's kKeptReportCapacity).
  void clear() {
    size_ = 0;
    used_ = 0;
    published_ = false;
    if (capacity_ > kKeptReports) {
      std::free(reports_);
      reports_ = nullptr;
      capacity_ = 0;
    }
    if (arenaCapacity_ > kKeptArenaBytes) {
      std::free(bytes_);
      bytes_ = nullptr;
      arenaCapacity_ = 0;
    }
  }

  // Appending after published() would mix offsets and addresses: start over from the
  // offsets (published() then fixes every report again).
  void unpublish() {
    if (!published_) return;
    for (uint32_t i = 0; i < size_; ++i) {
      unfix(&reports_[i].key);
      unfix(&reports_[i].value);
    }
    published_ = false;
  }

  // Blob Args carry kBlobArg in `reserved` while their ptr is an arena offset.
  static constexpr uint32_t kBlobArg = 1;

 private:
  static constexpr uint32_t kMaxArena = 0xfff00000u;
  static constexpr uint32_t kKeptReports = 1024;
  static constexpr uint32_t kKeptArenaBytes = 1u << 16;

  void fix(Arg* a) const {
    if (a->reserved == kBlobArg) a->ptr += static_cast<uint32_t>(reinterpret_cast<uintptr_t>(bytes_));
  }
  void unfix(Arg* a) const {
    if (a->reserved == kBlobArg) a->ptr -= static_cast<uint32_t>(reinterpret_cast<uintptr_t>(bytes_));
  }

  Report* reports_ = nullptr;
  uint32_t size_ = 0;
  uint32_t capacity_ = 0;
  uint8_t* bytes_ = nullptr;
  uint32_t used_ = 0;
  uint32_t arenaCapacity_ = 0;
  bool published_ = false;
};

// A live iteration over one cache's entries (freed before its cache is destroyed).
class WasmCacheIter {
 public:
  virtual ~WasmCacheIter() = default;
  // The next live entry (at time now) into *key / *value; false when the iteration is over.
  virtual bool next(uint64_t now, Arg* key, Arg* value) = 0;
};

class WasmCache {
 public:
  virtual ~WasmCache() = default;
  // ttl: ms, or cache_detail::kDefaultTtl. 0 inserted, 1 replaced, 2 refused, or
  // kResultNoMemory / kResultTooLarge (cache unchanged).
  virtual int32_t set(const Arg& key, const Arg& value, uint64_t now, uint64_t ttl) = 0;
  // get (touch: recency and stats) or peek: 1 when found (value to *out), else 0.
  virtual int32_t get(const Arg& key, uint64_t now, Arg* out, bool touch) = 0;
  virtual int32_t has(const Arg& key, uint64_t now) = 0;
  virtual int32_t erase(const Arg& key) = 0;
  // ms left, or -1 when absent; *noExpiry when it never expires.
  virtual double remainingTtl(const Arg& key, uint64_t now, bool* noExpiry) = 0;
  virtual void clear() = 0;
  virtual void purge(uint64_t now) = 0;
  virtual CacheStats stats() const = 0;
  // Native bytes of the table and the expiry index (the addon's tableBytes).
  virtual uint64_t tableBytes() = 0;
  virtual WasmCacheIter* newIterator() = 0;
  // Removal reports waiting for JS (0 when the cache keeps none).
  virtual uint32_t pending() const = 0;
  virtual Report* reports() = 0;
  virtual void clearReports() = 0;
};

template <class KA, class VA>
class TypedWasmCache final : public WasmCache {
 public:
  using KeyView = typename KA::View;
  using ValueView = typename VA::View;
  using Core = Cache<typename KA::Policy, typename VA::Policy>;

  TypedWasmCache(const MapOptions& options, const CacheLimits& limits, bool report)
      : sink_(this), core_(options, limits, report ? &sink_ : nullptr) {}

  int32_t set(const Arg& key, const Arg& value, uint64_t now, uint64_t ttl) override {
    SetOutcome outcome = SetOutcome::kInserted;
    const Status s = core_.set(KA::read(key), VA::read(value), now, ttl, &outcome);
    if (s != Status::kOk) return s == Status::kTooLarge ? kResultTooLarge : kResultNoMemory;
    return static_cast<int32_t>(outcome);
  }

  int32_t get(const Arg& key, uint64_t now, Arg* out, bool touch) override {
    ValueView v;
    const bool found = touch ? core_.get(KA::read(key), now, &v) : core_.peek(KA::read(key), now, &v);
    if (!found) return 0;
    VA::write(out, v);
    return 1;
  }

  int32_t has(const Arg& key, uint64_t now) override { return core_.has(KA::read(key), now) ? 1 : 0; }

  int32_t erase(const Arg& key) override { return core_.erase(KA::read(key)) ? 1 : 0; }

  double remainingTtl(const Arg& key, uint64_t now, bool* noExpiry) override {
    uint64_t remaining = 0;
    if (!core_.remainingTtl(KA::read(key), now, &remaining, noExpiry)) return -1;
    return static_cast<double>(remaining);
  }

  void clear() override { core_.clear(); }
  void purge(uint64_t now) override { core_.purgeExpired(now); }
  CacheStats stats() const override { return core_.stats(); }
  uint64_t tableBytes() override { return core_.table().stats().bytes + core_.indexBytes(); }
  WasmCacheIter* newIterator() override { return new (std::nothrow) Iter(core_.table()); }
  uint32_t pending() const override { return log_.size(); }
  Report* reports() override { return log_.published(); }
  void clearReports() override { log_.clear(); }

 private:
  class Iter final : public WasmCacheIter {
   public:
    explicit Iter(typename Core::Table& table) : it_(table) {}
    bool next(uint64_t now, Arg* key, Arg* value) override {
      KeyView k;
      typename Core::Slot::View v;
      while (it_.next(&k, &v)) {
        if (!Core::isLive(v, now)) continue;
        KA::write(key, k);
        VA::write(value, v.value);
        return true;
      }
      return false;
    }

   private:
    typename Core::Iterator it_;
  };

  class Sink final : public RemovalSink<KeyView, ValueView> {
   public:
    explicit Sink(TypedWasmCache* owner) : owner_(owner) {}
    // Called from inside the core: a copy that cannot be allocated drops the report.
    void removed(const KeyView& k, const ValueView& v, RemovalReason reason) override {
      ReportLog& log = owner_->log_;
      log.unpublish();
      lastKept_ = false;
      Report* r = log.append(log.arenaUsed());
      if (r == nullptr) return;
      if (!copyInto(log, &r->key, k) || !copyInto(log, &r->value, v)) {
        log.popBack();
        return;
      }
      r->reason = static_cast<uint32_t>(reason);
      lastKept_ = true;
    }
    // Takes back the last report, if it was kept (a dropped one is not there to take).
    void retract() override {
      if (!lastKept_) return;
      owner_->log_.unpublish();
      owner_->log_.popBack();
      lastKept_ = false;
    }

   private:
    static bool copyInto(ReportLog&, Arg* a, const uint64_t& word) {
      a->word = word;
      return true;
    }
    static bool copyInto(ReportLog& log, Arg* a, const Blob& b) {
      const int64_t at = log.copy(b.data, b.len);
      if (at < 0) return false;
      a->tag = b.tag;
      a->ptr = static_cast<uint32_t>(at);
      a->len = b.len;
      a->reserved = ReportLog::kBlobArg;
      return true;
    }

    TypedWasmCache* owner_;
    bool lastKept_ = false;
  };

  ReportLog log_;
  Sink sink_;
  Core core_;
};

// A new cache of the given kinds (lib/wasm's kind codes: f64, i64, string, bytes, any),
// or nullptr when memory runs out. report: keep removal reports for JS.
WasmCache* createWasmCache(int32_t keyKind, int32_t valueKind, const MapOptions& options, const CacheLimits& limits,
                           bool report);

}  // namespace gomap::wasm
