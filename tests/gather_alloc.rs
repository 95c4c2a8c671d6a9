//! `gather!` allocates nothing: the futures live in the gather's own state. Its own test
//! binary, because it counts every allocation the process makes.

use std::alloc::{GlobalAlloc, Layout, System};
use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

struct Counting;

thread_local! {
    /// Allocations made by this thread (the test harness's own threads allocate too).
    /// Const-initialised, no destructor: usable from the allocator.
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
fn gather_macro_allocates_nothing() {
    let mut cx = Context::from_waker(Waker::noop());
    let before = allocations();
    let fut = pin!(arbor::gather!(async { 1u8 }, async { 2u16 }, async {
        std::future::ready(3u32).await
    },));
    let out = fut.poll(&mut cx);
    let try_fut = pin!(arbor::try_gather!(async { Ok::<_, ()>(1) }, async {
        Ok(2)
    }));
    let try_out = try_fut.poll(&mut cx);
    assert_eq!(allocations() - before, 0);
    assert_eq!(out, Poll::Ready((1, 2, 3)));
    assert_eq!(try_out, Poll::Ready(Ok((1, 2))));
}
