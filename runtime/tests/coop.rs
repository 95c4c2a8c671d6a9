//! The cooperative budget: a task that always finds its input ready still yields, so the
//! other tasks run.

mod support;
use arbor_runtime::runtime::Builder;
use arbor_runtime::{spawn, yield_now};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering::SeqCst};
use support::Counters;

/// Awaits `n` handles of finished tasks (always ready) without ever yielding explicitly.
async fn await_ready_handles(n: u32) -> Vec<arbor_runtime::Task<u32>> {
    let ready: Vec<_> = (0..n).map(|i| spawn(async move { i })).collect();
    for _ in 0..10 {
        yield_now().await;
    }
    ready
}

const HANDLES: u32 = 10_000;

rt_test! {
    fn a_busy_task_on_ready_handles_is_made_to_yield(rt: &Runtime) {
        let counters = Counters::new();
        let c = counters.clone();
        rt.block_on(async move {
            let ready = await_ready_handles(HANDLES).await;
            spawn(c.wrap(async move {
                for handle in ready {
                    handle.await.unwrap();
                }
            }))
            .await
            .unwrap();
        });
        // Without the budget this loop is one poll; with it, one more every budget's worth.
        assert!(counters.polls() as u32 > HANDLES / 128, "polls: {}", counters.polls());
    }
}

#[test]
fn on_one_thread_the_budget_lets_a_sibling_run_mid_loop() {
    let rt = Builder::new_current_thread().build().unwrap();
    let sibling_ran = Arc::new(AtomicBool::new(false));
    let flag = sibling_ran.clone();
    let saw = rt.block_on(async move {
        let ready = await_ready_handles(HANDLES).await;
        spawn(async move {
            drop(spawn(async move { flag.store(true, SeqCst) }));
            let mut saw_sibling = false;
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

#[test]
fn has_budget_remaining_outside_a_task() {
    assert!(arbor_runtime::coop::has_budget_remaining());
}
