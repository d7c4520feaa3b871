// CacheBinding: one core Cache (native/core/cache.h) as JavaScript sees it, whatever its
// kinds; TypedCache<KeyCodec, ValueCodec> implements it for one key kind x value kind.
//
// Conversions only (the key and value codecs of GoMap), no cache logic. Return values
// (the protocol lib/binding.ts declares for the cache* functions):
//   get / peek   the value, or undefined when absent (for 'any' values: the slab index)
//   has          boolean
//   set          0 inserted, 1 replaced, 2 refused (over maxBytes on its own)
//   remove       boolean
//   remainingTtl ms left; Infinity: no expiry; 0: absent
//   entries      a flat array [k0, v0, k1, v1, ...] ([k0, ...] when keysOnly) of the
//                live entries (a snapshot)
//   drain        the entries removed since the last drain, as a flat array
//                [reason0, k0, v0, reason1, ...] (reasons: 0 evict, 1 expire, 2 delete,
//                3 set); object keys of 'any' caches as [id], 'any' values as slab indexes
// Removed entries are copied (the core reports them before it frees their slots) into a
// list the façade drains after the call, so onEvict runs in JS after the native call.
// The list is kept only when the façade asks for it (`report`): onEvict, 'any' keys or
// values (the façade must forget identities and free slab cells).
#pragma once

#include <node_api.h>

#include <chrono>
#include <cmath>
#include <cstdint>
#include <memory>
#include <new>
#include <string>
#include <type_traits>
#include <vector>

#include "core/cache.h"
#include "errors.h"
#include "key_codec.h"
#include "map_binding.h"
#include "value_codec.h"

namespace gomap::addon {

// The cache's coarse clock: milliseconds of a monotonic clock, from 1 (0 means "never").
inline uint64_t cacheNowMs() {
  using namespace std::chrono;
  static const steady_clock::time_point start = steady_clock::now();
  return static_cast<uint64_t>(duration_cast<milliseconds>(steady_clock::now() - start).count()) + 1;
}

// Which removals the façade needs: none; all, drained as entries (onEvict); or only slab
// cells and identity ids to free, passed inline in the I/O area when they fit.
enum class ReportMode : uint8_t { kNone = 0, kDrain = 1, kInline = 2 };

class CacheBinding {
 public:
  virtual ~CacheBinding() = default;
  // ttl: ms, or cache_detail::kDefaultTtl; charge: the sizeOf charge of an 'any' value.
  virtual napi_value set(napi_env env, napi_value key, napi_value value, uint64_t ttl, uint32_t charge,
                         napi_value ref) = 0;
  virtual napi_value get(napi_env env, napi_value key, napi_value ref, bool touch) = 0;
  virtual napi_value has(napi_env env, napi_value key, napi_value ref) = 0;
  virtual napi_value remove(napi_env env, napi_value key, napi_value ref) = 0;
  virtual napi_value remainingTtl(napi_env env, napi_value key, napi_value ref) = 0;
  virtual napi_value entries(napi_env env, bool keysOnly) = 0;
  virtual napi_value drain(napi_env env) = 0;
  virtual void clear() = 0;
  virtual void purge() = 0;
  virtual CacheStats stats() const = 0;
  virtual uint64_t tableBytes() const = 0;
  // Entries removed and not drained yet.
  virtual size_t pending() const = 0;
  // Moves up to `max` removed entries into `cells` as pairs (slab index or -1, identity id
  // of an object key to forget or 0) when the cache was created in inline mode and every
  // pending entry fits; returns how many (0: use drain()). For caches without onEvict,
  // which only need to free slab cells and identity ids, this saves a call per eviction.
  virtual uint32_t takeInline(double* cells, uint32_t max) = 0;
  // Benchmarks and tests: from now on the cache's clock reads `ms` (>= 1) until set again;
  // 0 returns to the monotonic clock.
  virtual void setManualTime(uint64_t ms) = 0;
  double handle = 0;
};

// An owned copy of a key or value view (a removed entry outlives its slot).
template <class View>
struct Owned {
  View view{};
  void assign(const View& v) { view = v; }
  const View& get() const { return view; }
};
template <>
struct Owned<Blob> {
  uint8_t tag = 0;
  std::string bytes;
  void assign(const Blob& b) {
    tag = b.tag;
    bytes.assign(reinterpret_cast<const char*>(b.data), b.len);
  }
  Blob get() const { return Blob{tag, reinterpret_cast<const uint8_t*>(bytes.data()), static_cast<uint32_t>(bytes.size())}; }
};

template <class KC, class VC>
class TypedCache final : public CacheBinding {
 public:
  using KeyView = typename KC::View;
  // 'any' values: slab index + sizeOf charge in one word (cache_slot.h).
  using ValuePolicy = std::conditional_t<VC::kSlab, SlabChargeValue, typename VC::Policy>;
  using ValueView = typename ValuePolicy::View;
  using Core = Cache<typename KC::Policy, ValuePolicy>;

  TypedCache(const MapOptions& options, const CacheLimits& limits, ReportMode report)
      : sink_(this),
        core_(options, limits, report != ReportMode::kNone ? &sink_ : nullptr),
        clocked_(limits.ttl != 0),
        inline_(report == ReportMode::kInline) {}

  napi_value set(napi_env env, napi_value key, napi_value value, uint64_t ttl, uint32_t charge,
                 napi_value ref) override {
    typename KC::Scratch keyScratch;
    KeyView k;
    if (!KC::read(env, key, RefSource{ref}, keyScratch, &k)) return nullptr;
    ValueView v;
    typename VC::Scratch valueScratch;
    if constexpr (VC::kSlab) {
      typename VC::View index;
      if (!VC::read(env, value, valueScratch, &index)) return nullptr;
      v = SlabChargeValue::pack(index, charge);
    } else {
      (void)charge;
      if (!VC::read(env, value, valueScratch, &v)) return nullptr;
    }
    if (ttl != 0 && ttl != cache_detail::kDefaultTtl) clocked_ = true;
    SetOutcome outcome = SetOutcome::kInserted;
    Status s = core_.set(k, v, now(), ttl, &outcome);
    if (s != Status::kOk) return throwStatus(env, s, "GoCache set");
    napi_value result = nullptr;
    napi_create_uint32(env, static_cast<uint32_t>(outcome), &result);
    return result;
  }

  napi_value get(napi_env env, napi_value key, napi_value ref, bool touch) override {
    typename KC::Scratch scratch;
    KeyView k;
    if (!KC::read(env, key, RefSource{ref}, scratch, &k)) return nullptr;
    ValueView v;
    const bool found = touch ? core_.get(k, now(), &v) : core_.peek(k, now(), &v);
    if (!found) return nullptr;  // undefined
    return valueToJs(env, v);
  }

  napi_value has(napi_env env, napi_value key, napi_value ref) override {
    typename KC::Scratch scratch;
    KeyView k;
    if (!KC::read(env, key, RefSource{ref}, scratch, &k)) return nullptr;
    napi_value result = nullptr;
    napi_get_boolean(env, core_.has(k, now()), &result);
    return result;
  }

  napi_value remove(napi_env env, napi_value key, napi_value ref) override {
    typename KC::Scratch scratch;
    KeyView k;
    if (!KC::read(env, key, RefSource{ref}, scratch, &k)) return nullptr;
    napi_value result = nullptr;
    napi_get_boolean(env, core_.erase(k), &result);
    return result;
  }

  napi_value remainingTtl(napi_env env, napi_value key, napi_value ref) override {
    typename KC::Scratch scratch;
    KeyView k;
    if (!KC::read(env, key, RefSource{ref}, scratch, &k)) return nullptr;
    uint64_t remaining = 0;
    bool never = false;
    double ms = 0;
    if (core_.remainingTtl(k, now(), &remaining, &never)) ms = never ? INFINITY : static_cast<double>(remaining);
    napi_value result = nullptr;
    napi_create_double(env, ms, &result);
    return result;
  }

  napi_value entries(napi_env env, bool keysOnly) override {
    napi_value result = nullptr;
    if (napi_create_array(env, &result) != napi_ok) return nullptr;
    const uint64_t t = now();
    uint32_t index = 0;
    typename Core::Iterator it(core_.table());
    KeyView k;
    typename Core::Slot::View v;
    while (it.next(&k, &v)) {
      if (!Core::isLive(v, t)) continue;
      napi_value jsKey = KC::toJs(env, k);
      if (jsKey == nullptr) return nullptr;
      napi_set_element(env, result, index++, jsKey);
      if (!keysOnly) {
        napi_value jsValue = valueToJs(env, v.value);
        if (jsValue == nullptr) return nullptr;
        napi_set_element(env, result, index++, jsValue);
      }
    }
    return result;
  }

  napi_value drain(napi_env env) override {
    napi_value result = nullptr;
    if (napi_create_array_with_length(env, removed_.size() * 3, &result) != napi_ok) return nullptr;
    uint32_t index = 0;
    for (const Removed& r : removed_) {
      napi_value reason, jsKey, jsValue;
      napi_create_uint32(env, static_cast<uint32_t>(r.reason), &reason);
      jsKey = KC::toJs(env, r.key.get());
      jsValue = valueToJs(env, r.value.get());
      if (jsKey == nullptr || jsValue == nullptr) return nullptr;
      napi_set_element(env, result, index++, reason);
      napi_set_element(env, result, index++, jsKey);
      napi_set_element(env, result, index++, jsValue);
    }
    removed_.clear();
    if (removed_.capacity() > kKeptReportCapacity) removed_.shrink_to_fit();
    return result;
  }

  void clear() override { core_.clear(); }
  void purge() override { core_.purgeExpired(now()); }
  CacheStats stats() const override { return core_.stats(); }
  uint64_t tableBytes() const override {
    return const_cast<Core&>(core_).table().stats().bytes + core_.indexBytes();
  }
  size_t pending() const override { return removed_.size(); }
  void setManualTime(uint64_t ms) override { manualNow_ = ms; }

  uint32_t takeInline(double* cells, uint32_t max) override {
    if (!inline_ || removed_.empty() || removed_.size() > max) return 0;
    uint32_t n = 0;
    for (const Removed& r : removed_) {
      double slab = -1;
      if constexpr (VC::kSlab) slab = static_cast<double>(SlabChargeValue::slabIndex(r.value.get()));
      double id = 0;
      if constexpr (std::is_same_v<KeyView, Blob>) {
        const Blob k = r.key.get();
        if (r.reason != RemovalReason::kSet && k.tag == kTagObjectRef && k.len == 8) {
          uint64_t v = 0;
          for (int i = 7; i >= 0; --i) v = (v << 8) | k.data[i];  // little-endian (key_codec)
          id = static_cast<double>(v);
        }
      }
      cells[2 * n] = slab;
      cells[2 * n + 1] = id;
      ++n;
    }
    removed_.clear();
    return n;
  }

 private:
  static constexpr size_t kKeptReportCapacity = 1024;

  struct Removed {
    Owned<KeyView> key;
    Owned<ValueView> value;
    RemovalReason reason;
  };
  class Sink final : public RemovalSink<KeyView, ValueView> {
   public:
    explicit Sink(TypedCache* owner) : owner_(owner) {}
    // Called from inside the core: must not throw (a failed copy drops the report).
    void removed(const KeyView& k, const ValueView& v, RemovalReason reason) override {
      try {
        owner_->removed_.emplace_back();
        Removed& r = owner_->removed_.back();
        r.key.assign(k);
        r.value.assign(v);
        r.reason = reason;
      } catch (...) {
        if (!owner_->removed_.empty()) owner_->removed_.pop_back();
      }
    }
    void retract() override {
      if (!owner_->removed_.empty()) owner_->removed_.pop_back();
    }

   private:
    TypedCache* owner_;
  };

  static napi_value valueToJs(napi_env env, const ValueView& v) {
    if constexpr (VC::kSlab) {
      napi_value result = nullptr;
      napi_create_uint32(env, SlabChargeValue::slabIndex(v), &result);
      return result;
    } else {
      return VC::toJs(env, v);
    }
  }

  // Reads the clock only once some entry may expire.
  uint64_t now() const { return manualNow_ != 0 ? manualNow_ : clocked_ ? cacheNowMs() : 1; }

  std::vector<Removed> removed_;
  Sink sink_;
  Core core_;
  bool clocked_;
  bool inline_;
  uint64_t manualNow_ = 0;
};

// A new cache of the given kinds, or nullptr (out of memory).
std::unique_ptr<CacheBinding> createCacheBinding(KeyKind key, ValueKind value, const MapOptions& options,
                                                 const CacheLimits& limits, ReportMode report);

}  // namespace gomap::addon
