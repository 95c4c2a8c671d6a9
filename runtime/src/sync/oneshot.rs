//! A one-value channel: one [`Sender`] sends at most one value to one [`Receiver`] (an
//! asyncio `Future` that one side resolves and the other awaits).
//!
//! # Protocol
//!
//! The two halves share a small state under a lock: the value slot, each side's waker, and
//! whether each side is gone. `send` stores the value unless the receiver is gone (then it
//! hands the value back); the receiver takes it when polled. Dropping the sender without
//! sending resolves the receiver to [`RecvError`]. Dropping the receiver wakes a sender
//! waiting in [`Sender::closed`], and drops an unreceived value after the lock is released
//! (its destructor may touch this channel's other half).

use super::lock;
use crate::coop;
use crate::loom::sync::Mutex;
use std::error::Error;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, Waker, ready};

/// A new oneshot channel.
///
/// ```
/// arbor_runtime::run(async {
///     let (tx, rx) = arbor_runtime::sync::oneshot::channel();
///     let task = arbor_runtime::spawn(async move {
///         tx.send(42).unwrap();
///     });
///     assert_eq!(rx.await, Ok(42));
///     task.await.unwrap();
/// });
/// ```
pub fn channel<T>() -> (Sender<T>, Receiver<T>) {
    let shared = Arc::new(Shared {
        state: Mutex::new(State {
            value: None,
            rx_waker: None,
            tx_waker: None,
            tx_gone: false,
            rx_gone: false,
        }),
    });
    (
        Sender {
            shared: Some(shared.clone()),
        },
        Receiver { shared },
    )
}

struct Shared<T> {
    /// Everything both halves touch, under one lock.
    state: Mutex<State<T>>,
}

struct State<T> {
    /// The sent value, until received.
    value: Option<T>,
    /// Woken by `send` and by the sender's drop.
    rx_waker: Option<Waker>,
    /// Woken when the receiver goes (for `Sender::closed`).
    tx_waker: Option<Waker>,
    /// The sender has sent or is dropped: no value will come after `value`.
    tx_gone: bool,
    /// The receiver is dropped or closed: a send would go nowhere.
    rx_gone: bool,
}

/// The sending half: [`send`](Sender::send) consumes it.
pub struct Sender<T> {
    /// `None` once sent.
    shared: Option<Arc<Shared<T>>>,
}

/// The receiving half: a future that resolves to the value, or to [`RecvError`] if the
/// sender was dropped without sending.
///
/// Dropping the receiver closes the channel: a later `send` hands its value back.
pub struct Receiver<T> {
    /// The channel, shared with the sender.
    shared: Arc<Shared<T>>,
}

/// No value will come: the sender was dropped without sending, or the receiver was closed
/// before a value was sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecvError(());

impl fmt::Display for RecvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the oneshot sender was dropped without sending")
    }
}

impl Error for RecvError {}

/// Why [`Receiver::try_recv`] has no value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TryRecvError {
    /// Nothing sent yet.
    Empty,
    /// No value will come: the sender was dropped without sending, the receiver was
    /// closed, or the value was already received.
    Closed,
}

impl fmt::Display for TryRecvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TryRecvError::Empty => "no value sent yet",
            TryRecvError::Closed => "the oneshot channel is closed",
        })
    }
}

impl Error for TryRecvError {}

impl<T> Sender<T> {
    /// Sends `value`. Returns it back if the receiver is gone (dropped or closed).
    ///
    /// ```
    /// let (tx, rx) = arbor_runtime::sync::oneshot::channel();
    /// drop(rx);
    /// assert_eq!(tx.send(7), Err(7));
    /// ```
    pub fn send(mut self, value: T) -> Result<(), T> {
        let shared = self
            .shared
            .take()
            .expect("a Sender holds its channel until it sends");
        let mut state = lock(&shared.state);
        if state.rx_gone {
            return Err(value);
        }
        state.value = Some(value);
        state.tx_gone = true;
        let waker = state.rx_waker.take();
        drop(state);
        if let Some(w) = waker {
            crate::wake::wake(w);
        }
        Ok(())
    }

    /// Whether the receiver is gone, so a send would fail.
    pub fn is_closed(&self) -> bool {
        self.shared
            .as_ref()
            .is_none_or(|shared| lock(&shared.state).rx_gone)
    }

    /// Waits until the receiver is dropped or closed: a producer can stop working on a
    /// value nobody wants.
    ///
    /// ```
    /// arbor_runtime::run(async {
    ///     let (mut tx, rx) = arbor_runtime::sync::oneshot::channel::<u32>();
    ///     let task = arbor_runtime::spawn(async move { drop(rx) });
    ///     tx.closed().await;
    ///     task.await.unwrap();
    ///     assert!(tx.is_closed());
    /// });
    /// ```
    pub async fn closed(&mut self) {
        std::future::poll_fn(|cx| self.poll_closed(cx)).await
    }

    /// Poll form of [`closed`](Sender::closed).
    pub fn poll_closed(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        let Some(shared) = &self.shared else {
            return Poll::Ready(());
        };
        let mut state = lock(&shared.state);
        if state.rx_gone {
            return Poll::Ready(());
        }
        let old = replace_waker(&mut state.tx_waker, cx.waker());
        drop(state);
        drop(old);
        Poll::Pending
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        let Some(shared) = self.shared.take() else {
            return;
        };
        let mut state = lock(&shared.state);
        state.tx_gone = true;
        let waker = state.rx_waker.take();
        let old = state.tx_waker.take();
        drop(state);
        drop(old);
        if let Some(w) = waker {
            crate::wake::wake(w);
        }
    }
}

impl<T> Receiver<T> {
    /// Takes the value if it has been sent.
    ///
    /// ```
    /// use arbor_runtime::sync::oneshot::{self, TryRecvError};
    /// let (tx, mut rx) = oneshot::channel();
    /// assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
    /// tx.send("hi").unwrap();
    /// assert_eq!(rx.try_recv(), Ok("hi"));
    /// assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
    /// ```
    pub fn try_recv(&mut self) -> Result<T, TryRecvError> {
        let mut state = lock(&self.shared.state);
        match state.value.take() {
            Some(value) => Ok(value),
            None if state.tx_gone || state.rx_gone => Err(TryRecvError::Closed),
            None => Err(TryRecvError::Empty),
        }
    }

    /// Refuses the value from now on: a later `send` hands it back, and awaiting the
    /// receiver resolves to [`RecvError`] unless a value was sent before the close (that
    /// one can still be received).
    pub fn close(&mut self) {
        let mut state = lock(&self.shared.state);
        state.rx_gone = true;
        let waker = state.tx_waker.take();
        drop(state);
        if let Some(w) = waker {
            crate::wake::wake(w);
        }
    }
}

impl<T> Future for Receiver<T> {
    type Output = Result<T, RecvError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let coop = ready!(coop::poll_proceed(cx));
        let mut state = lock(&self.shared.state);
        if let Some(value) = state.value.take() {
            coop.made_progress();
            return Poll::Ready(Ok(value));
        }
        if state.tx_gone || state.rx_gone {
            coop.made_progress();
            return Poll::Ready(Err(RecvError(())));
        }
        let old = replace_waker(&mut state.rx_waker, cx.waker());
        drop(state);
        drop(old);
        Poll::Pending
    }
}

impl<T> Drop for Receiver<T> {
    fn drop(&mut self) {
        let mut state = lock(&self.shared.state);
        state.rx_gone = true;
        let value = state.value.take();
        let waker = state.tx_waker.take();
        let old = state.rx_waker.take();
        drop(state);
        drop((value, old));
        if let Some(w) = waker {
            crate::wake::wake(w);
        }
    }
}

/// Stores a clone of `waker` in `slot` unless it would wake the same task; returns the
/// replaced waker, to drop after the lock is released.
fn replace_waker(slot: &mut Option<Waker>, waker: &Waker) -> Option<Waker> {
    match slot {
        Some(old) if old.will_wake(waker) => None,
        _ => slot.replace(waker.clone()),
    }
}

impl<T> fmt::Debug for Sender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sender").finish_non_exhaustive()
    }
}

impl<T> fmt::Debug for Receiver<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Receiver").finish_non_exhaustive()
    }
}
