// gomap_flood_keys: string keys that all land in one bucket of a map with a known seed
// (a hash-flooding attack on a server that used a fixed seed), for bench/workloads/flood.mjs.
//
//   gomap_flood_keys --seed=42 --count=100000 --bits=14   > keys.txt
//
// Prints `count` distinct 12-character ASCII keys ("fl:" + 9 base-62 digits), one per
// line, whose hash under a GoMap built with MapOptions{fixedSeed, seed} has its low
// `bits` bits all zero: every one of them goes to bucket 0 of any table of up to 2^bits
// buckets (100,000 entries need 2^14). Found by brute force over a counter with the
// map's own hash function (hash.h's hashBlob, on the Latin-1 blob the addon makes of an
// ASCII string); the per-map hash seed is learned from the map itself, by reading the
// hash it computes through the MapOptions::hashOverride test hook, and every printed key
// is checked that way, so a change in how the core derives its seed cannot go unnoticed
// (exit status 1). About 2^bits hashes per key: 1.6e9 for the default, a few seconds.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "core/go_map.h"

namespace {

using namespace gomap;

uint64_t g_seen = 0;
uint64_t spy(uint64_t h) {
  g_seen = h;
  return h;
}

uint64_t argValue(int argc, char** argv, const char* name, uint64_t fallback) {
  const size_t n = std::strlen(name);
  for (int i = 1; i < argc; ++i) {
    if (std::strncmp(argv[i], name, n) == 0 && argv[i][n] == '=') return std::strtoull(argv[i] + n + 1, nullptr, 10);
  }
  return fallback;
}

constexpr char kDigits[] = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
constexpr size_t kKeyLength = 12;
constexpr size_t kPrefix = 3;  // "fl:"

}  // namespace

int main(int argc, char** argv) {
  const uint64_t seed = argValue(argc, argv, "--seed", 42);
  const uint64_t count = argValue(argc, argv, "--count", 100000);
  const unsigned bits = static_cast<unsigned>(argValue(argc, argv, "--bits", 14));
  if (bits == 0 || bits > 30 || count == 0) {
    std::fprintf(stderr, "usage: gomap_flood_keys --seed=N --count=N --bits=1..30\n");
    return 2;
  }
  const uint64_t mask = (uint64_t{1} << bits) - 1;

  // The victim's map, as the addon makes it for `new GoMap(null, {key: 'string', seed})`;
  // its hash seed is the first draw of its random stream (GoMap's constructor). A probe
  // with the spy hook tells the hash the map really computes.
  MapOptions options;
  options.fixedSeed = true;
  options.seed = seed;
  options.hashOverride = spy;
  GoMap<BlobKey, Word64Value> probe(options);
  const uint64_t hash0 = SplitMix64(seed).next();
  auto mapHash = [&](const char* key) {
    probe.contains(Blob{kTagLatin1, reinterpret_cast<const uint8_t*>(key), kKeyLength});
    return g_seen;
  };

  char key[kKeyLength + 1] = "fl:000000000";
  uint8_t digit[kKeyLength] = {};  // base-62 digit values of key[kPrefix..]
  uint64_t counter = 0;
  std::string out;
  out.reserve(count * (kKeyLength + 1));
  for (uint64_t found = 0; found < count;) {
    // Next key: "fl:" + counter in base 62, fixed width (an odometer, no division).
    ++counter;
    for (size_t i = kKeyLength - 1; i >= kPrefix; --i) {
      if (++digit[i] < 62) {
        key[i] = kDigits[digit[i]];
        break;
      }
      digit[i] = 0;
      key[i] = kDigits[0];
    }
    const uint64_t h = hashBlob(Blob{kTagLatin1, reinterpret_cast<const uint8_t*>(key), kKeyLength}, hash0);
    if ((h & mask) != 0) continue;
    if (mapHash(key) != h) {
      std::fprintf(stderr, "gomap_flood_keys: the map hashes %s differently from hashBlob with the seed's first draw: "
                           "the core's seed derivation changed, update this tool\n", key);
      return 1;
    }
    out.append(key, kKeyLength);
    out.push_back('\n');
    ++found;
  }
  std::fwrite(out.data(), 1, out.size(), stdout);
  std::fprintf(stderr, "gomap_flood_keys: %llu keys in bucket 0 of 2^%u for seed %llu (%llu candidates hashed)\n",
               static_cast<unsigned long long>(count), bits, static_cast<unsigned long long>(seed),
               static_cast<unsigned long long>(counter));
  return 0;
}
