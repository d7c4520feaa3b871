// Slot policies: how one key or one value sits in a bucket slot.
//
// GoMap<K, V> is a template over two of these. A policy says how wide its slot is, how to
// hash and compare a key against a slot, how to encode a view into a slot image before
// the table is touched (encoding may allocate, and may fail), and which out-of-line
// memory a slot owns. Slots are moved between buckets (evacuation, rebuilds) with a plain
// byte copy: ownership of out-of-line memory moves with the bytes.
//
//   WordSlot<uint64_t>  8 bytes  i64 keys/values, f64 keys/values (as normalized bits)
//   WordSlot<uint32_t>  4 bytes  'any' values: an index into the façade's value slab
//   BlobSlot           13 bytes  strings, bytes, encoded values, tagged 'any' keys
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "alloc.h"
#include "blob.h"
#include "hash.h"

namespace gomap {

template <class Word>
struct WordSlot {
  using View = Word;
  using Encoded = Word;
  static constexpr size_t kSlotSize = sizeof(Word);

  static uint64_t hash(View k, uint64_t seed) { return hashWord(static_cast<uint64_t>(k), seed); }
  static View load(const uint8_t* slot) {
    Word w;
    std::memcpy(&w, slot, sizeof w);
    return w;
  }
  static bool equals(const uint8_t* slot, View k) { return load(slot) == k; }
  static bool encode(View v, MemoryAccount&, Encoded* out) {
    *out = v;
    return true;
  }
  static void discard(Encoded&, MemoryAccount&) {}
  static void write(uint8_t* slot, const Encoded& e) { std::memcpy(slot, &e, sizeof e); }
  static BlobBox* ownedBox(const uint8_t*) { return nullptr; }
};

struct BlobSlot {
  using View = Blob;
  using Encoded = blob_slot::Encoded;
  static constexpr size_t kSlotSize = kBlobSlotSize;

  static uint64_t hash(const View& k, uint64_t seed) { return hashBlob(k, seed); }
  static View load(const uint8_t* slot) { return blob_slot::load(slot); }
  static bool equals(const uint8_t* slot, const View& k) { return blob_slot::equals(slot, k); }
  static bool encode(const View& v, MemoryAccount& account, Encoded* out) {
    return blob_slot::encode(v, account, out);
  }
  static void discard(Encoded& e, MemoryAccount& account) { blob_slot::discard(e, account); }
  static void write(uint8_t* slot, const Encoded& e) { std::memcpy(slot, e.bytes, kBlobSlotSize); }
  static BlobBox* ownedBox(const uint8_t* slot) {
    return blob_slot::isBoxed(slot) ? blob_slot::boxOf(slot) : nullptr;
  }
};

using Word64Key = WordSlot<uint64_t>;
using BlobKey = BlobSlot;
using Word64Value = WordSlot<uint64_t>;
using SlabIndexValue = WordSlot<uint32_t>;
using BlobValue = BlobSlot;

// f64 keys compare with SameValueZero: -0 is +0, and every NaN is the same key.
inline uint64_t f64KeyBits(double d) {
  if (d == 0) d = 0;                   // folds -0 into +0
  if (d != d) return 0x7ff8000000000000ull;  // canonical NaN
  uint64_t bits;
  std::memcpy(&bits, &d, sizeof bits);
  return bits;
}

inline double bitsToF64(uint64_t bits) {
  double d;
  std::memcpy(&d, &bits, sizeof d);
  return d;
}

inline uint64_t f64Bits(double d) {
  uint64_t bits;
  std::memcpy(&bits, &d, sizeof bits);
  return bits;
}

}  // namespace gomap
