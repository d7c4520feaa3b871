// Hash quality smoke tests for hashWord / hashBytes / hashBlob: determinism, seed
// sensitivity, avalanche (one flipped input bit changes about half the output bits), and
// an even spread of low bits (bucket index) and top bits (tophash) over sequential keys.
// Every threshold is loose: a decent 64-bit hash passes with a wide margin, a broken one
// (say, a missing finalising multiply) fails.
#include <bitset>
#include <cmath>

#include "test_util.h"

namespace gomap_test {
namespace {

int popcount(uint64_t x) { return static_cast<int>(std::bitset<64>(x).count()); }

TEST(Hash, Deterministic) {
  const uint8_t data[] = "the quick brown fox jumps over the lazy dog";
  for (size_t len = 0; len < sizeof data; ++len) {
    EXPECT_EQ(hashBytes(data, len, 7), hashBytes(data, len, 7));
  }
  EXPECT_EQ(hashWord(12345, 9), hashWord(12345, 9));
}

TEST(Hash, SeedsChangeEveryHash) {
  Rng r(1);
  double bitsChanged = 0;
  int samples = 0;
  for (int i = 0; i < 2000; ++i) {
    uint64_t x = r.next(), s1 = r.next(), s2 = s1 ^ (uint64_t{1} << (i % 64));  // seeds one bit apart
    uint64_t a = hashWord(x, s1), b = hashWord(x, s2);
    EXPECT_NE(a, b);
    bitsChanged += popcount(a ^ b);
    ++samples;
    std::string bytes = blobBytes(x, i % 80);
    const auto* p = reinterpret_cast<const uint8_t*>(bytes.data());
    uint64_t c = hashBytes(p, bytes.size(), s1), d = hashBytes(p, bytes.size(), s2);
    EXPECT_NE(c, d) << "len " << bytes.size();
    bitsChanged += popcount(c ^ d);
    ++samples;
  }
  double mean = bitsChanged / samples / 64;
  EXPECT_GT(mean, 0.45);
  EXPECT_LT(mean, 0.55);
}

// For each input bit: flip it in many random inputs and count changed output bits. The
// overall mean must be within 40-60% of 64 bits, and no input bit may be much weaker.
template <class HashFn>
void expectAvalanche(size_t inputBits, HashFn hashOfInput, int samples, const std::string& what) {
  Rng r(inputBits * 31 + 7);
  double total = 0;
  double worst = 1, best = 0;
  size_t worstBit = 0;
  std::vector<uint8_t> input((inputBits + 7) / 8);
  for (size_t bit = 0; bit < inputBits; ++bit) {
    double changed = 0;
    for (int s = 0; s < samples; ++s) {
      for (auto& byte : input) byte = static_cast<uint8_t>(r.next());
      uint64_t seed = r.next();
      uint64_t h0 = hashOfInput(input, seed);
      input[bit / 8] ^= static_cast<uint8_t>(1u << (bit % 8));
      uint64_t h1 = hashOfInput(input, seed);
      changed += popcount(h0 ^ h1);
    }
    double fraction = changed / samples / 64;
    total += fraction;
    if (fraction < worst) {
      worst = fraction;
      worstBit = bit;
    }
    best = std::max(best, fraction);
  }
  double mean = total / inputBits;
  EXPECT_GE(mean, 0.40) << what;
  EXPECT_LE(mean, 0.60) << what;
  EXPECT_GE(worst, 0.30) << what << ": input bit " << worstBit << " changes too few output bits";
  EXPECT_LE(best, 0.70) << what;
}

TEST(Hash, AvalancheHashWord) {
  expectAvalanche(
      64,
      [](const std::vector<uint8_t>& in, uint64_t seed) {
        uint64_t w;
        std::memcpy(&w, in.data(), 8);
        return hashWord(w, seed);
      },
      400, "hashWord");
}

TEST(Hash, AvalancheHashWordSeedBits) {
  // Flipping a seed bit for a fixed key: as good as flipping a key bit.
  expectAvalanche(
      64,
      [](const std::vector<uint8_t>& in, uint64_t key) {
        uint64_t seed;
        std::memcpy(&seed, in.data(), 8);
        return hashWord(key, seed);
      },
      400, "hashWord seed");
}

TEST(Hash, AvalancheHashBytes) {
  for (size_t len : {1, 2, 3, 4, 5, 7, 8, 9, 12, 13, 15, 16, 17, 24, 31, 32, 33, 48, 64, 65, 100}) {
    expectAvalanche(
        len * 8,
        [len](const std::vector<uint8_t>& in, uint64_t seed) { return hashBytes(in.data(), len, seed); },
        len <= 16 ? 300 : 120, "hashBytes len " + std::to_string(len));
  }
}

// Pearson's chi-squared statistic of `counts` against a uniform expectation, and a loose
// bound: mean dof, standard deviation sqrt(2 dof); 6 deviations is p < 1e-8.
void expectUniform(const std::vector<uint64_t>& counts, uint64_t total, const std::string& what) {
  double expected = static_cast<double>(total) / counts.size();
  double chi2 = 0;
  for (uint64_t c : counts) chi2 += (c - expected) * (c - expected) / expected;
  double dof = static_cast<double>(counts.size() - 1);
  EXPECT_LT(chi2, dof + 6 * std::sqrt(2 * dof)) << what << ": chi2 " << chi2 << " for " << dof << " dof";
  // Also not suspiciously perfect (a hash that is a permutation of the low bits would be).
  EXPECT_GT(chi2, dof - 6 * std::sqrt(2 * dof)) << what << ": chi2 " << chi2 << " for " << dof << " dof";
}

template <class KeyHash>
void expectSpread(uint64_t n, KeyHash hashOfIndex, const std::string& what) {
  for (unsigned b : {4u, 8u, 12u}) {
    std::vector<uint64_t> low(size_t{1} << b);
    std::vector<uint64_t> top(256);
    for (uint64_t i = 0; i < n; ++i) {
      uint64_t h = hashOfIndex(i);
      ++low[h & ((uint64_t{1} << b) - 1)];
      if (b == 4) ++top[h >> 56];
    }
    expectUniform(low, n, what + " low " + std::to_string(b) + " bits");
    if (b == 4) expectUniform(top, n, what + " top byte");
  }
}

TEST(Hash, SequentialIntegersSpreadOverBuckets) {
  for (uint64_t seed : {0ull, 1ull, 0x123456789abcdefull}) {
    expectSpread(1 << 18, [seed](uint64_t i) { return hashWord(i, seed); }, "integers");
    // Integers scaled by a power of two (low bits all zero).
    expectSpread(1 << 18, [seed](uint64_t i) { return hashWord(i << 20, seed); }, "integers << 20");
    // Doubles of integers: the low mantissa bits are all zero.
    expectSpread(1 << 18, [seed](uint64_t i) { return hashWord(f64KeyBits(static_cast<double>(i)), seed); },
                 "doubles");
  }
}

TEST(Hash, SequentialStringsSpreadOverBuckets) {
  for (uint64_t seed : {0ull, 99ull}) {
    expectSpread(
        1 << 17,
        [seed](uint64_t i) {
          std::string s = "user:" + std::to_string(i);
          return hashBytes(reinterpret_cast<const uint8_t*>(s.data()), s.size(), seed);
        },
        "user:i");
    expectSpread(
        1 << 16,
        [seed](uint64_t i) {
          std::string s = "a-much-longer-prefix-for-boxed-keys/" + std::to_string(i);
          return hashBytes(reinterpret_cast<const uint8_t*>(s.data()), s.size(), seed);
        },
        "long prefix + i");
  }
}

TEST(Hash, NoCollisionsAmongManyShortInputs) {
  // Distinct inputs of every length 1..16 (the fast path) and 17..40, and distinct words:
  // no two of them may share a 64-bit hash (a chance coincidence is ~1e-8).
  std::unordered_set<uint64_t> seen;
  const uint64_t seed = 42;
  size_t n = 0;
  for (size_t len = 1; len <= 40; ++len) {
    uint64_t distinct = len >= 3 ? 8000 : (len == 1 ? 256 : 65536);
    for (uint64_t i = 0; i < distinct; ++i) {
      uint8_t bytes[40];
      for (size_t j = 0; j < len; ++j) bytes[j] = static_cast<uint8_t>(j < 8 ? i >> (8 * j) : 0x5a);
      seen.insert(hashBytes(bytes, len, seed));
      ++n;
    }
  }
  for (uint64_t i = 0; i < 200000; ++i, ++n) seen.insert(hashWord(i, seed));
  EXPECT_EQ(seen.size(), n);
}

TEST(Hash, LengthAndTagArePartOfTheHash) {
  const uint8_t zeros[32] = {};
  std::unordered_set<uint64_t> byLength;
  for (size_t len = 0; len <= 32; ++len) byLength.insert(hashBytes(zeros, len, 5));
  EXPECT_EQ(byLength.size(), 33u) << "zero-filled inputs of different lengths must hash apart";
  const uint8_t abc[] = {'a', 'b', 'c', 'a', 'b', 'c'};
  EXPECT_NE(hashBytes(abc, 3, 1), hashBytes(abc, 6, 1));
  const uint8_t aaa[] = {'a', 'a', 'a'};
  EXPECT_NE(hashBytes(aaa, 1, 1), hashBytes(aaa, 3, 1));
  std::unordered_set<uint64_t> byTag;
  for (uint8_t tag = 0; tag < kTagCount; ++tag) byTag.insert(hashBlob(Blob{tag, abc, 3}, 1));
  EXPECT_EQ(byTag.size(), static_cast<size_t>(kTagCount));
}

}  // namespace
}  // namespace gomap_test
