// Shared helpers for the core's GoogleTest tests (native/test).
//
// The tests drive GoMap<K, V> through its public API and compare it with a model
// (std::unordered_map). Each key or value policy gets a "traits" struct that says how a
// model value (an owned std::string or integer) turns into the view the map takes, and
// back:
//
//   U64Key / F64Key / BlobKeyTraits   keys    (Word64Key, Word64Key with f64 bits, BlobKey)
//   U64Val / SlabVal / BlobValTraits  values  (Word64Value, SlabIndexValue, BlobValue)
//
// A blob in the model is a std::string whose first byte is the tag and whose remaining
// bytes are the blob's bytes, so two blobs with equal bytes and different tags differ.
#pragma once

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "core/go_map.h"

namespace gomap_test {

using namespace gomap;

// A small, fast, seedable generator for test decisions (xoshiro-style quality is not
// needed; SplitMix64 is plenty and has no state to get wrong).
class Rng {
 public:
  explicit Rng(uint64_t seed) : s_(seed) {}
  uint64_t next() { return s_.next(); }
  // Uniform in [0, n) (n > 0); the modulo bias is irrelevant for tests.
  uint64_t below(uint64_t n) { return next() % n; }
  bool chance(unsigned percent) { return below(100) < percent; }

 private:
  SplitMix64 s_;
};

// ---- key traits -------------------------------------------------------------------------

struct U64Key {
  using Policy = Word64Key;
  using Model = uint64_t;
  static uint64_t view(const Model& m) { return m; }
  static Model fromView(uint64_t v) { return v; }
  // Key number i of a universe: a mix of small, huge and bit-pattern values.
  static Model make(uint64_t i) {
    switch (i % 4) {
      case 0: return i;                                // small integers
      case 1: return ~i;                               // near UINT64_MAX (negative i64)
      case 2: return i * 0x9e3779b97f4a7c15ull;        // spread bits
      default: return (i << 40) | (i >> 3);            // high bits only vary
    }
  }
  static std::string describe(const Model& m) { return std::to_string(m); }
};

// The normalization f64 keys must get (SameValueZero), computed independently of the core.
inline uint64_t expectedF64KeyBits(double d) {
  if (std::isnan(d)) return 0x7ff8000000000000ull;
  if (d == 0) return 0;  // +0 and -0 are one key
  uint64_t bits;
  std::memcpy(&bits, &d, sizeof bits);
  return bits;
}

inline double nanWithPayload(uint64_t payload, bool negative) {
  uint64_t bits = 0x7ff0000000000000ull | (payload & 0x000fffffffffffffull);
  if ((bits & 0x000fffffffffffffull) == 0) bits |= 1;  // keep it a NaN, not infinity
  if (negative) bits |= 0x8000000000000000ull;
  double d;
  std::memcpy(&d, &bits, sizeof d);
  return d;
}

// f64 keys: the model holds the normalized bits; callers pass f64KeyBits(d) of a double
// that may be -0 or any NaN, so normalization is exercised on every operation.
struct F64Key {
  using Policy = Word64Key;
  using Model = uint64_t;
  static uint64_t view(const Model& m) { return m; }
  static Model fromView(uint64_t v) { return v; }
  // The double for key number i (several doubles map to one key: ±0, the NaNs).
  static double rawDouble(uint64_t i) {
    switch (i % 8) {
      case 0: return 0.0;
      case 1: return -0.0;
      case 2: return nanWithPayload(i * 7919, (i & 16) != 0);
      case 3: return std::numeric_limits<double>::quiet_NaN();
      case 4: return (i & 8) ? std::numeric_limits<double>::infinity() : -std::numeric_limits<double>::infinity();
      case 5: return std::numeric_limits<double>::denorm_min() * static_cast<double>(i);
      case 6: return static_cast<double>(i) * 0.5;
      default: return -static_cast<double>(i) * 1.25e300 / 1e300;
    }
  }
  static Model make(uint64_t i) { return f64KeyBits(rawDouble(i)); }
  static std::string describe(const Model& m) { return std::to_string(m); }
};

inline Blob blobView(const std::string& s) {
  return Blob{static_cast<uint8_t>(s[0]), reinterpret_cast<const uint8_t*>(s.data()) + 1,
              static_cast<uint32_t>(s.size() - 1)};
}
inline std::string blobModel(const Blob& b) {
  std::string s(1, static_cast<char>(b.tag));
  if (b.len != 0) s.append(reinterpret_cast<const char*>(b.data), b.len);
  return s;
}
inline std::string makeBlob(uint8_t tag, const std::string& bytes) { return std::string(1, static_cast<char>(tag)) + bytes; }

// Deterministic bytes for blob number n, of the given length.
inline std::string blobBytes(uint64_t n, size_t len) {
  std::string s(len, '\0');
  SplitMix64 g(n * 0x2545f4914f6cdd1dull + len);
  uint64_t w = 0;
  for (size_t i = 0; i < len; ++i) {
    if (i % 8 == 0) w = g.next();
    s[i] = static_cast<char>(w >> (8 * (i % 8)));
  }
  return s;
}

// Blob keys of every tag, short (inline, <= 12 bytes) and long (boxed), with byte contents
// shared between tags (equal bytes under different tags must be different keys).
struct BlobKeyTraits {
  using Policy = BlobKey;
  using Model = std::string;
  static Blob view(const Model& m) { return blobView(m); }
  static Model fromView(const Blob& b) { return blobModel(b); }
  static Model make(uint64_t i) {
    const uint64_t content = i / 4;  // four consecutive i share their content
    switch (i % 12) {
      case 0: {  // Latin-1 text, short or long
        std::string s = "user:" + std::to_string(content);
        if (content % 3 == 0) s += ":padding-to-make-it-long";
        return makeBlob(kTagLatin1, s);
      }
      case 1: return makeBlob(kTagUtf16, blobBytes(content, 2 * (content % 20)));  // 0..38 bytes
      case 2: return makeBlob(kTagBytes, blobBytes(content, content % 40));         // 0..39 bytes
      case 3: return makeBlob(kTagLatin1, blobBytes(content, content % 40));        // same bytes, other tag
      case 4: {  // 'any' number: 8 bytes of normalized f64 bits
        uint64_t bits = f64KeyBits(static_cast<double>(content) - 0.5);
        return makeBlob(kTagNumber, std::string(reinterpret_cast<const char*>(&bits), 8));
      }
      case 5: return makeBlob(kTagBigInt, blobBytes(content, 1 + content % 24));  // 1..24 bytes
      case 6: return makeBlob(static_cast<uint8_t>(kTagFalse + content % 4), "");  // false/true/undefined/null
      case 7: {  // object/symbol identity number
        uint64_t id = content;
        return makeBlob(kTagObjectRef, std::string(reinterpret_cast<const char*>(&id), 8));
      }
      case 8: return makeBlob(kTagBytes, blobBytes(content, 13 + content % 100));  // long
      case 9: return makeBlob(kTagLatin1, blobBytes(content, 12));                 // exactly inline capacity
      case 10: return makeBlob(kTagUtf16, blobBytes(content, 14));                 // just boxed
      default: return makeBlob(kTagBytes, blobBytes(content, content % 13));       // 0..12 inline
    }
  }
  static std::string describe(const Model& m) {
    return "tag " + std::to_string(static_cast<unsigned>(static_cast<uint8_t>(m[0]))) + " len " +
           std::to_string(m.size() - 1);
  }
};

// Blob keys that are always long (boxed): reading one after it is freed is a heap
// use-after-free that AddressSanitizer reports.
inline std::string longKey(uint64_t i) { return makeBlob(kTagLatin1, "a-long-key-that-lives-in-a-box:" + std::to_string(i)); }

struct LongBlobKeyTraits : BlobKeyTraits {
  static Model make(uint64_t i) { return longKey(i); }
};

// ---- value traits -----------------------------------------------------------------------

struct U64Val {
  using Policy = Word64Value;
  using Model = uint64_t;
  static uint64_t view(const Model& m) { return m; }
  static Model fromView(uint64_t v) { return v; }
  static Model random(Rng& r) { return r.next(); }
};

struct SlabVal {
  using Policy = SlabIndexValue;
  using Model = uint32_t;
  static uint32_t view(const Model& m) { return m; }
  static Model fromView(uint32_t v) { return v; }
  static Model random(Rng& r) { return static_cast<uint32_t>(r.next()); }
};

// Blob values, short and long, of the value tags.
struct BlobValTraits {
  using Policy = BlobValue;
  using Model = std::string;
  static Blob view(const Model& m) { return blobView(m); }
  static Model fromView(const Blob& b) { return blobModel(b); }
  static Model random(Rng& r) {
    size_t len = r.chance(50) ? r.below(13) : 13 + r.below(60);
    return makeBlob(static_cast<uint8_t>(r.below(3)), blobBytes(r.next(), len));
  }
};

struct ShortBlobValTraits : BlobValTraits {
  static Model random(Rng& r) { return makeBlob(kTagBytes, blobBytes(r.next(), r.below(13))); }
};
struct LongBlobValTraits : BlobValTraits {
  static Model random(Rng& r) { return makeBlob(kTagLatin1, blobBytes(r.next(), 13 + r.below(80))); }
};

// ---- checks -----------------------------------------------------------------------------

template <class KT, class VT>
using MapOf = GoMap<typename KT::Policy, typename VT::Policy>;

template <class KT, class VT>
using ModelOf = std::unordered_map<typename KT::Model, typename VT::Model>;

// The stats() invariants that hold between any two operations (no allocation failure).
template <class M>
void expectStatsInvariants(const M& m) {
  MapStats s = m.stats();
  ASSERT_EQ(s.count, m.size());
  ASSERT_EQ(s.buckets, uint64_t{1} << s.B);
  ASSERT_EQ(s.loadFactor, static_cast<double>(s.count) / static_cast<double>(s.buckets * 8));
  if (s.growing) {
    ASSERT_TRUE(s.oldBuckets == s.buckets || s.oldBuckets * 2 == s.buckets)
        << "oldBuckets " << s.oldBuckets << " buckets " << s.buckets;
    ASSERT_LT(s.evacuated, s.oldBuckets);
  } else {
    ASSERT_EQ(s.oldBuckets, 0u);
    ASSERT_EQ(s.evacuated, 0u);
    // Go's rule: a single bucket (B = 0) holds up to 8 entries before the first grow, so
    // the 6.5/8 bound applies from 9 entries on.
    if (s.count > 8) {
      ASSERT_LE(s.loadFactor, 6.5 / 8) << "count " << s.count << " B " << s.B;
    }
  }
  if (s.count > 0) {
    ASSERT_GT(s.bytes, 0u);
  }
}

// Full comparison of map and model: size, every model key found with its value, and one
// complete iteration producing every entry exactly once with its value.
template <class KT, class VT>
void expectSameContents(MapOf<KT, VT>& m, const ModelOf<KT, VT>& model) {
  ASSERT_EQ(m.size(), model.size());
  for (const auto& [k, v] : model) {
    typename VT::Policy::View got{};
    ASSERT_TRUE(m.get(KT::view(k), &got)) << "missing key " << KT::describe(k);
    ASSERT_TRUE(VT::fromView(got) == v) << "wrong value for key " << KT::describe(k);
    ASSERT_TRUE(m.contains(KT::view(k)));
  }
  std::unordered_set<typename KT::Model> seen;
  typename MapOf<KT, VT>::Iterator it(m);
  typename KT::Policy::View kv{};
  typename VT::Policy::View vv{};
  while (it.next(&kv, &vv)) {
    auto k = KT::fromView(kv);
    ASSERT_TRUE(seen.insert(k).second) << "iteration produced a key twice: " << KT::describe(k);
    auto found = model.find(k);
    ASSERT_TRUE(found != model.end()) << "iteration produced a key not in the map: " << KT::describe(k);
    ASSERT_TRUE(VT::fromView(vv) == found->second) << "iteration produced a stale value for " << KT::describe(k);
  }
  ASSERT_EQ(seen.size(), model.size());
}

// ---- a test-only window on the bucket array ----------------------------------------------
//
// The tophash markers (kEmptyRest after a chain's last entry) cannot be seen through the
// public API: a stale kEmptyOne only costs time. To check them the tests read the current
// bucket array through a pointer to the private member buckets_, obtained with the
// standard explicit-instantiation rule ([temp.explicit]: access checks do not apply to
// names in an explicit instantiation). Nothing in the core is changed for it. The layout
// constants used (kKeysOffset, kOverflowOffset, kBucketSize) are public.

template <class Tag>
struct PrivateMember {
  static typename Tag::type ptr;
};
template <class Tag>
typename Tag::type PrivateMember<Tag>::ptr;

template <class Tag, typename Tag::type M>
struct PrivateMemberInit {
  PrivateMemberInit() { PrivateMember<Tag>::ptr = M; }
  static PrivateMemberInit instance;
};
template <class Tag, typename Tag::type M>
PrivateMemberInit<Tag, M> PrivateMemberInit<Tag, M>::instance;

template <class K, class V>
struct BucketsMemberTag {
  using type = map_detail::BucketArray* GoMap<K, V>::*;
};

// The map's current bucket array (null before the first allocation).
template <class K, class V>
const map_detail::BucketArray* currentArray(const GoMap<K, V>& m) {
  return m.*PrivateMember<BucketsMemberTag<K, V>>::ptr;
}

}  // namespace gomap_test

// Explicit instantiations for the maps whose buckets the tests inspect (at namespace scope).
#define GOMAP_TEST_EXPOSE_BUCKETS(K, V)                  \
  template struct gomap_test::PrivateMemberInit<         \
      gomap_test::BucketsMemberTag<gomap::K, gomap::V>, \
      &gomap::GoMap<gomap::K, gomap::V>::buckets_>
