// CacheSlot<Inner>: the value slot of a cache entry. It wraps the slot of any value policy
// (slots.h) with the entry's eviction and expiry state, so that state lives in the bucket
// beside the key, with no per-entry allocation, list node or timer:
//
//   +-----------------------------+-------------+---------------------+
//   | state: u64                  | ttl: u32    | Inner slot          |
//   |  bit 63     referenced      |  ms, 0: no  |  (8 / 13 bytes)     |
//   |  bits 0..62 expiresAt (ms)  |  expiry     |                     |
//   +-----------------------------+-------------+---------------------+
//
// "referenced" is the CLOCK (second-chance) bit: set by a read, cleared when the eviction
// hand passes over the entry. expiresAt is on the cache's coarse millisecond clock (0: the
// entry never expires). ttl is kept so that updateAgeOnGet can restart an entry's own
// time-to-live on a read; ttls are limited to kMaxCacheTtl (about 49.7 days).
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
constexpr uint64_t kCacheExpiryMask = kCacheReferencedBit - 1;
constexpr uint64_t kMaxCacheTtl = 0xffffffffull;  // ms (u32 ttl field)
constexpr size_t kCacheStateSize = 8 + 4;

template <class Inner>
struct CacheSlot {
  struct View {
    uint64_t state = 0;  // referenced bit | expiresAt
    uint32_t ttl = 0;    // ms, 0: no expiry
    typename Inner::View value{};
  };
  struct Encoded {
    uint64_t state;
    uint32_t ttl;
    typename Inner::Encoded inner;
  };
  static constexpr size_t kSlotSize = kCacheStateSize + Inner::kSlotSize;

  static View load(const uint8_t* slot) {
    View v;
    std::memcpy(&v.state, slot, 8);
    std::memcpy(&v.ttl, slot + 8, 4);
    v.value = Inner::load(slot + kCacheStateSize);
    return v;
  }
  static bool encode(const View& v, MemoryAccount& account, Encoded* out) {
    out->state = v.state;
    out->ttl = v.ttl;
    return Inner::encode(v.value, account, &out->inner);
  }
  static void discard(Encoded& e, MemoryAccount& account) { Inner::discard(e.inner, account); }
  static void write(uint8_t* slot, const Encoded& e) {
    std::memcpy(slot, &e.state, 8);
    std::memcpy(slot + 8, &e.ttl, 4);
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
  static uint32_t ttl(const uint8_t* slot) {
    uint32_t t;
    std::memcpy(&t, slot + 8, 4);
    return t;
  }
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
