//! A task's future is pinned: from its first poll until its destructor has run it stays at
//! one address, whether it completes, is cancelled, or is dropped at shutdown. Futures that
//! borrow their own locals (any `async fn` holding a reference across an `.await`) rely on
//! it.

mod support;
use arbor_runtime::spawn;
use std::future::Future;
use std::marker::PhantomPinned;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::task::{Context, Poll};

/// Records the address it was polled at, and counts drops at any other address.
struct PinCheck {
    polled_at: usize,
    ready: bool,
    moved_drops: Arc<AtomicUsize>,
    drops: Arc<AtomicUsize>,
    _pinned: PhantomPinned,
}

impl PinCheck {
    fn new(ready: bool, moved_drops: &Arc<AtomicUsize>, drops: &Arc<AtomicUsize>) -> PinCheck {
        PinCheck {
            polled_at: 0,
            ready,
            moved_drops: moved_drops.clone(),
            drops: drops.clone(),
            _pinned: PhantomPinned,
        }
    }
}

impl Future for PinCheck {
    type Output = ();
    fn poll(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<()> {
        // SAFETY: only a plain field is written; nothing is moved out.
        let this = unsafe { self.get_unchecked_mut() };
        this.polled_at = this as *const PinCheck as usize;
        if this.ready {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    }
}

impl Drop for PinCheck {
    fn drop(&mut self) {
        self.drops.fetch_add(1, SeqCst);
        if self.polled_at != 0 && self.polled_at != self as *const PinCheck as usize {
            self.moved_drops.fetch_add(1, SeqCst);
        }
    }
}

#[test]
fn a_polled_future_is_dropped_where_it_was_pinned() {
    for (name, make) in support::flavours() {
        let rt = make();
        let moved = Arc::new(AtomicUsize::new(0));
        let drops = Arc::new(AtomicUsize::new(0));
        rt.block_on(async {
            // Completes: dropped when its output is stored.
            spawn(PinCheck::new(true, &moved, &drops)).await.unwrap();
            // Cancelled while pending.
            let pending = spawn(PinCheck::new(false, &moved, &drops));
            for _ in 0..10 {
                arbor_runtime::yield_now().await;
            }
            pending.cancel();
            assert!(pending.await.unwrap_err().is_cancelled());
        });
        // Pending when the runtime shuts down.
        let at_shutdown = rt.spawn(PinCheck::new(false, &moved, &drops));
        rt.block_on(async {
            for _ in 0..10 {
                arbor_runtime::yield_now().await;
            }
        });
        drop(rt);
        assert!(at_shutdown.is_finished(), "{name}");
        assert_eq!(drops.load(SeqCst), 3, "{name}");
        assert_eq!(
            moved.load(SeqCst),
            0,
            "{name}: a future was moved after it was polled"
        );
    }
}
