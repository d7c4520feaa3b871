// WasmMap: one GoMap of the core as the WebAssembly exports see it, whatever its kinds.
//
// The counterpart of the addon's MapBinding (native/addon/map_binding.h) for the
// WebAssembly build: the core map is a template over slot policies, and the C exports
// (exports.cc) dispatch to one virtual interface. Keys and values arrive as Args
// (abi.h) that JS has already checked and encoded; each method reads them with the
// map's Arg readers, calls the core and writes the result back as Args. No map logic
// lives here, and nothing here can see a JavaScript value.
//
//   F64KeyArg  f64 keys: Word64Key, the double bits folded as SameValueZero (f64KeyBits)
//   WordArg    i64 keys, f64 / i64 values: the 64 bits as they are
//   SlabArg    'any' values: the u32 slab index of the façade's value slab
//   BlobArg    string / bytes / 'any' keys, string / bytes values: a tagged blob
#pragma once

#include <cstdint>
#include <cstdlib>
#include <new>
#include <type_traits>

#include "abi.h"
#include "core/go_map.h"
#include "core/map_stats.h"
#include "core/slots.h"
#include "core/status.h"
#include "undo_log.h"

namespace gomap::wasm {

struct F64KeyArg {
  using Policy = Word64Key;
  using View = uint64_t;
  static View read(const Arg& a) { return f64KeyBits(bitsToF64(a.word)); }
  static void write(Arg* a, View v) { a->word = v; }
};

struct WordArg {
  using Policy = Word64Value;  // the same WordSlot<uint64_t> as Word64Key
  using View = uint64_t;
  static View read(const Arg& a) { return a.word; }
  static void write(Arg* a, View v) { a->word = v; }
};

struct SlabArg {
  using Policy = SlabIndexValue;
  using View = uint32_t;
  static View read(const Arg& a) { return static_cast<uint32_t>(a.word); }
  static void write(Arg* a, View v) { a->word = v; }
};

struct BlobArg {
  using Policy = BlobValue;  // the same BlobSlot as BlobKey
  using View = Blob;
  static View read(const Arg& a) {
    return Blob{static_cast<uint8_t>(a.tag), reinterpret_cast<const uint8_t*>(static_cast<uintptr_t>(a.ptr)), a.len};
  }
  static void write(Arg* a, const View& v) {
    a->tag = v.tag;
    a->ptr = static_cast<uint32_t>(reinterpret_cast<uintptr_t>(v.data));
    a->len = v.len;
  }
};

// A live iterator of one map (freed by gomap_iter_end before its map is destroyed).
class WasmIter {
 public:
  virtual ~WasmIter() = default;
  // The next entry into *key / *value; false when the iteration is over.
  virtual bool next(Arg* key, Arg* value) = 0;
};

class WasmMap {
 public:
  virtual ~WasmMap() = default;
  virtual Status init(uint64_t hint) = 0;
  // 1 when found (value to *out), else 0.
  virtual int32_t get(const Arg& key, Arg* out) = 0;
  virtual int32_t has(const Arg& key) = 0;
  // 1 inserted, 0 overwritten, or kResultNoMemory / kResultTooLarge (map unchanged). For
  // 'any' values it keeps the stored value (getOrInsert) and writes it to *out.
  virtual int32_t set(const Arg& key, const Arg& value, Arg* out) = 0;
  // 1 removed (the removed value to *out), else 0.
  virtual int32_t erase(const Arg& key, Arg* out) = 0;
  virtual void getMany(const Arg* keys, uint32_t n, Arg* out, uint8_t* found) = 0;
  // Stores every entry or none. Returns how many keys were inserted, or a negative
  // result. For 'any' values, values[i].word is overwritten with the index stored.
  virtual int32_t setMany(const Arg* keys, Arg* values, uint32_t n) = 0;
  // The same for f64 / i64 keys and values as plain 64-bit words (JS copies typed arrays
  // in and out in one go). kResultWrongForm when the map's kinds are not both words.
  virtual int32_t getManyWords(const uint64_t* keys, uint32_t n, uint64_t* out, uint8_t* found) = 0;
  virtual int32_t setManyWords(const uint64_t* keys, const uint64_t* values, uint32_t n) = 0;
  // The same for string keys packed as Latin-1 bytes (key i: the next lengths[i] bytes
  // of text) and f64 / i64 values as words. kResultWrongForm unless the keys are blobs
  // and the values words.
  virtual int32_t getManyLatin1(const uint8_t* text, const uint32_t* lengths, uint32_t n, uint64_t* out,
                                uint8_t* found) = 0;
  virtual int32_t setManyLatin1(const uint8_t* text, const uint32_t* lengths, const uint64_t* values, uint32_t n) = 0;
  virtual void clear() = 0;
  virtual MapStats stats() const = 0;
  virtual Status reserve(uint64_t n) = 0;
  virtual Status shrink() = 0;
  virtual WasmIter* newIterator() = 0;
};

template <class KA, class VA>
class TypedWasmMap final : public WasmMap {
 public:
  using Core = GoMap<typename KA::Policy, typename VA::Policy>;
  using KeyView = typename KA::View;
  using ValueView = typename VA::View;
  static constexpr bool kSlab = std::is_same_v<VA, SlabArg>;
  static constexpr bool kWords = std::is_same_v<KeyView, uint64_t> && std::is_same_v<ValueView, uint64_t>;
  // Blob keys (string, bytes, 'any': only string maps are given Latin-1 keys) and word values.
  static constexpr bool kLatin1Words = std::is_same_v<KeyView, Blob> && std::is_same_v<ValueView, uint64_t>;

  explicit TypedWasmMap(const MapOptions& options) : core_(options) {}

  Status init(uint64_t hint) override { return core_.init(hint); }

  int32_t get(const Arg& key, Arg* out) override {
    ValueView v;
    if (!core_.get(KA::read(key), &v)) return 0;
    VA::write(out, v);
    return 1;
  }

  int32_t has(const Arg& key) override { return core_.contains(KA::read(key)) ? 1 : 0; }

  int32_t set(const Arg& key, const Arg& value, Arg* out) override {
    bool inserted = false;
    Status s;
    if constexpr (kSlab) {
      ValueView stored;
      s = core_.getOrInsert(KA::read(key), VA::read(value), &stored, &inserted);
      if (s == Status::kOk) VA::write(out, stored);
    } else {
      s = core_.set(KA::read(key), VA::read(value), &inserted);
    }
    if (s != Status::kOk) return resultOf(s);
    return inserted ? 1 : 0;
  }

  int32_t erase(const Arg& key, Arg* out) override {
    return core_.erase(KA::read(key), [&](const ValueView& v) { VA::write(out, v); }) ? 1 : 0;
  }

  void getMany(const Arg* keys, uint32_t n, Arg* out, uint8_t* found) override {
    lookUpMany(
        n, [&](uint32_t i) { return KA::read(keys[i]); },
        [&](uint32_t i, bool hit, const ValueView& v) {
          found[i] = hit ? 1 : 0;
          if (hit) VA::write(&out[i], v);
        });
  }

  int32_t setMany(const Arg* keys, Arg* values, uint32_t n) override {
    return store(
        n, [&](uint32_t i) { return KA::read(keys[i]); }, [&](uint32_t i) { return VA::read(values[i]); },
        [&](uint32_t i, const ValueView& stored) { VA::write(&values[i], stored); });
  }

  int32_t getManyWords(const uint64_t* keys, uint32_t n, uint64_t* out, uint8_t* found) override {
    if constexpr (kWords) {
      lookUpMany(
          n, [&](uint32_t i) { return KA::read(Arg{keys[i], 0, 0, 0, 0}); },
          [&](uint32_t i, bool hit, const ValueView& v) {
            found[i] = hit ? 1 : 0;
            if (hit) out[i] = v;
          });
      return 0;
    } else {
      (void)keys, (void)n, (void)out, (void)found;
      return kResultWrongForm;
    }
  }

  int32_t setManyWords(const uint64_t* keys, const uint64_t* values, uint32_t n) override {
    if constexpr (kWords) {
      return store(
          n, [&](uint32_t i) { return KA::read(Arg{keys[i], 0, 0, 0, 0}); }, [&](uint32_t i) { return values[i]; },
          [](uint32_t, const ValueView&) {});
    } else {
      (void)keys, (void)values, (void)n;
      return kResultWrongForm;
    }
  }

  int32_t getManyLatin1(const uint8_t* text, const uint32_t* lengths, uint32_t n, uint64_t* out,
                        uint8_t* found) override {
    if constexpr (kLatin1Words) {
      // Key i is the next lengths[i] bytes of text: the offsets are summed as the chunks
      // are read, in order.
      uint32_t at = 0;
      lookUpMany(
          n,
          [&](uint32_t i) {
            const Blob k{kTagLatin1, text + at, lengths[i]};
            at += lengths[i];
            return k;
          },
          [&](uint32_t i, bool hit, const ValueView& v) {
            found[i] = hit ? 1 : 0;
            if (hit) out[i] = v;
          });
      return 0;
    } else {
      (void)text, (void)lengths, (void)n, (void)out, (void)found;
      return kResultWrongForm;
    }
  }

  int32_t setManyLatin1(const uint8_t* text, const uint32_t* lengths, const uint64_t* values, uint32_t n) override {
    if constexpr (kLatin1Words) {
      // store() reads keys again, newest first, when it undoes: offsets up front.
      auto* offsets = static_cast<uint32_t*>(std::malloc(n == 0 ? 4 : 4 * static_cast<size_t>(n)));
      if (offsets == nullptr) return kResultNoMemory;
      for (uint32_t i = 0, at = 0; i < n; at += lengths[i], ++i) offsets[i] = at;
      const int32_t result = store(
          n, [&](uint32_t i) { return Blob{kTagLatin1, text + offsets[i], lengths[i]}; },
          [&](uint32_t i) { return values[i]; }, [](uint32_t, const ValueView&) {});
      std::free(offsets);
      return result;
    } else {
      (void)text, (void)lengths, (void)values, (void)n;
      return kResultWrongForm;
    }
  }

  void clear() override { core_.clear(); }
  MapStats stats() const override { return core_.stats(); }
  Status reserve(uint64_t n) override { return core_.reserve(n); }
  Status shrink() override { return core_.shrink(); }

  WasmIter* newIterator() override { return new (std::nothrow) Iter(core_); }

 private:
  class Iter final : public WasmIter {
   public:
    explicit Iter(Core& map) : core_(map) {}
    bool next(Arg* key, Arg* value) override {
      KeyView k;
      ValueView v;
      if (!core_.next(&k, &v)) return false;
      KA::write(key, k);
      VA::write(value, v);
      return true;
    }

   private:
    typename Core::Iterator core_;
  };

  // The core's getMany (it hashes a window of keys ahead and loads their buckets early, so
  // the cache misses of independent lookups overlap) over keyAt(0..n-1), in chunks whose
  // key views sit on the stack; emit(i, found, value) receives each result in order.
  template <class KeyAt, class Emit>
  void lookUpMany(uint32_t n, KeyAt keyAt, Emit emit) {
    constexpr uint32_t kChunk = 128;
    KeyView chunkKeys[kChunk];
    ValueView chunkValues[kChunk];
    bool chunkFound[kChunk];
    for (uint32_t start = 0; start < n; start += kChunk) {
      const uint32_t m = n - start < kChunk ? n - start : kChunk;
      for (uint32_t i = 0; i < m; ++i) chunkKeys[i] = keyAt(start + i);
      core_.getMany(chunkKeys, m, chunkValues, chunkFound);
      for (uint32_t i = 0; i < m; ++i) emit(start + i, chunkFound[i], chunkValues[i]);
    }
  }

  static int32_t resultOf(Status s) { return s == Status::kTooLarge ? kResultTooLarge : kResultNoMemory; }

  // Stores (keyAt(i), valueAt(i)) for i < n, all or none: running out of memory half-way
  // undoes what was done (inserted keys erased, overwritten values restored, newest
  // first). For 'any' values, stored(i, index) receives the index kept for key i.
  // Returns how many keys were inserted, or a negative result.
  template <class KeyAt, class ValueAt, class Stored>
  int32_t store(uint32_t n, KeyAt keyAt, ValueAt valueAt, Stored stored) {
    auto* inserted = static_cast<uint8_t*>(std::malloc(n == 0 ? 1 : n));
    if (inserted == nullptr) return kResultNoMemory;
    UndoLog<ValueView> previous;  // old values of overwritten keys, in order
    uint32_t count = 0;
    int32_t result = 0;
    for (uint32_t i = 0; i < n; ++i) {
      const KeyView k = keyAt(i);
      const ValueView v = valueAt(i);
      ValueView current;
      bool isNew = false;
      Status s = core_.getOrInsert(k, v, &current, &isNew);
      if (s == Status::kOk) {
        if constexpr (kSlab) {
          stored(i, current);  // the façade stores the value at that index
        } else if (!isNew) {
          if (!previous.record(current)) {
            s = Status::kNoMemory;
          } else {
            s = core_.set(k, v);
            if (s != Status::kOk) previous.pop();
          }
        }
      }
      if (s != Status::kOk) {
        for (uint32_t j = i; j-- > 0;) {
          if (inserted[j] != 0) {
            core_.erase(keyAt(j));
          } else if constexpr (!kSlab) {
            if (!previous.empty()) {
              core_.set(keyAt(j), previous.back());  // best effort, as the addon's undo
              previous.pop();
            }
          }
        }
        result = resultOf(s);
        break;
      }
      inserted[i] = isNew ? 1 : 0;
      count += isNew ? 1 : 0;
    }
    std::free(inserted);
    return result < 0 ? result : static_cast<int32_t>(count);
  }

  Core core_;
};

// A new map of the given kinds (the order of lib/wasm's kind codes: f64, i64, string,
// bytes, any), or nullptr with *status set.
WasmMap* createWasmMap(int32_t keyKind, int32_t valueKind, const MapOptions& options, Status* status);

}  // namespace gomap::wasm
