// The map's hash function: a seeded 64-bit hash of the wyhash/rapidhash family.
//
// Design: the core operation is the "folded multiply": multiply two 64-bit words into a
// 128-bit product and xor its halves. One fold mixes every input bit into every output
// bit with good avalanche; two folds (input fold, then a finalising fold with the length)
// are enough for hash-table use. Inputs of 16 bytes or less are read as two (possibly
// overlapping) words without a loop; longer inputs fold 16 bytes per step into the seed.
// The seed enters every fold, so a per-map random seed (Go's hash0) makes the bucket of
// a key unpredictable for an attacker who does not know the seed.
//
// hashWord is the fast path for 8-byte keys (i64 and f64 bit patterns).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

namespace gomap {

namespace hash_detail {

// Odd constants with roughly half their bits set, no obvious structure.
constexpr uint64_t kK0 = 0xa0761d6478bd642full;
constexpr uint64_t kK1 = 0xe7037ed1a0b428dbull;
constexpr uint64_t kK2 = 0x8ebc6af09c88c6e3ull;

inline uint64_t foldedMultiply(uint64_t a, uint64_t b) {
// WebAssembly has no 64x64->128 multiply: __uint128_t becomes a call to compiler-rt's
// general 128x128 __multi3 there, slower than the four 32-bit products below.
#if defined(__SIZEOF_INT128__) && !defined(__wasm__)
  __uint128_t product = static_cast<__uint128_t>(a) * b;
  return static_cast<uint64_t>(product) ^ static_cast<uint64_t>(product >> 64);
#else
  // Portable 64x64->128 multiply.
  uint64_t aLo = a & 0xffffffffu, aHi = a >> 32, bLo = b & 0xffffffffu, bHi = b >> 32;
  uint64_t ll = aLo * bLo, lh = aLo * bHi, hl = aHi * bLo, hh = aHi * bHi;
  uint64_t mid = (ll >> 32) + (lh & 0xffffffffu) + (hl & 0xffffffffu);
  uint64_t lo = (ll & 0xffffffffu) | (mid << 32);
  uint64_t hi = hh + (lh >> 32) + (hl >> 32) + (mid >> 32);
  return lo ^ hi;
#endif
}

inline uint64_t read64(const uint8_t* p) {
  uint64_t v;
  std::memcpy(&v, p, 8);
  return v;
}
inline uint64_t read32(const uint8_t* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}

}  // namespace hash_detail

// Hash of one 64-bit word.
inline uint64_t hashWord(uint64_t word, uint64_t seed) {
  using namespace hash_detail;
  uint64_t a = word ^ seed ^ kK0;
  uint64_t b = ((word << 32) | (word >> 32)) ^ kK1;
  return foldedMultiply(foldedMultiply(a, b) ^ kK2, seed ^ kK1 ^ 8);
}

// Hash of a byte string of the given length (any length).
uint64_t hashLongBytes(const uint8_t* data, size_t len, uint64_t seed);

inline uint64_t hashBytes(const uint8_t* data, size_t len, uint64_t seed) {
  using namespace hash_detail;
  if (len > 16) return hashLongBytes(data, len, seed);
  uint64_t a, b;
  if (len >= 4) {
    // Two overlapping windows cover every byte for 4 <= len <= 16.
    size_t quarter = (len >> 3) << 2;  // 0 for len < 8, 4 for len >= 8
    a = (read32(data) << 32) | read32(data + quarter);
    b = (read32(data + len - 4) << 32) | read32(data + len - 4 - quarter);
  } else if (len > 0) {
    a = (static_cast<uint64_t>(data[0]) << 16) | (static_cast<uint64_t>(data[len >> 1]) << 8) | data[len - 1];
    b = 0;
  } else {
    a = 0;
    b = 0;
  }
  return foldedMultiply(foldedMultiply(a ^ kK1, b ^ seed ^ kK0) ^ kK2 ^ len, seed ^ kK1);
}

}  // namespace gomap
