// The shape of a map's table at one moment (API.md's MapStats).
#pragma once

#include <cstdint>

namespace gomap {

struct MapStats {
  uint64_t count = 0;            // live entries
  unsigned B = 0;                // log2 of the bucket count
  uint64_t buckets = 0;          // 2^B
  uint64_t overflowBuckets = 0;  // overflow buckets allocated (new and old arrays)
  double loadFactor = 0;         // count / (buckets * 8)
  bool growing = false;          // an incremental grow is in progress
  uint64_t oldBuckets = 0;       // buckets of the old array while growing, else 0
  uint64_t evacuated = 0;        // old buckets already evacuated while growing
  uint64_t grows = 0;            // doubling grows so far
  uint64_t sameSizeGrows = 0;    // same-size grows so far
  uint64_t shrinks = 0;          // shrinks so far
  uint64_t bytes = 0;            // native bytes held (tables, overflow, out-of-line blobs)
};

}  // namespace gomap
