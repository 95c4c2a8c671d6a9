//! `sync::oneshot`: a value crosses tasks on every flavour; dropping either side is seen by
//! the other; the value is dropped exactly once whoever goes first.

mod support;
mod sync_support;

use arbor_runtime::spawn;
use arbor_runtime::sync::oneshot::{self, TryRecvError};
use std::sync::Arc;
use std::task::Poll;
use sync_support::{CountingWaker, manual};

rt_test! {
    fn values_cross_tasks(rt: &Runtime) {
        let sum = rt.block_on(async {
            let mut receivers = Vec::new();
            for i in 0..100u64 {
                let (tx, rx) = oneshot::channel();
                drop(spawn(async move { tx.send(i).unwrap() })); // detached
                receivers.push(rx);
            }
            let mut sum = 0;
            for rx in receivers {
                sum += rx.await.unwrap();
            }
            sum
        });
        assert_eq!(sum, 99 * 100 / 2);
    }
}

rt_test! {
    fn a_dropped_sender_is_an_error_and_closed_sees_the_receiver_go(rt: &Runtime) {
        rt.block_on(async {
            let (tx, rx) = oneshot::channel::<u8>();
            let dropper = spawn(async move { drop(tx) });
            assert!(rx.await.is_err());
            dropper.await.unwrap();

            let (mut tx, rx) = oneshot::channel::<u8>();
            let watcher = spawn(async move {
                tx.closed().await;
                tx.send(1)
            });
            drop(rx);
            assert_eq!(watcher.await.unwrap(), Err(1));
        });
    }
}

#[test]
fn send_wakes_a_waiting_receiver() {
    let (tx, rx) = oneshot::channel();
    let w = CountingWaker::new();
    let mut rx = manual(rx);
    assert!(w.poll(rx.as_mut()).is_pending());
    tx.send(5).unwrap();
    assert_eq!(w.wakes(), 1);
    assert_eq!(w.poll(rx.as_mut()), Poll::Ready(Ok(5)));
}

#[test]
fn a_value_sent_to_a_receiver_dropped_before_observing_is_dropped_once() {
    let value = Arc::new(());
    let (tx, rx) = oneshot::channel();
    let mut rx = manual(rx);
    assert!(CountingWaker::new().poll(rx.as_mut()).is_pending());
    tx.send(value.clone()).unwrap();
    assert_eq!(Arc::strong_count(&value), 2);
    drop(rx);
    assert_eq!(Arc::strong_count(&value), 1);
}

#[test]
fn try_recv_close_and_is_closed() {
    let (tx, mut rx) = oneshot::channel();
    assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
    assert!(!tx.is_closed());
    rx.close();
    assert!(tx.is_closed());
    assert_eq!(
        rx.try_recv(),
        Err(TryRecvError::Closed),
        "no value can come"
    );
    let mut rx = manual(rx);
    assert!(matches!(
        CountingWaker::new().poll(rx.as_mut()),
        Poll::Ready(Err(_))
    ));
    assert_eq!(tx.send(1), Err(1));

    let (tx, mut rx) = oneshot::channel::<u8>();
    drop(tx);
    assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));

    let (tx, mut rx) = oneshot::channel();
    tx.send(2).unwrap();
    rx.close();
    assert_eq!(
        rx.try_recv(),
        Ok(2),
        "a value sent before the close is kept"
    );
}
