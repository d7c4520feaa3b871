// TypedMap<KeyCodec, ValueCodec>: MapBinding over one instantiation of the core GoMap.
//
// Included only by the map_factory_*.cc files, which instantiate it for every key kind x
// native value kind (5 x 5). Everything here is conversion and bookkeeping around core
// calls; see map_binding.h for the protocol and key_codec.h / value_codec.h for the
// conversions.
#pragma once

#include <memory>
#include <new>
#include <type_traits>
#include <vector>

#include "batch.h"
#include "core/go_map.h"
#include "errors.h"
#include "io_area.h"
#include "key_codec.h"
#include "map_binding.h"
#include "packed.h"
#include "value_codec.h"

namespace gomap::addon {

// Native memory is reported to V8 (napi_adjust_external_memory) in steps of this many
// bytes, so V8 knows what an unreachable map holds when it schedules collections.
constexpr int64_t kExternalMemoryStep = 1 << 20;

template <class KC, class VC>
class TypedMap final : public MapBinding {
 public:
  using Core = GoMap<typename KC::Policy, typename VC::Policy>;
  using KeyView = typename KC::View;
  using ValueView = typename VC::View;
  static constexpr bool kBlobValues = std::is_same_v<ValueView, Blob>;

  explicit TypedMap(const MapOptions& options) : core_(options) {}
  Status init(uint64_t hint) { return core_.init(hint); }

  napi_value get(napi_env env, napi_value key, napi_value ref) override {
    typename KC::Scratch scratch;
    KeyView k;
    if (!KC::read(env, key, RefSource{ref}, scratch, &k)) return nullptr;
    ValueView v;
    if (!core_.get(k, &v)) return nullptr;  // undefined
    return VC::toJs(env, v);
  }

  napi_value has(napi_env env, napi_value key, napi_value ref) override {
    typename KC::Scratch scratch;
    KeyView k;
    if (!KC::read(env, key, RefSource{ref}, scratch, &k)) return nullptr;
    napi_value result = nullptr;
    napi_get_boolean(env, core_.contains(k), &result);
    return result;
  }

  napi_value set(napi_env env, napi_value key, napi_value value, napi_value ref) override {
    typename KC::Scratch keyScratch;
    KeyView k;
    if (!KC::read(env, key, RefSource{ref}, keyScratch, &k)) return nullptr;
    typename VC::Scratch valueScratch;
    ValueView v;
    if (!VC::read(env, value, valueScratch, &v)) return nullptr;
    bool inserted = false;
    napi_value result = nullptr;
    if constexpr (VC::kSlab) {
      ValueView stored;
      Status s = core_.getOrInsert(k, v, &stored, &inserted);
      if (s != Status::kOk) return throwStatus(env, s, "set");
      napi_create_uint32(env, stored, &result);
    } else {
      Status s = core_.set(k, v, &inserted);
      if (s != Status::kOk) return throwStatus(env, s, "set");
      napi_get_boolean(env, inserted, &result);
    }
    if (inserted || kBlobValues) trackMemory(env);
    return result;
  }

  napi_value remove(napi_env env, napi_value key, napi_value ref) override {
    typename KC::Scratch scratch;
    KeyView k;
    if (!KC::read(env, key, RefSource{ref}, scratch, &k)) return nullptr;
    napi_value result = nullptr;
    if constexpr (VC::kSlab) {
      double removed = -1;
      core_.erase(k, [&](const ValueView& v) { removed = v; });
      napi_create_double(env, removed, &result);
    } else {
      napi_get_boolean(env, core_.erase(k), &result);
    }
    return result;
  }

  // ---- fast calls (io_area.h) ----------------------------------------------------------

  napi_value fastGet(napi_env env, napi_callback_info info, uint64_t* io) override {
    typename KC::Scratch scratch;
    KeyView k;
    if (!fastKey(env, info, io, scratch, &k)) return nullptr;
    ValueView v;
    const bool found = core_.get(k, &v);
    if constexpr (VC::kInIo) {
      if (found) io[kIoValue] = VC::toIo(v);
      ioSetDouble(io, kIoResult, found ? 1 : 0);
      return nullptr;
    } else {
      return found ? VC::toJs(env, v) : nullptr;
    }
  }

  napi_value fastHas(napi_env env, napi_callback_info info, uint64_t* io) override {
    typename KC::Scratch scratch;
    KeyView k;
    if (!fastKey(env, info, io, scratch, &k)) return nullptr;
    ioSetDouble(io, kIoResult, core_.contains(k) ? 1 : 0);
    return nullptr;
  }

  napi_value fastSet(napi_env env, napi_callback_info info, uint64_t* io) override {
    size_t argc = 2;
    napi_value argv[2];
    if constexpr (!KC::kInIo || !VC::kInIo) napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr);
    size_t next = 0;
    typename KC::Scratch keyScratch;
    KeyView k;
    if constexpr (KC::kInIo) {
      k = KC::fromIo(io[kIoKey]);
    } else {
      if (!KC::read(env, argv[next++], RefSource{}, keyScratch, &k)) return nullptr;
    }
    typename VC::Scratch valueScratch;
    ValueView v;
    if constexpr (VC::kInIo) {
      if (!VC::fromIo(env, io[kIoValue], &v)) return nullptr;
    } else {
      if (!VC::read(env, argv[next], valueScratch, &v)) return nullptr;
    }
    bool inserted = false;
    if constexpr (VC::kSlab) {
      ValueView stored;
      Status s = core_.getOrInsert(k, v, &stored, &inserted);
      if (s != Status::kOk) return throwStatus(env, s, "set");
      ioSetDouble(io, kIoResult, static_cast<double>(stored));
    } else {
      Status s = core_.set(k, v, &inserted);
      if (s != Status::kOk) return throwStatus(env, s, "set");
      ioSetDouble(io, kIoResult, inserted ? 1 : 0);
    }
    if (inserted || kBlobValues) trackMemory(env);
    return nullptr;
  }

  napi_value fastDelete(napi_env env, napi_callback_info info, uint64_t* io) override {
    typename KC::Scratch scratch;
    KeyView k;
    if (!fastKey(env, info, io, scratch, &k)) return nullptr;
    if constexpr (VC::kSlab) {
      double removed = -1;
      core_.erase(k, [&](const ValueView& v) { removed = v; });
      ioSetDouble(io, kIoResult, removed);
    } else {
      ioSetDouble(io, kIoResult, core_.erase(k) ? 1 : 0);
    }
    return nullptr;
  }

  // ---- batches ---------------------------------------------------------------------------

  napi_value getMany(napi_env env, const napi_value* keys, uint32_t n, const napi_value* refs) override {
    ViewBatch<KeyView> batch;
    batch.reserve(n);
    typename KC::Scratch scratch;
    for (uint32_t i = 0; i < n; ++i) {
      KeyView k;
      if (!KC::read(env, keys[i], RefSource{nullptr, refs, i}, scratch, &k)) return nullptr;
      batch.add(k);
    }
    const KeyView* views = batch.finish();
    std::unique_ptr<ValueView[]> out(new ValueView[n]);
    std::unique_ptr<bool[]> found(new bool[n]);
    core_.getMany(views, n, out.get(), found.get());
    return valuesToJs(env, out.get(), found.get(), n, nullptr);
  }

  napi_value setMany(napi_env env, const napi_value* keys, const napi_value* values, uint32_t n,
                     const napi_value* refs, uint32_t* slabIndexes) override {
    // Convert and validate everything first: a bad element throws before the map is touched.
    ViewBatch<KeyView> keyBatch;
    ViewBatch<ValueView> valueBatch;
    keyBatch.reserve(n);
    valueBatch.reserve(n);
    typename KC::Scratch keyScratch;
    typename VC::Scratch valueScratch;
    for (uint32_t i = 0; i < n; ++i) {
      KeyView k;
      if (!KC::read(env, keys[i], RefSource{nullptr, refs, i}, keyScratch, &k)) return nullptr;
      keyBatch.add(k);
      ValueView v;
      if constexpr (VC::kSlab) {
        if (slabIndexes == nullptr) return throwTypeError(env, "GoMap internal error: 'any' values need slab indexes");
        v = slabIndexes[i];
      } else {
        if (!VC::read(env, values[i], valueScratch, &v)) return nullptr;
      }
      valueBatch.add(v);
    }
    return storeBatch(env, keyBatch.finish(), valueBatch.finish(), n, slabIndexes);
  }

  // ---- packed batches (packed.h) -----------------------------------------------------------

  napi_value getManyPacked(napi_env env, const PackedKeys& keys, const PackedValues& out, uint8_t* found) override {
    const uint32_t n = keys.count;
    if constexpr (VC::kInIo) {
      if (out.form != packedValueForm() || out.words == nullptr || out.count < n) {
        return throwTypeError(env, "GoMap internal error: getMany output of the wrong form");
      }
    }
    ViewBatch<KeyView> batch;
    batch.reserve(n);
    if (!packedKeys(env, keys, batch)) return nullptr;
    std::unique_ptr<ValueView[]> values(new ValueView[n]);
    std::unique_ptr<bool[]> hit(new bool[n]);
    core_.getMany(batch.finish(), n, values.get(), hit.get());
    if constexpr (VC::kInIo) {
      for (uint32_t i = 0; i < n; ++i) {
        found[i] = hit[i] ? 1 : 0;
        if (hit[i]) out.words[i] = VC::toIo(values[i]);
      }
      return nullptr;
    } else {
      return valuesToJs(env, values.get(), hit.get(), n, found);
    }
  }

  napi_value setManyPacked(napi_env env, const PackedKeys& keys, const napi_value* values,
                           const PackedValues& in) override {
    const uint32_t n = keys.count;
    ViewBatch<KeyView> keyBatch;
    ViewBatch<ValueView> valueBatch;
    keyBatch.reserve(n);
    valueBatch.reserve(n);
    if (!packedKeys(env, keys, keyBatch)) return nullptr;
    if constexpr (VC::kSlab) {
      if (in.form != PackedForm::kSlab || in.u32 == nullptr || in.count < n) {
        return throwTypeError(env, "GoMap internal error: 'any' values need slab indexes");
      }
      for (uint32_t i = 0; i < n; ++i) valueBatch.add(in.u32[i]);
    } else if constexpr (VC::kInIo) {
      if (in.form != packedValueForm() || in.words == nullptr || in.count < n) {
        return throwTypeError(env, "GoMap internal error: setMany values of the wrong form");
      }
      for (uint32_t i = 0; i < n; ++i) {
        ValueView v;
        if (!VC::fromIo(env, in.words[i], &v)) return nullptr;
        valueBatch.add(v);
      }
    } else {
      if (values == nullptr) return throwTypeError(env, "GoMap internal error: setMany values missing");
      typename VC::Scratch scratch;
      for (uint32_t i = 0; i < n; ++i) {
        ValueView v;
        if (!VC::read(env, values[i], scratch, &v)) return nullptr;
        valueBatch.add(v);
      }
    }
    return storeBatch(env, keyBatch.finish(), valueBatch.finish(), n, VC::kSlab ? in.u32 : nullptr);
  }

  bool iterNextPacked(napi_env env, IterBinding* binding, uint32_t max, const PackedValues& keysOut,
                      const PackedValues& valuesOut, PackedBatch* batch) override {
    constexpr bool kKeyString = std::is_same_v<KC, StringKeys>;
    constexpr bool kValueString = std::is_same_v<VC, StringValues>;
    if constexpr ((KC::kInIo || kKeyString) && (VC::kInIo || kValueString)) {
      const bool withValues = valuesOut.form != PackedForm::kNone;
      const PackedForm keyForm = kKeyString ? PackedForm::kSlab : std::is_same_v<KC, F64Keys> ? PackedForm::kF64 : PackedForm::kI64;
      const PackedForm valueForm = kValueString ? PackedForm::kSlab : packedValueForm();
      if (keysOut.form != keyForm || keysOut.count < max || (withValues && (valuesOut.form != valueForm || valuesOut.count < max))) {
        throwTypeError(env, "GoMap internal error: iteration output of the wrong form");
        return false;
      }
      auto* it = static_cast<Iter*>(binding);
      JoinedStrings keyText, valueText;
      uint32_t n = 0;
      while (n < max) {
        KeyView k;
        ValueView v;
        if (!it->core.next(&k, &v)) {
          batch->finished = true;
          break;
        }
        if constexpr (kKeyString) keysOut.u32[n] = keyText.add(k);
        else keysOut.words[n] = k;
        if (withValues) {
          if constexpr (kValueString) valuesOut.u32[n] = valueText.add(v);
          else valuesOut.words[n] = VC::toIo(v);
        }
        ++n;
        if (keyText.units() + valueText.units() >= kMaxJoinedUnits) break;
      }
      batch->count = n;
      if constexpr (kKeyString) {
        batch->keys = keyText.toJs(env);
        if (batch->keys == nullptr) return false;
      }
      if constexpr (kValueString) {
        if (withValues) {
          batch->values = valueText.toJs(env);
          if (batch->values == nullptr) return false;
        }
      }
      return true;
    } else {
      (void)binding;
      (void)max;
      (void)keysOut;
      (void)valuesOut;
      (void)batch;
      throwTypeError(env, "GoMap internal error: packed iteration needs f64 / i64 / string keys and f64 / i64 / any / string values");
      return false;
    }
  }

  void clear() override { core_.clear(); }
  uint64_t size() const override { return core_.size(); }
  MapStats stats() const override { return core_.stats(); }
  Status reserve(uint64_t n) override { return core_.reserve(n); }
  Status shrink() override { return core_.shrink(); }
  bool valuesAreSlabIndexes() const override { return VC::kSlab; }

  IterBinding* newIterator() override { return new (std::nothrow) Iter(core_); }

  napi_value iterNext(napi_env env, IterBinding* binding, uint32_t max, bool keysOnly, bool* finished) override {
    auto* it = static_cast<Iter*>(binding);
    napi_value result = nullptr;
    if (napi_create_array(env, &result) != napi_ok) return nullptr;
    uint32_t index = 0;
    *finished = false;
    for (uint32_t produced = 0; produced < max; ++produced) {
      KeyView k;
      ValueView v;
      if (!it->core.next(&k, &v)) {
        *finished = true;
        break;
      }
      napi_value jsKey = KC::toJs(env, k);
      if (jsKey == nullptr) return nullptr;
      napi_set_element(env, result, index++, jsKey);
      if (!keysOnly) {
        napi_value jsValue = VC::toJs(env, v);
        if (jsValue == nullptr) return nullptr;
        napi_set_element(env, result, index++, jsValue);
      }
    }
    return result;
  }

  // Reports the change of native bytes to V8 once it exceeds kExternalMemoryStep.
  void trackMemory(napi_env env) override {
    int64_t now = static_cast<int64_t>(core_.stats().bytes);
    int64_t delta = now - reportedBytes;
    if (delta >= kExternalMemoryStep || delta <= -kExternalMemoryStep) {
      int64_t total = 0;
      napi_adjust_external_memory(env, delta, &total);
      reportedBytes = now;
    }
  }

 private:
  // The key of a fast call: from the I/O area (f64, i64) or the call's first argument.
  static bool fastKey(napi_env env, napi_callback_info info, const uint64_t* io, typename KC::Scratch& scratch,
                      KeyView* k) {
    if constexpr (KC::kInIo) {
      (void)env;
      (void)info;
      (void)scratch;
      *k = KC::fromIo(io[kIoKey]);
      return true;
    } else {
      size_t argc = 1;
      napi_value key;
      napi_get_cb_info(env, info, &argc, &key, nullptr, nullptr);
      return KC::read(env, key, RefSource{}, scratch, k);
    }
  }

  // A JS array of n looked-up values (undefined for misses); found[i] (if given) gets 1 / 0.
  static napi_value valuesToJs(napi_env env, const ValueView* values, const bool* hit, uint32_t n, uint8_t* found) {
    napi_value result = nullptr;
    napi_value undefined = nullptr;
    if (napi_create_array_with_length(env, n, &result) != napi_ok) return nullptr;
    napi_get_undefined(env, &undefined);
    for (uint32_t i = 0; i < n; ++i) {
      if (found != nullptr) found[i] = hit[i] ? 1 : 0;
      napi_value v = undefined;
      if (hit[i]) {
        v = VC::toJs(env, values[i]);
        if (v == nullptr) return nullptr;
      }
      napi_set_element(env, result, i, v);
    }
    return result;
  }

  // The packed form of this map's numeric values.
  static constexpr PackedForm packedValueForm() {
    return std::is_same_v<VC, I64Values> ? PackedForm::kI64 : PackedForm::kF64;
  }

  // Packed keys into views (copied into the batch).
  bool packedKeys(napi_env env, const PackedKeys& keys, ViewBatch<KeyView>& batch) {
    if constexpr (std::is_same_v<KC, F64Keys> || std::is_same_v<KC, I64Keys>) {
      const PackedForm want = std::is_same_v<KC, F64Keys> ? PackedForm::kF64 : PackedForm::kI64;
      if (keys.form != want || keys.words == nullptr) {
        throwTypeError(env, "GoMap internal error: packed keys of the wrong form");
        return false;
      }
      for (uint32_t i = 0; i < keys.count; ++i) batch.add(KC::fromIo(keys.words[i]));
      return true;
    } else if constexpr (std::is_same_v<KC, StringKeys>) {
      if (keys.form != PackedForm::kString) {
        throwTypeError(env, "GoMap internal error: packed keys of the wrong form");
        return false;
      }
      std::vector<uint8_t> narrow;
      const char16_t* p = keys.units;
      for (uint32_t i = 0; i < keys.count; ++i) {
        const uint32_t len = keys.lengths[i];
        char16_t all = 0;
        for (uint32_t j = 0; j < len; ++j) all |= p[j];
        if (all < 0x100) {
          narrow.resize(len);
          for (uint32_t j = 0; j < len; ++j) narrow[j] = static_cast<uint8_t>(p[j]);
          batch.add(Blob{kTagLatin1, narrow.data(), len});
        } else {
          batch.add(Blob{kTagUtf16, reinterpret_cast<const uint8_t*>(p), len * 2});
        }
        p += len;
      }
      return true;
    } else {
      (void)batch;
      (void)keys;
      throwTypeError(env, "GoMap internal error: packed keys are for 'f64', 'i64' and 'string' maps");
      return false;
    }
  }

  // Stores (ks[i], vs[i]) for every i < n, all or none: an undo log makes running out of
  // memory half-way leave the map as it was (inserted keys erased, overwritten values
  // restored). For 'any' values, slabIndexes[i] receives the index stored for key i.
  napi_value storeBatch(napi_env env, const KeyView* ks, const ValueView* vs, uint32_t n, uint32_t* slabIndexes) {
    std::unique_ptr<bool[]> inserted(new bool[n]);
    ViewBatch<ValueView> previous;  // old values of overwritten keys, in order
    uint32_t insertedCount = 0;
    for (uint32_t i = 0; i < n; ++i) {
      ValueView current;
      bool isNew = false;
      Status s = core_.getOrInsert(ks[i], vs[i], &current, &isNew);
      if constexpr (VC::kSlab) {
        if (s == Status::kOk) slabIndexes[i] = current;  // the façade stores the value there
      } else {
        if (s == Status::kOk && !isNew) {
          previous.add(current);
          s = core_.set(ks[i], vs[i]);
          if (s != Status::kOk) previous.dropLast();
        }
      }
      if (s != Status::kOk) {
        undoSetMany(ks, i, inserted.get(), previous);
        trackMemory(env);
        return throwStatus(env, s, "setMany");
      }
      inserted[i] = isNew;
      insertedCount += isNew ? 1 : 0;
    }
    trackMemory(env);
    napi_value result = nullptr;
    napi_create_uint32(env, insertedCount, &result);
    return result;
  }

  struct Iter final : IterBinding {
    explicit Iter(Core& map) : core(map) {}
    typename Core::Iterator core;
  };

  // Reverts entries [0, done) of a setMany, newest first.
  void undoSetMany(const KeyView* ks, uint32_t done, const bool* inserted, ViewBatch<ValueView>& previous) {
    const ValueView* old = previous.finish();
    size_t p = previous.size();
    for (uint32_t i = done; i-- > 0;) {
      if (inserted[i]) {
        core_.erase(ks[i]);
      } else if constexpr (!VC::kSlab) {
        core_.set(ks[i], old[--p]);  // best effort: restoring a value may itself need memory
      }
    }
  }

  Core core_;
};

}  // namespace gomap::addon
