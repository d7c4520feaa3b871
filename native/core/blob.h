// Byte strings in bucket slots (Go's "indirect keys", with a short-string fast path).
//
// A blob is a tagged byte string: the tag says what the bytes encode (a Latin-1 or UTF-16
// string, raw bytes, or one of the tagged primitives of an 'any' key), and is part of the
// identity of the blob: equal bytes with different tags are different keys.
//
// A blob slot is kBlobSlotSize (13) bytes:
//
//   byte 0       meta = tag << 4 | lengthCode
//   bytes 1..12  lengthCode 0..12: the blob itself, inline (zero-padded)
//                lengthCode 15  : a pointer to a BlobBox holding the bytes
//
// Blobs of 12 bytes or less always sit inline and longer ones always live in a box, so a
// blob has exactly one representation and equality never has to compare across forms.
// 12 inline bytes hold "user:1234567" or a bigint of up to 88 bits; 13 bytes per slot and
// no padding keep a string-keyed bucket at 184 bytes for 8-byte values.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "alloc.h"
#include "hash.h"

namespace gomap {

// What the bytes of a blob encode. Part of the key: the hash and equality include it.
enum BlobTag : uint8_t {
  kTagLatin1 = 0,     // string whose code units are all < 256, one byte per unit
  kTagUtf16 = 1,      // any other string, UTF-16LE code units
  kTagBytes = 2,      // Uint8Array / Buffer contents
  kTagNumber = 3,     // 'any' key: a number, 8 bytes of normalized f64 bits
  kTagBigInt = 4,     // 'any' key: a bigint, sign byte + little-endian magnitude
  kTagFalse = 5,      // 'any' key: false (no bytes)
  kTagTrue = 6,       // 'any' key: true (no bytes)
  kTagUndefined = 7,  // 'any' key: undefined (no bytes)
  kTagNull = 8,       // 'any' key: null (no bytes)
  kTagObjectRef = 9,  // 'any' key: an object or symbol, by identity number (8 bytes)
  kTagCount = 10,
};

// A borrowed view of a blob: what callers pass in and what lookups hand out.
struct Blob {
  uint8_t tag;
  const uint8_t* data;
  uint32_t len;
};

inline bool operator==(const Blob& a, const Blob& b) {
  return a.tag == b.tag && a.len == b.len && (a.len == 0 || std::memcmp(a.data, b.data, a.len) == 0);
}

// Longest blob accepted (1 GiB); longer keys/values are refused with Status::kTooLarge.
constexpr uint32_t kMaxBlobLength = 1u << 30;

constexpr size_t kBlobSlotSize = 13;
constexpr size_t kBlobInlineCapacity = 12;
constexpr uint8_t kBlobBoxed = 15;  // lengthCode of an out-of-line blob

// Out-of-line storage of a long blob. `deferredNext` links boxes whose freeing waits until
// no iterator can read them any more (see GoMap's deferred frees).
struct BlobBox {
  BlobBox* deferredNext;
  uint32_t len;
  uint8_t data[1];
};
constexpr size_t kBlobBoxHeader = offsetof(BlobBox, data);

inline size_t blobBoxBytes(uint32_t len) { return kBlobBoxHeader + len; }

inline uint64_t hashBlob(const Blob& b, uint64_t seed) {
  // The tag perturbs the seed, so equal bytes under different tags hash apart.
  return hashBytes(b.data, b.len, seed ^ (static_cast<uint64_t>(b.tag) * 0x9e3779b97f4a7c15ull));
}

namespace blob_slot {

inline uint8_t metaFor(const Blob& b) {
  return static_cast<uint8_t>((b.tag << 4) | (b.len <= kBlobInlineCapacity ? b.len : kBlobBoxed));
}

inline BlobBox* boxOf(const uint8_t* slot) {
  BlobBox* box;
  std::memcpy(&box, slot + 1, sizeof box);
  return box;
}

inline bool isBoxed(const uint8_t* slot) { return (slot[0] & 0x0f) == kBlobBoxed; }

inline Blob load(const uint8_t* slot) {
  uint8_t meta = slot[0];
  uint8_t code = meta & 0x0f;
  if (code != kBlobBoxed) return Blob{static_cast<uint8_t>(meta >> 4), slot + 1, code};
  const BlobBox* box = boxOf(slot);
  return Blob{static_cast<uint8_t>(meta >> 4), box->data, box->len};
}

inline bool equals(const uint8_t* slot, const Blob& b) {
  uint8_t meta = metaFor(b);
  if (slot[0] != meta) return false;
  if ((meta & 0x0f) != kBlobBoxed) return b.len == 0 || std::memcmp(slot + 1, b.data, b.len) == 0;
  const BlobBox* box = boxOf(slot);
  return box->len == b.len && std::memcmp(box->data, b.data, b.len) == 0;
}

// An encoded slot image, built before the table is touched (it may allocate a box).
struct Encoded {
  uint8_t bytes[kBlobSlotSize];
};

// Builds the slot image of `b`, allocating its box from `account` when it is long.
// Returns false when the allocation fails.
inline bool encode(const Blob& b, MemoryAccount& account, Encoded* out) {
  std::memset(out->bytes, 0, kBlobSlotSize);
  out->bytes[0] = metaFor(b);
  if (b.len <= kBlobInlineCapacity) {
    if (b.len != 0) std::memcpy(out->bytes + 1, b.data, b.len);
    return true;
  }
  auto* box = static_cast<BlobBox*>(account.allocate(blobBoxBytes(b.len)));
  if (box == nullptr) return false;
  box->deferredNext = nullptr;
  box->len = b.len;
  std::memcpy(box->data, b.data, b.len);
  std::memcpy(out->bytes + 1, &box, sizeof box);
  return true;
}

// Frees what an encoded image owns (used when an operation is abandoned).
inline void discard(Encoded& e, MemoryAccount& account) {
  if ((e.bytes[0] & 0x0f) == kBlobBoxed) {
    BlobBox* box = boxOf(e.bytes);
    account.release(box, blobBoxBytes(box->len));
  }
}

}  // namespace blob_slot

}  // namespace gomap
