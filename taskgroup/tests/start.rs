//! `TaskGroup::start` (Trio's `nursery.start`): the value passed to `started` comes back
//! to the caller while the child runs on in the group; a child that fails, returns or is
//! cancelled before `started` makes `start` report that, not the group; `started` twice
//! panics; a server started on port 0 tells its parent where to connect.

mod support;

use arbor_runtime::net::{TcpListener, TcpStream};
use arbor_taskgroup::{CancelScope, Cancelled, StartError, StartStatus, TaskGroup};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering::SeqCst};
use support::*;

rt_test! {
    /// `start` resolves to the value given to `started`, while the child keeps running in
    /// the group: the scope waits for it, and its later `Err` is the group's failure.
    fn the_started_value_comes_back_and_the_child_runs_on(rt: &Runtime) {
        let finished = Arc::new(AtomicBool::new(false));
        let (f, seen) = (finished.clone(), finished.clone());
        let res = rt.block_on(async move {
            TaskGroup::<&str>::scope(|tg| async move {
                let go_on = Gate::new();
                let g = go_on.clone();
                let value = tg
                    .start(move |status| async move {
                        status.started(42);
                        g.wait().await;
                        f.store(true, SeqCst);
                        Ok(())
                    })
                    .await;
                assert_eq!(value, Ok(42));
                assert!(!seen.load(SeqCst), "the child runs on past `started`");
                go_on.set();
                Ok("body")
            })
            .await
        });
        assert_eq!(res, Ok("body"));
        assert!(finished.load(SeqCst), "the scope waited for the started child");

        // After `started`, the child's `Err` fails the group as any child's does.
        let res = rt.block_on(TaskGroup::<&str>::scope(|tg| async move {
            let v = tg
                .start(|status| async move {
                    status.started(());
                    arbor_runtime::yield_now().await;
                    Err::<(), _>("after start")
                })
                .await;
            assert_eq!(v, Ok(()));
            std::future::pending::<()>().await;
            Ok(())
        }));
        assert_eq!(res.unwrap_err().into_errors(), vec!["after start"]);
    }
}

rt_test! {
    /// A child that fails before `started`: `start` returns its error; the group is not
    /// cancelled, a sibling keeps running and finishes, and the scope returns the body's value.
    fn a_failure_before_started_is_starts_not_the_groups(rt: &Runtime) {
        let res = rt.block_on(TaskGroup::<&str>::scope(|tg| async move {
            let go_on = Gate::new();
            let g = go_on.clone();
            let sibling = tg.spawn(async move {
                g.wait().await;
                Ok("sibling done")
            });
            let res = tg
                .start(|_status: StartStatus<u16>| async move {
                    arbor_runtime::yield_now().await;
                    Err::<(), _>("bind failed")
                })
                .await;
            assert_eq!(res, Err(StartError::Failed("bind failed")));
            assert!(!tg.is_cancelled(), "the group does not count it as its failure");
            go_on.set();
            assert_eq!(sibling.await.unwrap(), "sibling done");
            Ok(1)
        }));
        assert_eq!(res, Ok(1));
    }
}

rt_test! {
    /// A child that returns `Ok` before `started`: `StartError::Returned`, group unaffected.
    fn a_return_before_started_is_reported(rt: &Runtime) {
        let res = rt.block_on(TaskGroup::<()>::scope(|tg| async move {
            let res = tg
                .start(|_status: StartStatus<u16>| async { Ok("done early") })
                .await;
            assert_eq!(res, Err(StartError::Returned));
            assert!(!tg.is_cancelled());
            Ok(2)
        }));
        assert_eq!(res, Ok(2));
    }
}

rt_test! {
    /// The group is cancelled while the child has not started: the child's future is dropped
    /// and `start` (awaited in a shielded region of the body, so that it outlives the
    /// cancel) returns `StartError::Cancelled`; the group reports its own cancel, nothing
    /// else.
    fn a_group_cancelled_before_started_cancels_start(rt: &Runtime) {
        let dropped = Arc::new(AtomicBool::new(false));
        let d = dropped.clone();
        let res = rt.block_on(TaskGroup::<()>::scope(|tg| async move {
            let running = Gate::new();
            let (r, tg2) = (running.clone(), tg.clone());
            drop(tg.spawn(async move {
                r.wait().await;
                tg2.cancel();
                Ok(())
            }));
            let r = running.clone();
            let start = tg.start(move |status: StartStatus<u16>| async move {
                let _guard = OnDrop(move || d.store(true, SeqCst));
                r.set();
                std::future::pending::<()>().await;
                status.started(1);
                Ok(())
            });
            let res = CancelScope::shielded().run(start).await.unwrap();
            assert_eq!(res, Err(StartError::Cancelled));
            assert!(res.unwrap_err().is_cancelled());
            Ok(())
        }));
        assert!(res.unwrap_err().is_cancelled(), "the group's own cancel, no error");
        assert!(dropped.load(SeqCst));
    }
}

rt_test! {
    /// The caller of `start` is cancelled (a cancel scope around the `start` future) while
    /// the child has not started: the child is cancelled with it; the group is not, and its
    /// scope returns the body's value.
    fn a_cancelled_caller_cancels_the_unstarted_child(rt: &Runtime) {
        let dropped = Arc::new(AtomicBool::new(false));
        let d = dropped.clone();
        let res = rt.block_on(TaskGroup::<()>::scope(|tg| async move {
            let running = Gate::new();
            let scope = CancelScope::new();
            let (r, stop) = (running.clone(), scope.handle());
            drop(tg.spawn(async move {
                r.wait().await;
                stop.cancel();
                Ok(())
            }));
            let r = running.clone();
            let res = scope
                .run(tg.start(move |status: StartStatus<u16>| async move {
                    let _guard = OnDrop(move || d.store(true, SeqCst));
                    r.set();
                    std::future::pending::<()>().await;
                    status.started(1);
                    Ok(())
                }))
                .await;
            assert_eq!(res, Err(Cancelled));
            assert!(!tg.is_cancelled(), "only the child was cancelled");
            Ok(3)
        }));
        assert_eq!(res, Ok(3));
        assert!(dropped.load(SeqCst), "the unstarted child was cancelled");
    }
}

rt_test! {
    /// A second `started` panics in the child, with a message naming the mistake; as any
    /// child panic, it resumes in the caller of `scope`.
    fn started_twice_panics(rt: &Runtime) {
        quiet_panics();
        let res = rt.block_on(catch_unwind(TaskGroup::<()>::scope(|tg| async move {
            let v = tg
                .start(|status| async move {
                    status.started(1);
                    status.started(2);
                    Ok(())
                })
                .await;
            // The first value may come back before the group is cancelled by the panic.
            assert_eq!(v, Ok(1));
            std::future::pending::<()>().await;
            Ok(())
        })));
        let payload = res.expect_err("the child's panic resumes from scope");
        let msg = panic_message(&*payload);
        assert!(msg.contains("StartStatus::started called twice"), "{msg}");
    }
}

rt_test! {
    /// Trio's canonical use: a server binds port 0, reports its address with `started`,
    /// and serves; the parent connects to that address and talks to it.
    fn a_server_started_on_port_0_is_reachable(rt: &Runtime) {
        let res = rt.block_on(TaskGroup::<std::io::Error>::scope(|tg| async move {
            let addr = tg
                .start(|status| async move {
                    let listener = TcpListener::bind("127.0.0.1:0").await?;
                    status.started(listener.local_addr()?);
                    let (mut conn, _) = listener.accept().await?;
                    let mut buf = [0; 4];
                    conn.read_exact(&mut buf).await?;
                    assert_eq!(&buf, b"ping");
                    conn.write_all(b"pong").await?;
                    Ok(())
                })
                .await
                .expect("the server started");
            assert_ne!(addr.port(), 0);
            let mut conn = TcpStream::connect(addr).await?;
            conn.write_all(b"ping").await?;
            let mut buf = [0; 4];
            conn.read_exact(&mut buf).await?;
            Ok(buf)
        }));
        assert_eq!(&res.unwrap(), b"pong");
    }
}

rt_test! {
    /// A group that finished refuses `start`, as `spawn`, with a panic naming why.
    fn start_into_a_finished_group_panics(rt: &Runtime) {
        quiet_panics();
        let mut kept = None;
        rt.block_on(TaskGroup::<()>::scope(|tg| {
            kept = Some(tg.clone());
            async { Ok(()) }
        }))
        .unwrap();
        let tg = kept.unwrap();
        let payload = rt
            .block_on(catch_unwind(async move {
                drop(tg.start(|s: StartStatus<()>| async move {
                    s.started(());
                    Ok(())
                }));
            }))
            .expect_err("start into a finished group panics");
        assert!(panic_message(&*payload).contains("finished group"));
    }
}

rt_test! {
    /// A child that panics before `started`: `start` (awaited in a shielded region of the
    /// body) returns `StartError::Cancelled`, and the panic resumes in the caller of `scope`.
    fn a_panic_before_started_goes_to_the_group(rt: &Runtime) {
        quiet_panics();
        let res = rt.block_on(catch_unwind(TaskGroup::<()>::scope(|tg| async move {
            let start = tg.start(|_status: StartStatus<u16>| async move {
                arbor_runtime::yield_now().await;
                panic!("arbor-test: bind exploded");
                #[allow(unreachable_code, reason = "the child's type")]
                Ok(())
            });
            let res = CancelScope::shielded().run(start).await.unwrap();
            assert_eq!(res, Err(StartError::Cancelled));
            Ok(())
        })));
        let payload = res.expect_err("the panic resumes from scope");
        assert_eq!(panic_message(&*payload), "arbor-test: bind exploded");
    }
}

rt_test! {
    /// A child fails before `started`, but its `Start` future is dropped before taking the
    /// error: the error goes to the group instead of vanishing.
    fn an_error_nobody_took_goes_to_the_group(rt: &Runtime) {
        let res = rt.block_on(TaskGroup::<&str>::scope(|tg| async move {
            let start = tg.start(|_status: StartStatus<u16>| async { Err::<(), _>("late") });
            // Wait until the child has ended (its outcome is in the `Start`, not taken).
            until(|| format!("{start:?}").contains("failed")).await;
            drop(start);
            assert!(tg.is_cancelled(), "the error went to the group, which fails fast");
            std::future::pending::<()>().await;
            Ok(())
        }));
        assert_eq!(res.unwrap_err().into_errors(), vec!["late"]);
    }
}

/// `Start` and `StartStatus` cross threads (a server's status goes wherever it binds).
#[test]
fn start_and_status_are_send() {
    fn send<T: Send>() {}
    send::<arbor_taskgroup::Start<std::net::SocketAddr, std::io::Error>>();
    send::<StartStatus<std::net::SocketAddr>>();
}
