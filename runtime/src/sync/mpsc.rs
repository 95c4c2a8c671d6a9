//! Multi-producer, single-consumer channels: [`channel`] (bounded: `send` waits for room)
//! and [`unbounded_channel`].
//!
//! Both are a FIFO queue core (the one behind [`Queue`](crate::sync::Queue)) plus a count of
//! live senders:
//!
//! - the last sender's drop shuts the core down gently (buffered items can still be
//!   received; then `recv` returns `None`);
//! - [`Receiver::close`] does the same from the other side (sends fail, buffered items stay);
//! - the receiver's drop shuts it down immediately: buffered items are dropped (outside the
//!   lock) and waiting senders get their values back in a [`SendError`].
//!
//! Fairness and cancellation are the queue's: senders waiting for room are served in FIFO
//! order, a `send` future dropped before it resolved has not sent (its value is dropped with
//! it, even if room had been made for it: the room goes to the next sender), and a `recv`
//! future dropped after an item was promised to it leaves the promise with the
//! [`Receiver`], so the next `recv` gets that item.

use crate::loom::sync::atomic::{AtomicUsize, Ordering};
use crate::sync::queue::core::{Core, Fifo, Put, TryGet, TryPut};
use crate::sync::wait_list::WaitKey;
use std::error::Error;
use std::fmt;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

/// A bounded channel: at most `capacity` values are buffered; [`Sender::send`] waits for
/// room beyond that.
///
/// # Panics
/// If `capacity` is 0. arbor's channels have no rendezvous mode; use a
/// [`oneshot`](crate::sync::oneshot) reply channel for a hand-shake, or
/// [`unbounded_channel`] for no bound.
///
/// ```
/// use arbor_runtime::sync::mpsc;
///
/// arbor_runtime::run(async {
///     let (tx, mut rx) = mpsc::channel(4);
///     for id in 0..3 {
///         let tx = tx.clone();
///         // Detached: each producer ends once its values are sent.
///         drop(arbor_runtime::spawn(async move {
///             for i in 0..10 {
///                 tx.send(id * 100 + i).await.unwrap();
///             }
///         }));
///     }
///     drop(tx); // `recv` returns `None` once every sender is gone
///     let mut count = 0;
///     while let Some(_value) = rx.recv().await {
///         count += 1;
///     }
///     assert_eq!(count, 30);
/// });
/// ```
#[track_caller]
pub fn channel<T>(capacity: usize) -> (Sender<T>, Receiver<T>) {
    assert!(
        capacity > 0,
        "mpsc::channel(0): the capacity must be at least 1 (use mpsc::unbounded_channel() for \
         no bound, or a oneshot reply for a hand-shake)"
    );
    let chan = Chan::new(capacity);
    (Sender { chan: chan.clone() }, Receiver::new(chan))
}

/// An unbounded channel: [`UnboundedSender::send`] never waits.
///
/// ```
/// use arbor_runtime::sync::mpsc;
///
/// arbor_runtime::run(async {
///     let (tx, mut rx) = mpsc::unbounded_channel();
///     tx.send("hello").unwrap();
///     drop(tx);
///     assert_eq!(rx.recv().await, Some("hello"));
///     assert_eq!(rx.recv().await, None);
/// });
/// ```
pub fn unbounded_channel<T>() -> (UnboundedSender<T>, Receiver<T>) {
    let chan = Chan::new(0);
    (UnboundedSender { chan: chan.clone() }, Receiver::new(chan))
}

struct Chan<T> {
    /// The buffer and the waiting senders and receiver (the queue machinery, FIFO).
    core: Core<Fifo<T>>,
    /// Live `Sender`s and `UnboundedSender`s.
    senders: AtomicUsize,
}

impl<T> Chan<T> {
    fn new(capacity: usize) -> Arc<Chan<T>> {
        Arc::new(Chan {
            core: Core::new(capacity, false),
            senders: AtomicUsize::new(1),
        })
    }

    fn add_sender(&self) {
        // Relaxed: a clone is made from a live sender, so the count is not 0 and nobody is
        // deciding on it now.
        self.senders.fetch_add(1, Ordering::Relaxed);
    }

    fn drop_sender(&self) {
        // AcqRel: the last sender's decision sees every other sender's decrement.
        if self.senders.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.core.shutdown(false);
        }
    }
}

/// The value could not be sent: the receiver is gone or closed. Carries the value back.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct SendError<T>(pub T);

impl<T> fmt::Debug for SendError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SendError(..)")
    }
}

impl<T> fmt::Display for SendError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the channel is closed")
    }
}

impl<T> Error for SendError<T> {}

/// Why [`Sender::try_send`] failed; both variants carry the value back.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum TrySendError<T> {
    /// The buffer is full.
    Full(T),
    /// The receiver is gone or closed.
    Closed(T),
}

impl<T> TrySendError<T> {
    /// The value that was not sent.
    pub fn into_inner(self) -> T {
        match self {
            TrySendError::Full(v) | TrySendError::Closed(v) => v,
        }
    }
}

impl<T> fmt::Debug for TrySendError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TrySendError::Full(_) => "Full(..)",
            TrySendError::Closed(_) => "Closed(..)",
        })
    }
}

impl<T> fmt::Display for TrySendError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TrySendError::Full(_) => "the channel is full",
            TrySendError::Closed(_) => "the channel is closed",
        })
    }
}

impl<T> Error for TrySendError<T> {}

/// Why [`Receiver::try_recv`] has no value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TryRecvError {
    /// Nothing buffered now; senders remain.
    Empty,
    /// Nothing buffered, and no value will come: every sender is gone, or the receiver
    /// was closed.
    Disconnected,
}

impl fmt::Display for TryRecvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TryRecvError::Empty => "the channel is empty",
            TryRecvError::Disconnected => "the channel is empty and closed",
        })
    }
}

impl Error for TryRecvError {}

/// The sending half of a bounded [`channel`]. Clone it for more producers.
pub struct Sender<T> {
    /// The channel; this sender is one of `chan.senders`.
    chan: Arc<Chan<T>>,
}

impl<T> Sender<T> {
    /// Sends `value`, waiting while the buffer is full. Senders waiting for room are served
    /// in FIFO order.
    ///
    /// Fails with the value if the receiver is gone or closed (also while waiting).
    ///
    /// Cancellation-safe: the value is sent only when the future resolves `Ok`. A future
    /// dropped (or cancelled through a scope or a timeout) before then did not send, even if
    /// room had been made for it: its value is dropped with it and never received, so
    /// retrying a timed-out `send` does not duplicate the value. Room made for it goes to
    /// the next waiting sender.
    ///
    /// ```
    /// arbor_runtime::run(async {
    ///     let (tx, rx) = arbor_runtime::sync::mpsc::channel(1);
    ///     tx.send(1).await.unwrap();
    ///     drop(rx);
    ///     assert_eq!(tx.send(2).await.unwrap_err().0, 2);
    /// });
    /// ```
    pub async fn send(&self, value: T) -> Result<(), SendError<T>> {
        Put::new(&self.chan.core, value).await.map_err(SendError)
    }

    /// Sends `value` if there is room.
    ///
    /// ```
    /// use arbor_runtime::sync::mpsc::{self, TrySendError};
    /// let (tx, _rx) = mpsc::channel(1);
    /// tx.try_send(1).unwrap();
    /// assert_eq!(tx.try_send(2), Err(TrySendError::Full(2)));
    /// ```
    pub fn try_send(&self, value: T) -> Result<(), TrySendError<T>> {
        self.chan.core.try_put(value).map_err(|e| match e {
            TryPut::Full(v) => TrySendError::Full(v),
            TryPut::Closed(v) => TrySendError::Closed(v),
        })
    }

    /// Whether the receiver is gone or closed.
    pub fn is_closed(&self) -> bool {
        self.chan.core.is_shut_down()
    }
}

impl<T> Clone for Sender<T> {
    fn clone(&self) -> Self {
        self.chan.add_sender();
        Sender {
            chan: self.chan.clone(),
        }
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        self.chan.drop_sender();
    }
}

impl<T> fmt::Debug for Sender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sender")
            .field("chan", &self.chan.core)
            .finish()
    }
}

/// The sending half of an [`unbounded_channel`]. Clone it for more producers.
pub struct UnboundedSender<T> {
    /// The channel; this sender is one of `chan.senders`.
    chan: Arc<Chan<T>>,
}

impl<T> UnboundedSender<T> {
    /// Sends `value` at once. Fails with the value if the receiver is gone or closed.
    pub fn send(&self, value: T) -> Result<(), SendError<T>> {
        self.chan.core.try_put(value).map_err(|e| match e {
            TryPut::Full(v) | TryPut::Closed(v) => SendError(v),
        })
    }

    /// Whether the receiver is gone or closed.
    pub fn is_closed(&self) -> bool {
        self.chan.core.is_shut_down()
    }
}

impl<T> Clone for UnboundedSender<T> {
    fn clone(&self) -> Self {
        self.chan.add_sender();
        UnboundedSender {
            chan: self.chan.clone(),
        }
    }
}

impl<T> Drop for UnboundedSender<T> {
    fn drop(&mut self) {
        self.chan.drop_sender();
    }
}

impl<T> fmt::Debug for UnboundedSender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UnboundedSender")
            .field("chan", &self.chan.core)
            .finish()
    }
}

/// The receiving half of a channel. Also a [`Stream`](futures_core::Stream) of the values.
pub struct Receiver<T> {
    /// The channel; its drop shuts it down immediately.
    chan: Arc<Chan<T>>,
    /// This receiver's place in the getter line, kept across dropped `recv` futures so a
    /// promised value is never lost.
    key: Option<WaitKey>,
}

impl<T> Receiver<T> {
    fn new(chan: Arc<Chan<T>>) -> Self {
        Receiver { chan, key: None }
    }

    /// Receives the next value; `None` once the buffer is empty and no value can come
    /// (every sender is gone, or the receiver was closed).
    ///
    /// Cancellation-safe: a value that arrived for a dropped `recv` future is returned by
    /// the next `recv`.
    ///
    /// ```
    /// arbor_runtime::run(async {
    ///     let (tx, mut rx) = arbor_runtime::sync::mpsc::channel(2);
    ///     tx.send('a').await.unwrap();
    ///     assert_eq!(rx.recv().await, Some('a'));
    /// });
    /// ```
    pub async fn recv(&mut self) -> Option<T> {
        std::future::poll_fn(|cx| self.poll_recv(cx)).await
    }

    /// Poll form of [`recv`](Receiver::recv).
    pub fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<Option<T>> {
        self.chan.core.poll_get(&mut self.key, cx).map(Result::ok)
    }

    /// Receives a value if one is buffered.
    ///
    /// ```
    /// use arbor_runtime::sync::mpsc::{self, TryRecvError};
    /// let (tx, mut rx) = mpsc::unbounded_channel();
    /// assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
    /// tx.send(5).unwrap();
    /// drop(tx);
    /// assert_eq!(rx.try_recv(), Ok(5));
    /// assert_eq!(rx.try_recv(), Err(TryRecvError::Disconnected));
    /// ```
    pub fn try_recv(&mut self) -> Result<T, TryRecvError> {
        if let Some(key) = self.key.take() {
            // Give back a value promised to an abandoned `recv`; the line is ours alone.
            self.chan.core.cancel_get(key);
        }
        self.chan.core.try_get().map_err(|e| match e {
            TryGet::Empty => TryRecvError::Empty,
            TryGet::Closed => TryRecvError::Disconnected,
        })
    }

    /// Closes the channel from the receiving side: sends fail from now on, values already
    /// buffered can still be received.
    ///
    /// ```
    /// arbor_runtime::run(async {
    ///     let (tx, mut rx) = arbor_runtime::sync::mpsc::channel(2);
    ///     tx.send(1).await.unwrap();
    ///     rx.close();
    ///     assert!(tx.send(2).await.is_err());
    ///     assert_eq!(rx.recv().await, Some(1));
    ///     assert_eq!(rx.recv().await, None);
    /// });
    /// ```
    pub fn close(&mut self) {
        self.chan.core.shutdown(false);
    }

    /// The number of buffered values: what [`try_recv`](Receiver::try_recv) can take now.
    /// A value that arrived for a dropped `recv` future is counted: it is this receiver's.
    pub fn len(&self) -> usize {
        self.chan.core.stored()
    }

    /// Whether no value is buffered.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl<T> Drop for Receiver<T> {
    fn drop(&mut self) {
        if let Some(key) = self.key.take() {
            self.chan.core.cancel_get(key);
        }
        self.chan.core.shutdown(true);
    }
}

impl<T> futures_core::Stream for Receiver<T> {
    type Item = T;
    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<T>> {
        self.get_mut().poll_recv(cx)
    }
}

impl<T> fmt::Debug for Receiver<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Receiver")
            .field("chan", &self.chan.core)
            .finish()
    }
}
