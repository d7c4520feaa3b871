// Status codes returned by the core. The core never throws across its API: an operation
// that cannot complete returns a Status and leaves the map exactly as it was.
#pragma once

#include <cstdint>

namespace gomap {

enum class Status : uint8_t {
  kOk = 0,
  kNoMemory,  // an allocation failed; the map is unchanged
  kTooLarge,  // a size (hint, key, value) is beyond the documented limits
};

inline const char* statusMessage(Status s) {
  switch (s) {
    case Status::kOk: return "ok";
    case Status::kNoMemory: return "out of memory";
    case Status::kTooLarge: return "size too large";
  }
  return "unknown status";
}

}  // namespace gomap
