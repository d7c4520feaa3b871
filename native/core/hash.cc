#include "hash.h"

namespace gomap {

uint64_t hashLongBytes(const uint8_t* data, size_t len, uint64_t seed) {
  using namespace hash_detail;
  const size_t total = len;
  uint64_t state = seed ^ kK0;
  // Two independent lanes per 32 bytes keep the multiplier busy.
  uint64_t lane = seed ^ kK2;
  while (len > 32) {
    state = foldedMultiply(read64(data) ^ kK1, read64(data + 8) ^ state);
    lane = foldedMultiply(read64(data + 16) ^ kK2, read64(data + 24) ^ lane);
    data += 32;
    len -= 32;
  }
  state ^= lane;
  if (len > 16) {
    state = foldedMultiply(read64(data) ^ kK1, read64(data + 8) ^ state);
    data += 16;
    len -= 16;
  }
  // The last 16 bytes (overlapping what was already consumed when len < 16).
  const uint8_t* tail = data + len - 16;
  uint64_t a = read64(tail), b = read64(tail + 8);
  return foldedMultiply(foldedMultiply(a ^ kK1, b ^ state) ^ kK2 ^ total, seed ^ kK1);
}

}  // namespace gomap
