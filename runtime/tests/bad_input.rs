//! Misuse gets a clear error, never a hang or an abort.

use arbor_runtime::runtime::Builder;
use std::future::Future;
use std::io::ErrorKind;

fn panic_message(payload: Box<dyn std::any::Any + Send>) -> String {
    payload
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_default()
}

#[test]
fn zero_worker_threads_is_invalid_input() {
    let err = Builder::new_multi_thread()
        .worker_threads(0)
        .build()
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    assert!(err.to_string().contains("worker_threads"), "{err}");
}

#[test]
fn too_many_worker_threads_is_invalid_input() {
    let err = Builder::new_multi_thread()
        .worker_threads(1 << 20)
        .build()
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
}

#[test]
fn zero_blocking_threads_is_invalid_input() {
    let err = Builder::new_current_thread()
        .max_blocking_threads(0)
        .build()
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
}

#[test]
fn spawn_outside_a_runtime_panics_naming_the_fix() {
    let payload = std::panic::catch_unwind(|| drop(arbor_runtime::spawn(async {}))).unwrap_err();
    let msg = panic_message(payload);
    assert!(
        msg.contains("arbor::run") && msg.contains("#[arbor::main]"),
        "{msg}"
    );
}

#[test]
fn spawn_blocking_outside_a_runtime_panics_naming_the_fix() {
    let payload =
        std::panic::catch_unwind(|| drop(arbor_runtime::task::spawn_blocking(|| ()))).unwrap_err();
    assert!(panic_message(payload).contains("arbor::run"));
}

#[test]
fn run_inside_a_runtime_panics_saying_what_to_do() {
    for builder in [Builder::new_current_thread(), Builder::new_multi_thread()] {
        let rt = builder.worker_threads(2).build().unwrap();
        let msg = rt.block_on(async {
            let payload = std::panic::catch_unwind(|| arbor_runtime::run(async {})).unwrap_err();
            panic_message(payload)
        });
        assert!(
            msg.contains(".await") && msg.contains("arbor::spawn"),
            "{msg}"
        );
    }
}

#[test]
fn block_on_inside_a_task_panics_and_the_task_reports_it() {
    let rt = Builder::new_multi_thread()
        .worker_threads(1)
        .build()
        .unwrap();
    let inner = Builder::new_current_thread().build().unwrap();
    let inner = std::sync::Arc::new(inner);
    let err = rt.block_on(async move {
        arbor_runtime::spawn(async move { inner.block_on(async {}) })
            .await
            .unwrap_err()
    });
    assert!(err.is_panic());
    let msg = panic_message(err.into_panic());
    assert!(msg.contains("inside a running one"), "{msg}");
}

#[test]
fn handle_current_outside_a_runtime_is_none_or_a_clear_panic() {
    assert!(arbor_runtime::runtime::Handle::try_current().is_none());
    let payload = std::panic::catch_unwind(arbor_runtime::runtime::Handle::current).unwrap_err();
    assert!(panic_message(payload).contains("outside of an arbor runtime"));
}

#[test]
fn block_on_inside_block_on_panics_saying_what_to_do() {
    let outer = Builder::new_current_thread().build().unwrap();
    let inner = Builder::new_current_thread().build().unwrap();
    let msg = outer.block_on(async {
        let payload =
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| inner.block_on(async {})))
                .unwrap_err();
        panic_message(payload)
    });
    assert!(
        msg.contains("inside a running one") && msg.contains(".await"),
        "{msg}"
    );
}

#[test]
fn time_pause_outside_a_runtime_panics_naming_the_fix() {
    let payload = std::panic::catch_unwind(arbor_runtime::time::pause).unwrap_err();
    let msg = panic_message(payload);
    assert!(
        msg.contains("arbor::time::pause") && msg.contains("outside of an arbor runtime"),
        "{msg}"
    );
}

#[test]
fn pausing_a_paused_clock_or_advancing_a_running_one_panics() {
    let rt = Builder::new_current_thread().build().unwrap();
    rt.block_on(async {
        let payload = std::panic::catch_unwind(|| {
            drop(arbor_runtime::time::advance(
                std::time::Duration::from_secs(1),
            ))
        })
        .unwrap_err();
        assert!(panic_message(payload).contains("not paused"));
        arbor_runtime::time::pause();
        let payload = std::panic::catch_unwind(arbor_runtime::time::pause).unwrap_err();
        assert!(panic_message(payload).contains("already paused"));
    });
}

#[test]
fn polling_a_sleep_after_its_runtime_shut_down_panics() {
    let rt = Builder::new_current_thread().build().unwrap();
    let mut sleep = {
        let _enter = rt.enter();
        Box::pin(arbor_runtime::time::sleep(std::time::Duration::from_secs(
            60,
        )))
    };
    let waker = std::task::Waker::noop();
    let mut cx = std::task::Context::from_waker(waker);
    rt.block_on(async { assert!(sleep.as_mut().poll(&mut cx).is_pending()) });
    drop(rt);
    let payload = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        sleep.as_mut().poll(&mut cx)
    }))
    .unwrap_err();
    assert!(panic_message(payload).contains("after its runtime shut down"));
}

#[test]
fn cancelling_a_finished_task_returns_false_and_keeps_its_output() {
    let rt = Builder::new_current_thread().build().unwrap();
    rt.block_on(async {
        let task = arbor_runtime::spawn(async { 7 });
        while !task.is_finished() {
            arbor_runtime::yield_now().await;
        }
        assert!(!task.cancel(), "the task had finished");
        assert_eq!(task.await.unwrap(), 7);
    });
}

#[test]
fn into_panic_on_a_cancelled_task_panics_naming_try_into_panic() {
    let rt = Builder::new_current_thread().build().unwrap();
    let err = rt.block_on(async {
        let task = arbor_runtime::spawn(std::future::pending::<()>());
        task.cancel();
        task.await.unwrap_err()
    });
    assert!(err.is_cancelled());
    let payload =
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| err.into_panic())).unwrap_err();
    assert!(panic_message(payload).contains("cancelled, not panicked"));
}

#[test]
fn polling_a_task_after_it_returned_its_output_panics() {
    let rt = Builder::new_current_thread().build().unwrap();
    rt.block_on(async {
        let mut task = arbor_runtime::spawn(async { 1 });
        assert_eq!((&mut task).await.unwrap(), 1);
        let payload = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            let waker = std::task::Waker::noop();
            std::pin::Pin::new(&mut task).poll(&mut std::task::Context::from_waker(waker))
        }))
        .unwrap_err();
        assert!(panic_message(payload).contains("polled after it returned its output"));
    });
}
