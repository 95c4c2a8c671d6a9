//! Stress at the facade level, where groups and sockets meet: a 10k-deep chain of nested
//! task groups (each level a child task), and 10k loopback TCP connections through
//! `net::serve`. Bounded: the binary runs in seconds.

use arbor::TaskGroup;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};

/// Depth of the nested-group chain.
const DEPTH: usize = 10_000;

/// Counts drops of the futures in the chain.
struct CountDrop(Arc<AtomicUsize>);

impl Drop for CountDrop {
    fn drop(&mut self) {
        self.0.fetch_add(1, SeqCst);
    }
}

/// One level: a group whose only child runs the next level. The leaf returns `leaf()`.
fn level(
    depth: usize,
    dropped: Arc<AtomicUsize>,
    reached: Arc<AtomicUsize>,
    leaf_waits: bool,
) -> Pin<Box<dyn Future<Output = Result<usize, String>> + Send>> {
    Box::pin(async move {
        let _guard = CountDrop(dropped.clone());
        if depth == 0 {
            reached.fetch_add(1, SeqCst);
            if leaf_waits {
                std::future::pending::<()>().await;
            }
            return Ok(0);
        }
        let below = TaskGroup::<String>::scope(|tg| async move {
            let child = tg.spawn(level(depth - 1, dropped, reached, leaf_waits));
            Ok(child)
        })
        .await
        .map_err(|e| format!("{e:?}"))?;
        // The group waited for the child: its result is ready.
        Ok(below.await.map_err(|e| e.to_string())? + 1)
    })
}

#[test]
fn a_ten_thousand_deep_chain_of_groups_completes() {
    // Every level is its own task: no frame nests per level, on any thread's stack.
    let dropped = Arc::new(AtomicUsize::new(0));
    let reached = Arc::new(AtomicUsize::new(0));
    let out = arbor::run(level(DEPTH, dropped.clone(), reached.clone(), false));
    assert_eq!(out, Ok(DEPTH));
    assert_eq!(reached.load(SeqCst), 1);
    assert_eq!(dropped.load(SeqCst), DEPTH + 1);
}

#[test]
fn cancelling_a_ten_thousand_deep_chain_reaches_the_leaf() {
    // Cancelling the top drops every level in place, on a worker's ordinary stack: group
    // drops past a small depth are finished in a loop, and the chain of cancel nodes is
    // unlinked in a loop.
    let dropped = Arc::new(AtomicUsize::new(0));
    let reached = Arc::new(AtomicUsize::new(0));
    let (d, r) = (dropped.clone(), reached.clone());
    arbor::run(async move {
        let top = arbor::spawn(level(DEPTH, d, r.clone(), true));
        while r.load(SeqCst) == 0 {
            arbor::sleep(std::time::Duration::from_millis(1)).await;
        }
        assert!(top.cancel());
        assert!(top.await.unwrap_err().is_cancelled());
    });
    assert_eq!(dropped.load(SeqCst), DEPTH + 1, "every level was dropped");
}

#[cfg(target_os = "linux")]
#[test]
fn ten_thousand_loopback_connections() {
    use arbor::net::{TcpListener, TcpStream};
    use rustix::process::{Resource, Rlimit, getrlimit, setrlimit};
    const WANTED: usize = 10_000;
    /// Descriptors for the runtime, the listener and the test harness.
    const RESERVE: u64 = 512;
    // Both ends of every connection are in this process.
    let needed = 2 * WANTED as u64 + RESERVE;
    let old = getrlimit(Resource::Nofile);
    let mut limit = old.current.unwrap_or(u64::MAX);
    if limit < needed {
        // Raising the hard limit needs privileges (root, CAP_SYS_RESOURCE); try, then fall
        // back to the soft limit raised to the hard one.
        for maximum in [old.maximum.map(|m| m.max(needed)), old.maximum] {
            let current = maximum.map_or(needed, |m| m.min(needed));
            if setrlimit(
                Resource::Nofile,
                Rlimit {
                    current: Some(current),
                    maximum,
                },
            )
            .is_ok()
            {
                limit = current;
                break;
            }
        }
    }
    let connections = WANTED.min(usize::try_from(limit.saturating_sub(RESERVE) / 2).unwrap_or(0));
    if connections < WANTED {
        eprintln!(
            "NOTE ten_thousand_loopback_connections: the file-descriptor limit ({limit}, hard \
             {:?}) cannot be raised to {needed}; running {connections} connections instead",
            old.maximum
        );
    }
    assert!(
        connections >= 1000,
        "too few file descriptors to run this test meaningfully"
    );
    arbor::run(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = arbor::spawn(arbor::net::serve(
            listener,
            |mut c: TcpStream, _| async move {
                let mut buf = [0; 8];
                c.read_exact(&mut buf).await?;
                c.write_all(&buf).await
            },
        ));
        // Open them all first (all live at once), then talk on each.
        let mut clients = Vec::with_capacity(connections);
        for _ in 0..connections {
            clients.push(TcpStream::connect(addr).await.unwrap());
        }
        let talks = clients
            .into_iter()
            .enumerate()
            .map(|(i, mut c)| async move {
                let msg = (i as u64).to_le_bytes();
                c.write_all(&msg).await.unwrap();
                let mut back = [0; 8];
                c.read_exact(&mut back).await.unwrap();
                assert_eq!(back, msg);
            });
        arbor::gather(talks).await;
        server.cancel();
    });
    setrlimit(Resource::Nofile, old).unwrap();
}
