//! `CancelScope`: cancelling, nesting (the outermost cancelled scope catches), shields
//! (outer cancellation does not reach them; outer scopes wait for them), handles usable
//! from any thread (Trio `test_run.py`); a `put` cancelled through its scope did not put.

mod support;
use arbor_taskgroup::{CancelHandle, CancelScope, Cancelled};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
use support::*;

rt_test! {
    /// Trio `test_cancel_points` (`main3`): a scope cancelled while its future waits drops
    /// the future and resolves to `Err(Cancelled)`.
    fn test_cancel_points(rt: &Runtime) {
        let inner = Counters::new();
        let i = inner.clone();
        let res = rt.block_on(async move {
            let scope = CancelScope::new();
            let handle = scope.handle();
            scope
                .run(i.wrap(async move {
                    handle.cancel();
                    std::future::pending::<()>().await
                }))
                .await
        });
        assert_eq!(res, Err(Cancelled));
        assert_eq!((inner.polls(), inner.drops()), (1, 1));
    }
}

rt_test! {
    /// Trio `test_cancel_unbound` ("cancel before entry"): the wrapped future is never
    /// polled.
    fn test_cancel_unbound(rt: &Runtime) {
        let inner = Counters::new();
        let scope = CancelScope::new();
        scope.cancel();
        let res = rt.block_on(scope.run(inner.wrap(async { 1 })));
        assert_eq!(res, Err(Cancelled));
        assert_eq!((inner.polls(), inner.drops()), (0, 1));
    }
}

rt_test! {
    /// Trio `test_cancel_edge_cases`: cancelling twice is the same as once.
    fn test_cancel_edge_cases(rt: &Runtime) {
        let scope = CancelScope::new();
        let handle = scope.handle();
        let res = rt.block_on(scope.run(async move {
            handle.cancel();
            handle.cancel();
            assert!(handle.is_cancelled());
            std::future::pending::<()>().await
        }));
        assert_eq!(res, Err(Cancelled));
    }
}

rt_test! {
    /// Trio `test_cancel_scope_nesting`: when two nested scopes are cancelled, the outer one
    /// catches; the inner one never resolves (it is dropped with the rest).
    fn test_cancel_scope_nesting(rt: &Runtime) {
        let inner_resolved = Arc::new(AtomicBool::new(false));
        let r = inner_resolved.clone();
        let (scope1, scope2, scope3) = (CancelScope::new(), CancelScope::new(), CancelScope::new());
        let (h2, h3) = (scope2.handle(), scope3.handle());
        let res = rt.block_on(scope1.run(scope2.run(async move {
            let res = scope3
                .run(async move {
                    h3.cancel();
                    h2.cancel();
                    std::future::pending::<()>().await
                })
                .await;
            r.store(true, SeqCst);
            res
        })));
        assert_eq!(res, Ok(Err(Cancelled)), "scope2 caught; scope1 was not cancelled");
        assert!(!inner_resolved.load(SeqCst), "scope3 did not catch");
    }
}

rt_test! {
    /// Trio `test_cancel_scope_nesting` (last part): a scope cancelled from inside whose
    /// future completes in the same poll returns the result; nothing is caught.
    fn a_result_in_the_cancelling_poll_wins(rt: &Runtime) {
        let scope = CancelScope::new();
        let handle = scope.handle();
        let res = rt.block_on(scope.run(async move {
            handle.cancel();
            7
        }));
        assert_eq!(res, Ok(7));
    }
}

rt_test! {
    /// Trio `test_cancel_shielding`: an outer scope's cancellation does not reach a shielded
    /// scope, whose work completes; the outer scope catches after it.
    fn test_cancel_shielding(rt: &Runtime) {
        let outer = CancelScope::new();
        let h = outer.handle();
        let res = rt.block_on(outer.run(async move {
            h.cancel();
            let shielded = CancelScope::shielded();
            let sh = shielded.handle();
            let out = shielded
                .run(async move {
                    arbor_runtime::yield_now().await;
                    assert!(!sh.is_cancelled(), "outer cancellation does not reach a shield");
                    "done"
                })
                .await;
            assert_eq!(out, Ok("done"));
            std::future::pending::<()>().await
        }));
        assert_eq!(res, Err(Cancelled));
    }
}

rt_test! {
    /// Trio `test_cancel_shielding` ("doesn't protect us from scope inside"): a shield's own
    /// cancel, and a scope nested inside it, still apply.
    fn a_shields_own_cancel_applies(rt: &Runtime) {
        let shielded = CancelScope::shielded();
        let h = shielded.handle();
        let res = rt.block_on(shielded.run(async move {
            let innermost = CancelScope::new();
            let hi = innermost.handle();
            let inner = innermost
                .run(async move {
                    hi.cancel();
                    std::future::pending::<()>().await
                })
                .await;
            assert_eq!(inner, Err(Cancelled));
            h.cancel();
            std::future::pending::<()>().await
        }));
        assert_eq!(res, Err(Cancelled));
    }
}

rt_test! {
    /// An outer scope cancelled while a shielded region inside it waits does not drop until
    /// the region completes, then catches.
    fn the_outer_scope_waits_for_the_shielded_region(rt: &Runtime) {
        let cleaned = Arc::new(AtomicUsize::new(0));
        let c = cleaned.clone();
        rt.block_on(async move {
            let gate = Gate::new();
            let entered = Gate::new();
            let outer = CancelScope::new();
            let h = outer.handle();
            let (g, e) = (gate.clone(), entered.clone());
            let task = arbor_runtime::spawn(outer.run(async move {
                CancelScope::shielded()
                    .run(async move {
                        e.set();
                        g.wait().await;
                        c.fetch_add(1, SeqCst);
                    })
                    .await
                    .unwrap();
                std::future::pending::<()>().await
            }));
            entered.wait().await;
            h.cancel();
            for _ in 0..10 {
                arbor_runtime::yield_now().await;
            }
            assert!(!task.is_finished(), "the outer scope cannot finish before the region");
            gate.set();
            assert_eq!(task.await.unwrap(), Err(Cancelled));
        });
        assert_eq!(cleaned.load(SeqCst), 1);
    }
}

rt_test! {
    /// Trio `test_cancel_shield_abort`: a shielded scope around a group, inside a cancelled
    /// scope: the group's children keep running; cancelling the shield reaches them.
    fn test_cancel_shield_abort(rt: &Runtime) {
        let record = Arc::new(AtomicUsize::new(0));
        let r = record.clone();
        let outer = CancelScope::new();
        let ho = outer.handle();
        let res = rt.block_on(outer.run(async move {
            ho.cancel();
            let shield = CancelScope::shielded();
            let hs = shield.handle();
            let inner = shield
                .run(arbor_taskgroup::TaskGroup::<()>::scope(|tg| async move {
                    let started = Gate::new();
                    let s = started.clone();
                    let r2 = r.clone();
                    drop(tg.spawn(async move {
                        let _on_cancel = OnDrop(move || {
                            r2.fetch_add(10, SeqCst);
                        });
                        r.fetch_add(1, SeqCst); // "sleeping"
                        s.set();
                        std::future::pending::<Result<(), ()>>().await
                    }));
                    started.wait().await;
                    assert!(!tg.is_cancelled(), "the shield keeps the outer cancel out");
                    hs.cancel();
                    Ok(())
                }))
                .await;
            assert_eq!(inner, Err(Cancelled), "the shield catches its own cancel");
            std::future::pending::<()>().await
        }));
        assert_eq!(res, Err(Cancelled));
        assert_eq!(record.load(SeqCst), 11, "slept, then was cancelled");
    }
}

rt_test! {
    /// A handle cancels from a plain thread (`CancelHandle: Send + Sync`).
    fn cancel_from_another_thread(rt: &Runtime) {
        fn assert_send_sync<T: Send + Sync + Clone>() {}
        assert_send_sync::<CancelHandle>();
        let scope = CancelScope::new();
        let handle = scope.handle();
        let res = rt.block_on(scope.run(async move {
            let h = handle.clone();
            std::thread::spawn(move || h.cancel()).join().unwrap();
            std::future::pending::<()>().await
        }));
        assert_eq!(res, Err(Cancelled));
    }
}

rt_test! {
    /// A scope inside a cancelled scope reports `is_cancelled` (inherited) without having
    /// been cancelled itself; opened later, it starts cancelled and its future never runs.
    fn nested_scopes_inherit_cancellation(rt: &Runtime) {
        let outer = CancelScope::new();
        let ho = outer.handle();
        let inner = Counters::new();
        let i = inner.clone();
        let res = rt.block_on(outer.run(async move {
            ho.cancel();
            let nested = CancelScope::new();
            let hn = nested.handle();
            let out = nested.run(i.wrap(async { 1 })).await;
            unreachable!("the outer scope catches first: {out:?} {hn:?}")
        }));
        assert_eq!(res, Err::<(), _>(Cancelled));
        assert_eq!((inner.polls(), inner.drops()), (0, 1));
    }
}

rt_test! {
    /// A `put` cancelled through its scope after the queue made room for it, but before it
    /// ran again, resolves to `Err(Cancelled)` and did not put: its item is never delivered
    /// (a retry would duplicate it otherwise), and the room goes to the next putter.
    fn a_put_cancelled_through_its_scope_did_not_put(rt: &Runtime) {
        use arbor_runtime::sync::{Queue, TryGetError};
        use std::future::{Future, poll_fn};
        use std::pin::pin;
        use std::task::Poll;

        /// Polls `fut` once with this task's waker.
        async fn poll_once<F: Future + ?Sized>(fut: std::pin::Pin<&mut F>) -> Poll<F::Output> {
            let mut fut = Some(fut);
            poll_fn(|cx| Poll::Ready(fut.take().expect("polled once").poll(cx))).await
        }

        rt.block_on(async {
            let q = Queue::new(1);
            q.put_nowait(0).unwrap();
            let scope = CancelScope::new();
            let handle = scope.handle();
            let mut put = pin!(scope.run(q.put(1)));
            let mut next = pin!(q.put(2));
            assert!(poll_once(put.as_mut()).await.is_pending());
            assert!(poll_once(next.as_mut()).await.is_pending());
            assert_eq!(q.get_nowait(), Ok(0)); // room for the scoped put
            handle.cancel();
            assert_eq!(poll_once(put.as_mut()).await, Poll::Ready(Err(Cancelled)));
            assert_eq!(q.get_nowait(), Err(TryGetError::Empty), "1 was never put");
            assert_eq!(poll_once(next.as_mut()).await, Poll::Ready(Ok(())));
            assert_eq!(q.get_nowait(), Ok(2));
            assert_eq!(q.get_nowait(), Err(TryGetError::Empty));
        });
    }
}
