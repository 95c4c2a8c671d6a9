//! The cooperative budget: a task that always finds its input ready still lets others run.

mod support;
use arbor_runtime::{spawn, yield_now};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering::SeqCst};

rt_test! {
    fn a_task_awaiting_ready_handles_in_a_loop_lets_a_sibling_run(rt: &Runtime) {
        let sibling_ran = Arc::new(AtomicBool::new(false));
        let flag = sibling_ran.clone();
        let saw = rt.block_on(async move {
            // Finished tasks whose handles are always ready.
            let mut ready = Vec::new();
            for i in 0..10_000u32 {
                ready.push(spawn(async move { i }));
            }
            for _ in 0..10 {
                yield_now().await;
            }
            spawn(async move {
                let sibling = spawn(async move { flag.store(true, SeqCst) });
                drop(sibling);
                let mut saw_sibling = false;
                // Never yields explicitly: only the budget makes room for the sibling.
                for handle in ready {
                    handle.await.unwrap();
                    saw_sibling |= sibling_ran.load(SeqCst);
                }
                saw_sibling
            })
            .await
            .unwrap()
        });
        assert!(saw, "the sibling ran while the busy task was still looping");
    }
}

#[test]
fn has_budget_remaining_outside_a_task() {
    assert!(arbor_runtime::coop::has_budget_remaining());
}
