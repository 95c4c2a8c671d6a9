//! Seeded scheduling (`Builder::rng_seed`): the ready tasks of a current-thread runtime run
//! in an order fixed by the seed; without a seed, FIFO.

use arbor_runtime::runtime::Builder;
use arbor_runtime::time::sleep;
use arbor_runtime::{spawn, yield_now};
use std::collections::HashSet;
use std::io::ErrorKind;
use std::sync::{Arc, Mutex};
use std::time::Duration;

const TASKS: usize = 8;
const YIELDS: usize = 10;

/// Which task ran in which order: `TASKS` tasks, each recording its index, then yielding,
/// `YIELDS` times.
fn trace(builder: Builder) -> Vec<usize> {
    let rt = builder.build().unwrap();
    let order = Arc::new(Mutex::new(Vec::new()));
    rt.block_on(async {
        let tasks: Vec<_> = (0..TASKS)
            .map(|i| {
                let order = order.clone();
                spawn(async move {
                    for _ in 0..YIELDS {
                        order.lock().unwrap().push(i);
                        yield_now().await;
                    }
                })
            })
            .collect();
        for task in tasks {
            task.await.unwrap();
        }
    });
    let order = order.lock().unwrap().clone();
    assert_eq!(order.len(), TASKS * YIELDS, "every step ran");
    order
}

fn seeded(seed: u64) -> Builder {
    Builder::new_current_thread().rng_seed(seed)
}

#[test]
fn the_same_seed_gives_the_same_interleaving() {
    for seed in [0, 1, 42, u64::MAX] {
        assert_eq!(trace(seeded(seed)), trace(seeded(seed)), "seed {seed}");
    }
}

#[test]
fn different_seeds_give_different_interleavings() {
    let traces: Vec<_> = (0..100).map(|seed| trace(seeded(seed))).collect();
    let distinct: HashSet<_> = traces.iter().collect();
    assert!(
        distinct.len() >= 95,
        "only {} distinct traces over 100 seeds",
        distinct.len()
    );
    let fifo = trace(Builder::new_current_thread());
    assert!(
        traces.iter().filter(|t| **t == fifo).count() <= 1,
        "seeded orders are not FIFO"
    );
}

#[test]
fn without_a_seed_the_order_is_fifo() {
    let round_robin: Vec<usize> = (0..YIELDS).flat_map(|_| 0..TASKS).collect();
    assert_eq!(trace(Builder::new_current_thread()), round_robin);
}

#[test]
fn timers_on_virtual_time_keep_the_order_fixed() {
    let run = |seed| {
        let rt = seeded(seed).start_paused(true).build().unwrap();
        let order = Arc::new(Mutex::new(Vec::new()));
        rt.block_on(async {
            let tasks: Vec<_> = (0..TASKS)
                .map(|i| {
                    let order = order.clone();
                    spawn(async move {
                        for step in 0..4u64 {
                            // Several tasks wake at the same virtual instant.
                            sleep(Duration::from_millis(10 * ((i as u64 + step) % 3))).await;
                            order.lock().unwrap().push(i);
                            yield_now().await;
                        }
                    })
                })
                .collect();
            for task in tasks {
                task.await.unwrap();
            }
        });
        order.lock().unwrap().clone()
    };
    for seed in [3, 4] {
        assert_eq!(run(seed), run(seed), "seed {seed}");
    }
    assert_ne!(run(3), run(4));
}

#[test]
fn a_seed_needs_the_current_thread_runtime() {
    let err = Builder::new_multi_thread()
        .worker_threads(1)
        .rng_seed(1)
        .build()
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    assert!(err.to_string().contains("current-thread"), "{err}");
}
