//! `JoinError` as an error value: `Send + Sync + 'static`, so `task.await?` converts into
//! `io::Error` and `Box<dyn Error + Send + Sync>`; the conversions keep the `JoinError` (and
//! its panic payload) inside, and the error crosses threads with its payload.

mod support;
use arbor_runtime::{JoinError, Task, spawn};
use std::error::Error;
use std::io;
use support::quiet_panics;

#[test]
fn join_error_is_send_sync_and_static() {
    fn check<T: Send + Sync + 'static>() {}
    check::<JoinError>();
}

fn panicking_task() -> Task<()> {
    spawn(async { panic!("arbor-test: boom") })
}

/// A parked task, cancelled: awaiting it gives a cancelled `JoinError`.
fn cancelled_task() -> Task<()> {
    let task = spawn(std::future::pending::<()>());
    task.cancel();
    task
}

fn message(payload: &(dyn std::any::Any + Send)) -> &str {
    payload.downcast_ref::<&str>().copied().unwrap()
}

rt_test! {
    fn question_mark_turns_a_join_error_into_a_boxed_send_sync_error(rt: &Runtime) {
        quiet_panics();
        async fn join(task: Task<()>) -> Result<(), Box<dyn Error + Send + Sync>> {
            task.await?;
            Ok(())
        }
        let err = rt.block_on(async { join(panicking_task()).await }).unwrap_err();
        assert!(err.to_string().contains("panicked"), "{err}");
        let err = err.downcast::<JoinError>().expect("the boxed error is the JoinError");
        assert!(err.is_panic());
        assert_eq!(message(err.into_panic().as_ref()), "arbor-test: boom");
    }
}

rt_test! {
    fn question_mark_turns_a_join_error_into_an_io_error_that_keeps_it(rt: &Runtime) {
        quiet_panics();
        async fn join(task: Task<()>) -> io::Result<()> {
            task.await?;
            Ok(())
        }
        let err = rt.block_on(async { join(panicking_task()).await }).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::Other);
        assert!(err.to_string().contains("panicked"), "{err}");
        let inner = err.get_ref().expect("the JoinError is the io::Error's inner error");
        assert!(inner.downcast_ref::<JoinError>().unwrap().is_panic());
        let join_error = err.into_inner().unwrap().downcast::<JoinError>().unwrap();
        assert_eq!(message(join_error.into_panic().as_ref()), "arbor-test: boom");

        let err = rt.block_on(async { io::Error::from(cancelled_task().await.unwrap_err()) });
        assert_eq!(err.kind(), io::ErrorKind::Other);
        assert!(err.to_string().contains("cancelled"), "{err}");
        let inner = err.get_ref().unwrap().downcast_ref::<JoinError>().unwrap();
        assert!(inner.is_cancelled());
    }
}

rt_test! {
    fn a_join_error_crosses_threads_with_its_payload(rt: &Runtime) {
        quiet_panics();
        let err = rt.block_on(async { panicking_task().await.unwrap_err() });
        // Shared: two threads read it at once through `&JoinError`.
        std::thread::scope(|s| {
            let readers: Vec<_> = (0..2)
                .map(|_| s.spawn(|| (err.is_panic(), err.is_cancelled(), err.to_string())))
                .collect();
            for reader in readers {
                let (panic, cancelled, text) = reader.join().unwrap();
                assert!(panic && !cancelled);
                assert!(text.contains("arbor-test: boom"), "{text}");
            }
        });
        assert!(format!("{err:?}").contains("arbor-test: boom"));
        // Moved: another thread takes the payload out.
        let payload = std::thread::spawn(move || err.into_panic()).join().unwrap();
        assert_eq!(message(payload.as_ref()), "arbor-test: boom");
    }
}

rt_test! {
    fn try_into_panic_hands_a_cancelled_error_back(rt: &Runtime) {
        let err = rt.block_on(async { cancelled_task().await.unwrap_err() });
        assert!(err.is_cancelled() && !err.is_panic());
        let err = std::thread::spawn(move || err.try_into_panic().unwrap_err())
            .join()
            .unwrap();
        assert!(err.is_cancelled());
        assert!(err.to_string().contains("cancelled"), "{err}");
    }
}
