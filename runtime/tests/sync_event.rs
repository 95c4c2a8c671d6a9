//! `sync::Event`: set wakes every waiter on every flavour; a waiter woken by `set` resolves
//! even if `clear` follows; dropped waiters affect nobody.

mod support;
mod sync_support;

use arbor_runtime::spawn;
use arbor_runtime::sync::Event;
use std::sync::Arc;
use sync_support::{CountingWaker, manual};

rt_test! {
    fn set_wakes_every_waiter(rt: &Runtime) {
        let woken = rt.block_on(async {
            let event = Arc::new(Event::new());
            let waiters: Vec<_> = (0..50)
                .map(|_| {
                    let event = event.clone();
                    spawn(async move { event.wait().await })
                })
                .collect();
            let setter = {
                let event = event.clone();
                spawn(async move { event.set() })
            };
            setter.await.unwrap();
            let mut woken = 0;
            for w in waiters {
                w.await.unwrap();
                woken += 1;
            }
            woken
        });
        assert_eq!(woken, 50);
    }
}

#[test]
fn set_then_clear_still_releases_queued_waiters() {
    let event = Event::new();
    let (w1, w2) = (CountingWaker::new(), CountingWaker::new());
    let mut first = manual(event.wait());
    let mut second = manual(event.wait());
    assert!(w1.poll(first.as_mut()).is_pending());
    assert!(w2.poll(second.as_mut()).is_pending());
    event.set();
    event.clear();
    assert_eq!((w1.wakes(), w2.wakes()), (1, 1));
    drop(first); // a dropped waiter takes nothing from the others
    assert!(w2.poll(second.as_mut()).is_ready());
    // Cleared: a new waiter waits.
    let mut third = manual(event.wait());
    assert!(w1.poll(third.as_mut()).is_pending());
    event.set();
    assert!(w1.poll(third.as_mut()).is_ready());
    // Set: a new waiter resolves at once.
    let mut fourth = manual(event.wait());
    assert!(w1.poll(fourth.as_mut()).is_ready());
}

#[test]
fn is_set_set_and_clear() {
    let event = Event::default();
    assert!(!event.is_set());
    event.set();
    event.set();
    assert!(event.is_set());
    assert_eq!(format!("{event:?}"), "Event { is_set: true }");
    event.clear();
    assert!(!event.is_set());
}
