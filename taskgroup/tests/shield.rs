//! `shield(fut)`: the asyncio form. The work runs as its own task, outside the caller's
//! cancel tree, and survives its awaiter (CPython `test_tasks.py` `test_shield_*`).

mod support;
use arbor_taskgroup::{CancelScope, Cancelled, TaskGroup, shield};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering::SeqCst};
use support::*;

rt_test! {
    /// CPython `test_shield_result`: awaited to the end, a shield gives the output.
    fn test_shield_result(rt: &Runtime) {
        assert_eq!(rt.block_on(async { shield(async { 42 }).await.unwrap() }), 42);
    }
}

rt_test! {
    /// CPython `test_shield_exception`, arbor style: a panic in the shielded work comes back
    /// as a `JoinError` to whoever awaits it.
    fn test_shield_exception(rt: &Runtime) {
        quiet_panics();
        let err = rt.block_on(async {
            shield(async {
                if true {
                    panic!("arbor-test: shielded");
                }
            })
            .await
            .unwrap_err()
        });
        assert!(err.is_panic());
    }
}

rt_test! {
    /// CPython `test_shield_cancel_outer`: cancelling the awaiter (its scope) stops the
    /// waiting, not the work, which completes.
    fn test_shield_cancel_outer(rt: &Runtime) {
        let finished = Arc::new(AtomicBool::new(false));
        let f = finished.clone();
        rt.block_on(async move {
            let gate = Gate::new();
            let g = gate.clone();
            let scope = CancelScope::new();
            let handle = scope.handle();
            let res = scope
                .run(async move {
                    let work = shield(async move {
                        g.wait().await;
                        f.store(true, SeqCst);
                    });
                    handle.cancel();
                    work.await
                })
                .await;
            assert_eq!(res.unwrap_err(), Cancelled);
            gate.set();
        });
        // Runtime shutdown would cancel a still-running task; wait for the flag instead.
        let f = finished.clone();
        rt.block_on(until(move || f.load(SeqCst)));
        assert!(finished.load(SeqCst));
    }
}

rt_test! {
    /// CPython `test_shield_effect`: the shielded work survives even the cancellation of
    /// the group whose child awaited it.
    fn test_shield_effect(rt: &Runtime) {
        let finished = Arc::new(AtomicBool::new(false));
        let f = finished.clone();
        let gate = Gate::new();
        let g = gate.clone();
        let err = rt
            .block_on(TaskGroup::<()>::scope(|tg| async move {
                let started = Gate::new();
                let s = started.clone();
                drop(tg.spawn(async move {
                    let _output = shield(async move {
                        s.set();
                        g.wait().await;
                        f.store(true, SeqCst);
                    })
                    .await;
                    Ok(())
                }));
                started.wait().await;
                tg.cancel();
                Ok(())
            }))
            .unwrap_err();
        assert!(err.is_cancelled());
        assert!(!finished.load(SeqCst));
        gate.set();
        let f = finished.clone();
        rt.block_on(until(move || f.load(SeqCst)));
    }
}
