//! `TaskGroup` as `hyper::rt::Executor` (feature `http`): what hyper spawns is a child of
//! the group (the scope waits for it, cancelling the group cancels it), and a finished
//! group drops the future unpolled.

#![cfg(feature = "http")]

mod support;
use arbor_taskgroup::TaskGroup;
use hyper::rt::Executor;
use support::*;

rt_test! {
    fn an_executed_future_is_a_child_the_scope_waits_for(rt: &Runtime) {
        rt.block_on(async {
            let gate = Gate::new();
            let counters = Counters::new();
            let (g, c) = (gate.clone(), counters.clone());
            let scope = arbor_runtime::spawn(TaskGroup::<()>::scope(|tg| async move {
                tg.execute(c.wrap(async move {
                    let me = arbor_runtime::task::current().unwrap();
                    assert!(me.group().is_some(), "hyper's task runs in the group");
                    g.wait().await;
                }));
                Ok(())
            }));
            arbor_runtime::yield_now().await;
            assert!(!scope.is_finished(), "the scope waits for the executed future");
            gate.set();
            scope.await.unwrap().unwrap();
            assert_eq!(counters.drops(), 1);
        });
    }
}

rt_test! {
    fn cancelling_the_group_cancels_what_hyper_spawned(rt: &Runtime) {
        rt.block_on(async {
            let counters = Counters::new();
            let c = counters.clone();
            let res = TaskGroup::<()>::scope(|tg| async move {
                tg.execute(c.pending());
                tg.cancel();
                Ok(())
            })
            .await;
            assert!(res.unwrap_err().is_cancelled());
            assert_eq!(counters.drops(), 1, "the pending child was dropped with its group");
        });
    }
}

rt_test! {
    fn a_finished_group_drops_the_future_unpolled(rt: &Runtime) {
        rt.block_on(async {
            let mut kept = None;
            TaskGroup::<()>::scope(|tg| {
                kept = Some(tg.clone());
                async { Ok(()) }
            })
            .await
            .unwrap();
            let counters = Counters::new();
            kept.unwrap().execute(counters.wrap(async {}));
            assert_eq!((counters.polls(), counters.drops()), (0, 1));
        });
    }
}
