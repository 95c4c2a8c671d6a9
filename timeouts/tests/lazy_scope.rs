//! A timeout makes its cancel node only when something needs it: a future that completes at
//! the first poll costs no allocation; one that opens a group or a nested scope in that
//! first poll gets the node then, so the deadline still reaches everything inside.

use arbor_runtime::runtime::Builder;
use arbor_timeouts::{TimedOut, timeout};
use std::alloc::{GlobalAlloc, Layout, System};
use std::future::Future;
use std::pin::pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

struct Counting;

thread_local! {
    /// Allocations made by this thread (the other tests in this binary run on other
    /// threads and allocate meanwhile). Const-initialised, no destructor: usable from the
    /// allocator.
    static ALLOCATIONS: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

fn allocations() -> usize {
    ALLOCATIONS.with(std::cell::Cell::get)
}

// SAFETY: forwards to the system allocator, only counting calls.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let _ = ALLOCATIONS.try_with(|n| n.set(n.get() + 1));
        // SAFETY: the caller's contract is passed through unchanged.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: the caller's contract is passed through unchanged.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

#[test]
fn a_timeout_around_a_ready_future_allocates_nothing() {
    let mut cx = Context::from_waker(Waker::noop());
    // Warm the thread-locals and the clock first.
    let _ = pin!(timeout(Duration::from_secs(1), async { 0 })).poll(&mut cx);
    let before = allocations();
    let fut = pin!(timeout(Duration::from_secs(1), async { 7 }));
    let out = fut.poll(&mut cx);
    assert_eq!(allocations() - before, 0);
    assert_eq!(out, Poll::Ready(Ok(7)));
}

#[test]
fn a_group_opened_in_the_first_poll_is_still_cancelled_by_the_deadline() {
    let rt = Builder::new_current_thread()
        .start_paused(true)
        .build()
        .unwrap();
    let dropped = Arc::new(AtomicUsize::new(0));
    let d = dropped.clone();
    let out = rt.block_on(timeout(Duration::from_millis(10), async move {
        // Nested, both lazy at this first poll: the group makes both nodes, outer first.
        timeout(Duration::from_secs(3600), async move {
            arbor_taskgroup::TaskGroup::<()>::scope(|tg| async move {
                for _ in 0..3 {
                    let guard = DropCount(d.clone());
                    drop(tg.spawn(async move {
                        let _guard = guard;
                        arbor_runtime::sleep(Duration::from_secs(3600)).await;
                        Ok(())
                    }));
                }
                Ok(())
            })
            .await
        })
        .await
    }));
    assert_eq!(out, Err(TimedOut), "the outer, earlier deadline reports");
    assert_eq!(dropped.load(SeqCst), 3, "it reached the group's children");
}

#[test]
fn current_deadline_sees_a_lazy_scope() {
    let rt = Builder::new_current_thread()
        .start_paused(true)
        .build()
        .unwrap();
    rt.block_on(async {
        let outer = arbor_runtime::time::Instant::now() + Duration::from_secs(5);
        let seen = arbor_timeouts::timeout_at(outer, async {
            arbor_timeouts::timeout(Duration::from_secs(60), async {
                arbor_runtime::time::current_deadline()
            })
            .await
        })
        .await;
        assert_eq!(seen, Ok(Ok(Some(outer))));
    });
}

struct DropCount(Arc<AtomicUsize>);

impl Drop for DropCount {
    fn drop(&mut self) {
        self.0.fetch_add(1, SeqCst);
    }
}
