// Epoch-based reclamation: retired objects are freed only once no pinned thread can
// hold them; an idle registered thread does not hold reclamation back; a thread that
// unregisters while pinned (a terminated worker) does not stall it afterwards.
#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "concurrent_test_util.h"

namespace {

using namespace cmap_test;
namespace ebr = gomap::ebr;

std::atomic<int> g_freed{0};

struct Tracked {
  ebr::Retired retired;
  int payload = 0;
};
void reclaimTracked(ebr::Retired* r) {
  delete reinterpret_cast<Tracked*>(r);
  g_freed.fetch_add(1);
}
void retireSome(ebr::ThreadRecord& rec, int n) {
  for (int i = 0; i < n; ++i) ebr::retire(rec, &(new Tracked())->retired, &reclaimTracked);
}

// Runs `body(rec)` on a thread that registers and pins; the thread stays pinned until
// release() is called, then leaves the way `leave` says.
class PinnedThread {
 public:
  explicit PinnedThread(bool unregisterWhilePinned) {
    thread_ = std::thread([this, unregisterWhilePinned] {
      ebr::ThreadRecord* rec = ebr::registerThread();
      {
        auto* guard = new ebr::Guard(*rec);
        signal(State::kPinned);
        waitFor(State::kRelease);
        if (unregisterWhilePinned) {
          // A terminated worker: its clean-up hook unregisters it; the guard is abandoned.
          ebr::unregisterThread(rec);
          ::operator delete(guard);  // the Guard is never run: the record is gone
          return;
        }
        delete guard;
      }
      ebr::unregisterThread(rec);
    });
    waitFor(State::kPinned);
  }
  void release() {
    signal(State::kRelease);
    thread_.join();
  }

 private:
  enum class State { kStart, kPinned, kRelease };
  void signal(State s) {
    std::lock_guard<std::mutex> lock(mu_);
    state_ = s;
    cv_.notify_all();
  }
  void waitFor(State s) {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [&] { return state_ == s; });
  }
  std::mutex mu_;
  std::condition_variable cv_;
  State state_ = State::kStart;
  std::thread thread_;
};

TEST(Epoch, RetiredObjectsAreFreedWhenNobodyIsPinned) {
  Registered rec;
  ASSERT_TRUE(rec.ok());
  ASSERT_TRUE(drainRetired(*rec));
  const int before = g_freed.load();
  retireSome(*rec, 10);
  EXPECT_EQ(ebr::pendingObjects(), 10u);
  EXPECT_TRUE(drainRetired(*rec));
  EXPECT_EQ(g_freed.load() - before, 10);
}

TEST(Epoch, AnIdleRegisteredThreadDoesNotHoldReclamationBack) {
  Registered rec;
  Registered idle;  // registered, never pinned
  ASSERT_TRUE(rec.ok() && idle.ok());
  retireSome(*rec, 5);
  EXPECT_TRUE(drainRetired(*rec));
}

TEST(Epoch, APinnedThreadHoldsBackOnlyWhatItMayRead) {
  Registered rec;
  ASSERT_TRUE(drainRetired(*rec));
  PinnedThread pinned(false);
  retireSome(*rec, 5);
  for (int i = 0; i < 10; ++i) ebr::collect(*rec);
  EXPECT_EQ(ebr::pendingObjects(), 5u) << "freed under a pinned reader";
  pinned.release();
  EXPECT_TRUE(drainRetired(*rec));
}

TEST(Epoch, AThreadUnregisteredWhilePinnedDoesNotStallReclamation) {
  Registered rec;
  ASSERT_TRUE(drainRetired(*rec));
  PinnedThread worker(true);
  retireSome(*rec, 5);
  for (int i = 0; i < 4; ++i) ebr::collect(*rec);
  EXPECT_EQ(ebr::pendingObjects(), 5u);
  worker.release();  // unregisters while pinned, as a terminated worker's hook does
  EXPECT_TRUE(drainRetired(*rec));
  // And the record it left is reused, unpinned, by the next thread.
  Registered next;
  ASSERT_TRUE(next.ok());
  retireSome(*rec, 3);
  EXPECT_TRUE(drainRetired(*rec));
}

TEST(Epoch, ObjectsOfAnUnregisteredThreadAreFreedByOthers) {
  Registered rec;
  ASSERT_TRUE(drainRetired(*rec));
  PinnedThread pinned(false);  // keeps the orphans from being freed at once
  std::thread leaver([] {
    ebr::ThreadRecord* own = ebr::registerThread();
    retireSome(*own, 7);
    ebr::unregisterThread(own);
  });
  leaver.join();
  EXPECT_EQ(ebr::pendingObjects(), 7u);
  pinned.release();
  EXPECT_TRUE(drainRetired(*rec));
}

TEST(Epoch, SharedObjectsAreFreedByReadersAlone) {
  Registered writer;
  Registered reader;
  ASSERT_TRUE(drainRetired(*writer));
  const int before = g_freed.load();
  ebr::retireShared(*writer, &(new Tracked())->retired, &reclaimTracked);  // a big old table
  EXPECT_EQ(ebr::pendingObjects(), 1u);
  // The writer goes idle; a reader's ordinary operations free it.
  for (int i = 0; i < 10 * static_cast<int>(ebr::kHelpInterval) && ebr::pendingObjects() != 0; ++i) {
    ebr::Guard guard(*reader);
  }
  EXPECT_EQ(ebr::pendingObjects(), 0u);
  EXPECT_EQ(g_freed.load() - before, 1);
}

TEST(Epoch, GuardsNest) {
  Registered rec;
  {
    ebr::Guard outer(*rec);
    {
      ebr::Guard inner(*rec);
      EXPECT_TRUE((*rec).pinned());
    }
    EXPECT_TRUE((*rec).pinned());
  }
  EXPECT_FALSE((*rec).pinned());
}

}  // namespace
