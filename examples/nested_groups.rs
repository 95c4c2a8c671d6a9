//! Nested task groups, a failing child, and cancellation reaching grandchildren.
//!
//! A crawler group runs one crawler per region; each crawler opens its own group of
//! fetchers (the grandchildren), which would run forever. A validator, a sibling of the
//! crawlers, fails: that cancels the whole tree. Every fetcher is dropped (its destructor
//! prints) before the outer group returns its error. Then a cancel scope does the same from
//! outside, while a shielded cleanup inside it runs to the end.
//!
//! Run it with `cargo run --example nested_groups`.

use arbor::{CancelScope, TaskGroup};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};

const REGIONS: [&str; 2] = ["eu", "us"];
const FETCHERS_PER_REGION: usize = 3;

/// Prints when a fetcher's future is dropped, whatever ended it.
struct Fetcher {
    name: String,
    dropped: Arc<AtomicUsize>,
}

impl Drop for Fetcher {
    fn drop(&mut self) {
        self.dropped.fetch_add(1, SeqCst);
        println!("  {}: dropped", self.name);
    }
}

/// A fetcher that never finishes on its own (it stands for a long download).
async fn fetch(name: String, started: Arc<AtomicUsize>, dropped: Arc<AtomicUsize>) {
    let _fetcher = Fetcher {
        name: name.clone(),
        dropped,
    };
    println!("  {name}: fetching");
    started.fetch_add(1, SeqCst);
    std::future::pending::<()>().await;
}

/// One crawler: a nested group of fetchers. An inner `GroupError` is a value the crawler
/// returns; here it becomes the outer group's error type, a `String`.
async fn crawl(
    region: &'static str,
    started: Arc<AtomicUsize>,
    dropped: Arc<AtomicUsize>,
) -> Result<(), String> {
    TaskGroup::<String>::scope(|fetchers| async move {
        for i in 0..FETCHERS_PER_REGION {
            let name = format!("fetcher {region}/{i}");
            let (started, dropped) = (started.clone(), dropped.clone());
            drop(fetchers.spawn(async move {
                fetch(name, started, dropped).await;
                Ok(())
            }));
        }
        Ok(())
    })
    .await
    .map_err(|err| format!("crawler {region}: {err:?}"))
}

/// Yields until `count` reaches `n` (time is not in arbor yet; a real program would sleep).
async fn until_count(count: &AtomicUsize, n: usize) {
    while count.load(SeqCst) < n {
        arbor::yield_now().await;
    }
}

fn main() {
    let total = REGIONS.len() * FETCHERS_PER_REGION;
    arbor::run(async move {
        println!("1. a failing child cancels its siblings and their children");
        let (started, dropped) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
        let (s, d) = (started.clone(), dropped.clone());
        let res = TaskGroup::<String>::scope(|crawlers| async move {
            for region in REGIONS {
                drop(crawlers.spawn(crawl(region, s.clone(), d.clone())));
            }
            drop(crawlers.spawn(async move {
                until_count(&s, total).await;
                println!("  validator: the configuration is bad, failing");
                Err::<(), _>("bad configuration".to_string())
            }));
            Ok(())
        })
        .await;
        match res {
            Ok(()) => println!("  the group succeeded (unexpected)"),
            Err(err) => println!("  the group failed with {:?}", err.errors()),
        }
        println!(
            "  {} of {total} fetchers were dropped before the group returned",
            dropped.load(SeqCst)
        );

        println!("2. cancelling an enclosing scope; a shielded cleanup still finishes");
        let (started, dropped) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
        let (s, d) = (started.clone(), dropped.clone());
        let scope = CancelScope::new();
        let handle = scope.handle();
        let res = scope
            .run(TaskGroup::<String>::scope(|crawlers| async move {
                for region in REGIONS {
                    drop(crawlers.spawn(crawl(region, s.clone(), d.clone())));
                }
                until_count(&s, total).await;
                handle.cancel();
                println!("  scope cancelled; the body cleans up in a shielded scope");
                CancelScope::shielded()
                    .run(async {
                        arbor::yield_now().await;
                        println!("  cleanup: done");
                    })
                    .await
                    .expect("nothing cancels the shield itself");
                std::future::pending::<()>().await;
                Ok(())
            }))
            .await;
        println!("  the scope returned {res:?}");
        println!(
            "  {} of {total} fetchers were dropped before it returned",
            dropped.load(SeqCst)
        );
    });
}
