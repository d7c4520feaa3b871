// CacheSlot<Inner>: the value slot of a cache entry. It wraps the slot of any value policy
// (slots.h) with the entry's eviction and expiry state, so that state lives in the bucket
// beside the key, with no per-entry allocation, list node or timer:
//
//   +---------------------------------------------+---------------------+
//   | state: u64                                   | Inner slot          |
//   |  bit 63       referenced (the CLOCK bit)     |  (8 / 13 bytes)     |
//   |  bits 40..62  ttl code (for updateAgeOnGet)  |                     |
//   |  bits 0..39   expiresAt, ms (0: never)       |                     |
//   +---------------------------------------------+---------------------+
//
// "referenced" is set by a read and cleared when the eviction hand passes over the
// entry. expiresAt is on the cache's millisecond clock (40 bits: 34 years). The ttl code
// keeps the entry's own time-to-live so that updateAgeOnGet can restart it: ttls below
// 2^22 ms (70 minutes) exactly, longer ones in units of 1024 ms (rounded up; ttls are
// limited to kMaxCacheTtl, about 49.7 days). One word of state per entry: 8 bytes.
//
// SlabChargeValue is the inner policy of 'any' values in a cache: one 64-bit word holding
// the façade's slab index (low 32 bits) and the entry's byte charge from sizeOf (high 32
// bits), so that the core can account bytes for values it never sees.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "alloc.h"
#include "blob.h"
#include "slots.h"

namespace gomap {

constexpr uint64_t kCacheReferencedBit = uint64_t{1} << 63;
constexpr unsigned kCacheExpiryBits = 40;
constexpr uint64_t kCacheExpiryMask = (uint64_t{1} << kCacheExpiryBits) - 1;
constexpr uint64_t kCacheTtlField = ~kCacheReferencedBit & ~kCacheExpiryMask;
constexpr uint64_t kMaxCacheTtl = 0xffffffffull;  // ms
constexpr size_t kCacheStateSize = 8;

namespace cache_ttl {
constexpr unsigned kAmountBits = 22;
constexpr uint64_t kCoarseFlag = uint64_t{1} << kAmountBits;  // amount is in kCoarseMs units
constexpr uint64_t kAmountMask = kCoarseFlag - 1;
constexpr unsigned kCoarseShift = 10;  // 1024 ms
// The ttl code of `ttl` ms (<= kMaxCacheTtl), placed in the state's ttl field.
inline uint64_t encode(uint64_t ttl) {
  uint64_t code = ttl;
  if (ttl > kAmountMask) {
    uint64_t coarse = (ttl + (uint64_t{1} << kCoarseShift) - 1) >> kCoarseShift;
    if (coarse > kAmountMask) coarse = kAmountMask;
    code = kCoarseFlag | coarse;
  }
  return code << kCacheExpiryBits;
}
// The ttl (ms) a state word carries.
inline uint64_t decode(uint64_t state) {
  uint64_t code = (state & kCacheTtlField) >> kCacheExpiryBits;
  return (code & kCoarseFlag) != 0 ? (code & kAmountMask) << kCoarseShift : code;
}
}  // namespace cache_ttl

template <class Inner>
struct CacheSlot {
  struct View {
    uint64_t state = 0;  // referenced bit | ttl code | expiresAt
    typename Inner::View value{};
  };
  struct Encoded {
    uint64_t state;
    typename Inner::Encoded inner;
  };
  static constexpr size_t kSlotSize = kCacheStateSize + Inner::kSlotSize;

  static View load(const uint8_t* slot) {
    View v;
    std::memcpy(&v.state, slot, 8);
    v.value = Inner::load(slot + kCacheStateSize);
    return v;
  }
  static bool encode(const View& v, MemoryAccount& account, Encoded* out) {
    out->state = v.state;
    return Inner::encode(v.value, account, &out->inner);
  }
  static void discard(Encoded& e, MemoryAccount& account) { Inner::discard(e.inner, account); }
  static void write(uint8_t* slot, const Encoded& e) {
    std::memcpy(slot, &e.state, 8);
    Inner::write(slot + kCacheStateSize, e.inner);
  }
  static BlobBox* ownedBox(const uint8_t* slot) { return Inner::ownedBox(slot + kCacheStateSize); }

  // In-place access to the state word of a stored slot.
  static uint64_t state(const uint8_t* slot) {
    uint64_t s;
    std::memcpy(&s, slot, 8);
    return s;
  }
  static void setState(uint8_t* slot, uint64_t s) { std::memcpy(slot, &s, 8); }
  static typename Inner::View value(const uint8_t* slot) { return Inner::load(slot + kCacheStateSize); }
};

// 'any' values of a cache: slab index (low 32 bits) | byte charge (high 32 bits).
struct SlabChargeValue : WordSlot<uint64_t> {
  static uint64_t pack(uint32_t slabIndex, uint32_t charge) {
    return static_cast<uint64_t>(slabIndex) | (static_cast<uint64_t>(charge) << 32);
  }
  static uint32_t slabIndex(uint64_t v) { return static_cast<uint32_t>(v); }
  static uint32_t chargeOf(uint64_t v) { return static_cast<uint32_t>(v >> 32); }
};

// The bytes an entry's key or value counts against a cache's maxBytes: the encoded length
// of a blob (string bytes: 1 per Latin-1 unit, 2 per UTF-16 unit), 8 for a number, the
// sizeOf charge for an 'any' value. Table overhead is not counted (see GoMap stats().bytes).
template <class Policy>
struct Charge;
template <>
struct Charge<WordSlot<uint64_t>> {
  static uint64_t of(uint64_t) { return 8; }
};
template <>
struct Charge<BlobSlot> {
  static uint64_t of(const Blob& b) { return b.len; }
};
template <>
struct Charge<SlabChargeValue> {
  static uint64_t of(uint64_t v) { return SlabChargeValue::chargeOf(v); }
};

}  // namespace gomap
