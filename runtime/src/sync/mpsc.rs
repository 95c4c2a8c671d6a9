//! Multi-producer, single-consumer channels: [`channel`] (bounded: `send` waits for room)
//! and [`unbounded_channel`].
//!
//! Semantics:
//!
//! - the last sender's drop closes the channel gently (buffered values can still be
//!   received; then `recv` returns `None`);
//! - [`Receiver::close`] does the same from the other side (sends fail, buffered values
//!   stay);
//! - the receiver's drop closes it and drops the buffered values; waiting senders get
//!   their values back in a [`SendError`], and a value whose send was already under way is
//!   dropped by its sender right after it lands, never kept for a receiver that is gone;
//! - senders waiting for room are served in FIFO order; a `send` future dropped before it
//!   resolved has not sent (its value is dropped with it, and room made for it goes to the
//!   next sender); a dropped `recv` future takes nothing (values stay buffered for the next
//!   `recv`).

use crate::coop;
use crate::loom::sync::atomic::{AtomicUsize, Ordering, fence};
use crate::sync::atomic_waker::AtomicWaker;
use crate::sync::permits::{MAX_PERMITS, Permits};
use std::error::Error;
use std::fmt;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};

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

// The protocol (lock-free on the value path).
//
// A channel is a lock-free FIFO of values (`ValueQueue`: crossbeam's ring or segments), a
// word `state`, the receiver's `AtomicWaker`, and for a bounded channel a `Permits` counter
// of room.
//
// `state` is `sent << 2 | RX_GONE | CLOSED`, where `sent` counts the values senders have
// committed to (modulo 2^62); only senders change it. The receiver counts the values it has
// taken in its own `taken` (no shared write per value). `sent - taken` is what is buffered
// plus what a sender is pushing right now.
//
// - **send**: (bounded) acquire one permit of room, FIFO and cancel-safe (`Permits`);
//   then `fetch_add` one to `sent`. If that found `CLOSED`, undo it (and wake the
//   receiver, which may be waiting for `sent` to come down to `taken`), give the permit
//   back and fail with the value. Else push the value, wake the receiver, and if
//   `RX_GONE` is set by now, drain the queue (see **drop** for why one of the two sides
//   always sees the value). There is no await point between the permit and the push, so
//   a resolved send sent and a dropped one did not.
// - **recv**: pop a value; on success count it in `taken` and (bounded) release its
//   permit. If the queue is empty: `CLOSED` with `sent == taken` means no value can come
//   (`None`). Else register the waker and look again (a push, or the close, that came
//   before the registration is seen by the second look, see `AtomicWaker`).
// - **close** (the last sender's drop, `Receiver::close` or the receiver's drop): set
//   `CLOSED`; whoever set it floods the permits (`MAX_PERMITS - capacity`, so the counter
//   never overflows), so every waiting and future sender gets a permit, sees `CLOSED` and
//   fails. The last sender's close wakes the receiver.
// - **drop** of the receiver: close with `RX_GONE`, a `SeqCst` fence, then drain. A
//   sender pushes, wakes (which starts with a `SeqCst` fence) and then reads `state`. The
//   two fences are ordered: if the sender's comes first, the receiver's drain sees its
//   value; if the receiver's does, the sender's read sees `RX_GONE` and it drains the value
//   itself.
//
// Orderings: values are published by the queue itself. `sent` needs no ordering of its
// own beyond its atomicity: the receiver's decision "closed and nothing committed" reads
// it after the queue came up empty, and every committed value is counted before it is
// pushed. A sender's increment comes before the last sender's close in `state`'s order
// (its sender's drop happens before that close), so a `state` with `CLOSED` counts every
// value committed before the close. The permits order a slot's reuse (`Release` on
// release, `Acquire` on acquire).

/// Set once the channel is closed: sends fail from then on.
const CLOSED: usize = 0b01;
/// Set when the receiver is gone: a value that lands after it is dropped by its sender.
const RX_GONE: usize = 0b10;
/// One committed value in `state`.
const ONE: usize = 0b100;
/// `sent` and `taken` are counted modulo 2^62, the room `state` has for them.
const COUNT_MASK: usize = usize::MAX >> 2;

struct Chan<T> {
    /// The values, oldest first.
    queue: ValueQueue<T>,
    /// `sent << 2 | RX_GONE | CLOSED` (see the protocol above).
    state: AtomicUsize,
    /// Room: `capacity` permits, one per buffered or pushing value. `None`: unbounded.
    room: Option<Permits>,
    /// The bound (0 for an unbounded channel).
    capacity: usize,
    /// The receiver's waker.
    rx_waker: AtomicWaker,
    /// Live `Sender`s and `UnboundedSender`s.
    senders: AtomicUsize,
}

impl<T> Chan<T> {
    /// A channel bounded at `capacity` values, or unbounded for 0.
    fn new(capacity: usize) -> Arc<Chan<T>> {
        assert!(
            capacity <= MAX_PERMITS,
            "mpsc::channel({capacity}): the capacity must be at most {MAX_PERMITS}"
        );
        Arc::new(Chan {
            queue: ValueQueue::new(capacity),
            state: AtomicUsize::new(0),
            room: (capacity > 0).then(|| Permits::new(capacity)),
            capacity,
            rx_waker: AtomicWaker::new(),
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
            self.close(0);
            // The receiver may be waiting for a value that now never comes.
            self.rx_waker.wake();
        }
    }

    fn is_closed(&self) -> bool {
        // Acquire: whoever sees the close also sees what the closer did before it.
        self.state.load(Ordering::Acquire) & CLOSED != 0
    }

    /// Sets `CLOSED` (and `extra` flags); the first to close floods the room so that every
    /// waiting and future sender gets a permit, sees `CLOSED` and fails.
    fn close(&self, extra: usize) {
        let old = self.state.fetch_or(CLOSED | extra, Ordering::AcqRel);
        if old & CLOSED == 0
            && let Some(room) = &self.room
        {
            // At most `capacity` permits are available (the rest are held by values and
            // senders), so the counter ends at most at MAX_PERMITS.
            room.release(MAX_PERMITS - self.capacity);
        }
    }

    /// Sends `value` once its room (if bounded) is held; fails with it if closed.
    fn push(&self, value: T) -> Result<(), T> {
        // Relaxed: the count is only ever decided on together with the queue (see the
        // protocol above); the value itself is published by the queue.
        let old = self.state.fetch_add(ONE, Ordering::Relaxed);
        if old & CLOSED != 0 {
            self.state.fetch_sub(ONE, Ordering::Relaxed);
            // The receiver may be waiting for `sent` to come down to see the end.
            self.rx_waker.wake();
            if let Some(room) = &self.room {
                room.release(1);
            }
            return Err(value);
        }
        self.queue.push(value);
        // The wake starts with a SeqCst fence, after the push and before the load below.
        self.rx_waker.wake();
        // Acquire: a receiver that was dropped before the fence is seen here.
        if self.state.load(Ordering::Acquire) & RX_GONE != 0 {
            self.drain();
        }
        Ok(())
    }

    /// Takes the oldest value, giving its room back. The receiver counts it in `taken`.
    fn pop(&self) -> Option<T> {
        let value = self.queue.pop()?;
        if let Some(room) = &self.room {
            room.release(1);
        }
        Some(value)
    }

    /// Whether no value can come any more: closed, and every committed value `taken`.
    fn is_done(&self, taken: usize) -> bool {
        // Acquire orders the close before what the receiver does next (see the protocol
        // for why the count itself needs no ordering).
        let state = self.state.load(Ordering::Acquire);
        state & CLOSED != 0 && state >> 2 == taken & COUNT_MASK
    }

    /// Drops every buffered value (the receiver is gone).
    fn drain(&self) {
        while let Some(value) = self.pop() {
            drop(value);
        }
    }
}

impl<T> fmt::Debug for Chan<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.state.load(Ordering::Relaxed);
        let mut d = f.debug_struct("Chan");
        if self.capacity > 0 {
            d.field("capacity", &self.capacity);
        }
        d.field("len", &self.queue.len())
            .field("closed", &(state & CLOSED != 0))
            .finish()
    }
}

/// The most values a bounded channel keeps in a ring allocated up front; larger bounds (and
/// unbounded channels) use a queue of linked segments that grows with what is buffered.
#[cfg(not(loom))]
const MAX_RING: usize = 1024;

/// The lock-free FIFO of values: crossbeam's `ArrayQueue` (a ring) for a small bound, its
/// `SegQueue` otherwise. The ring never fills: a value is pushed only with a permit of room
/// held, and there are `capacity` permits. Under loom, a locked `VecDeque` with a lock-free
/// count stands in for both (loom cannot see inside crossbeam), so the models check the
/// protocol around the queue, not the queue.
#[cfg(not(loom))]
enum ValueQueue<T> {
    Ring(crossbeam_queue::ArrayQueue<T>),
    Segments(crossbeam_queue::SegQueue<T>),
}

#[cfg(not(loom))]
impl<T> ValueQueue<T> {
    fn new(capacity: usize) -> Self {
        match capacity {
            1..=MAX_RING => ValueQueue::Ring(crossbeam_queue::ArrayQueue::new(capacity)),
            _ => ValueQueue::Segments(crossbeam_queue::SegQueue::new()),
        }
    }
    fn push(&self, value: T) {
        match self {
            ValueQueue::Ring(ring) => {
                if ring.push(value).is_err() {
                    unreachable!("a value was pushed without a permit of room");
                }
            }
            ValueQueue::Segments(segments) => segments.push(value),
        }
    }
    fn pop(&self) -> Option<T> {
        match self {
            ValueQueue::Ring(ring) => ring.pop(),
            ValueQueue::Segments(segments) => segments.pop(),
        }
    }
    fn len(&self) -> usize {
        match self {
            ValueQueue::Ring(ring) => ring.len(),
            ValueQueue::Segments(segments) => segments.len(),
        }
    }
}

#[cfg(loom)]
struct ValueQueue<T> {
    items: crate::loom::sync::Mutex<std::collections::VecDeque<T>>,
    /// Pushed and not popped. A pop that finds 0 returns at once, without the lock: like
    /// a lock-free queue's, an empty look synchronizes with nothing, so the models cannot
    /// lean on a lock the real queue does not take.
    len: AtomicUsize,
}

#[cfg(loom)]
impl<T> ValueQueue<T> {
    fn new(_capacity: usize) -> Self {
        ValueQueue {
            items: crate::loom::sync::Mutex::new(Default::default()),
            len: AtomicUsize::new(0),
        }
    }
    fn push(&self, value: T) {
        self.items.lock().unwrap().push_back(value);
        self.len.fetch_add(1, Ordering::Release);
    }
    fn pop(&self) -> Option<T> {
        if self.len.load(Ordering::Acquire) == 0 {
            return None;
        }
        let value = self.items.lock().unwrap().pop_front()?;
        self.len.fetch_sub(1, Ordering::Relaxed);
        Some(value)
    }
    fn len(&self) -> usize {
        self.len.load(Ordering::Relaxed)
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
        let chan = &*self.chan;
        // No early look at `CLOSED` (a cache miss on a line every sender writes): a closed
        // channel's room is flooded, so the permit comes at once and `push` fails.
        if let Some(room) = &chan.room {
            room.acquire(1).await;
        }
        // No await point between the permit and the push: resolved means sent.
        chan.push(value).map_err(SendError)
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
        let chan = &*self.chan;
        if chan.is_closed() {
            return Err(TrySendError::Closed(value));
        }
        if let Some(room) = &chan.room
            && !room.try_acquire(1)
        {
            // A close floods the room, so no room means not closed (as of the check above).
            return Err(TrySendError::Full(value));
        }
        chan.push(value).map_err(TrySendError::Closed)
    }

    /// Whether the receiver is gone or closed.
    pub fn is_closed(&self) -> bool {
        self.chan.is_closed()
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
        f.debug_struct("Sender").field("chan", &self.chan).finish()
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
        self.chan.push(value).map_err(SendError)
    }

    /// Whether the receiver is gone or closed.
    pub fn is_closed(&self) -> bool {
        self.chan.is_closed()
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
            .field("chan", &self.chan)
            .finish()
    }
}

/// The receiving half of a channel. Also a [`Stream`](futures_core::Stream) of the values.
pub struct Receiver<T> {
    /// The channel; its drop closes it and drops the buffered values.
    chan: Arc<Chan<T>>,
    /// Values taken so far, modulo 2^62 (see `Chan`'s protocol).
    taken: usize,
}

impl<T> Receiver<T> {
    fn new(chan: Arc<Chan<T>>) -> Self {
        Receiver { chan, taken: 0 }
    }

    /// Receives the next value; `None` once the buffer is empty and no value can come
    /// (every sender is gone, or the receiver was closed).
    ///
    /// Cancellation-safe: a dropped `recv` future takes nothing; the next `recv` gets the
    /// next value.
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
        let coop = ready!(coop::poll_proceed(cx));
        for registered in [false, true] {
            if let Some(value) = self.take() {
                coop.made_progress();
                return Poll::Ready(Some(value));
            }
            if self.chan.is_done(self.taken) {
                coop.made_progress();
                return Poll::Ready(None);
            }
            if !registered {
                self.chan.rx_waker.register(cx.waker());
            }
        }
        Poll::Pending
    }

    /// Takes the oldest value, counting it.
    fn take(&mut self) -> Option<T> {
        let value = self.chan.pop()?;
        self.taken = self.taken.wrapping_add(1);
        Some(value)
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
        match self.take() {
            Some(value) => Ok(value),
            None if self.chan.is_done(self.taken) => Err(TryRecvError::Disconnected),
            None => Err(TryRecvError::Empty),
        }
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
        self.chan.close(0);
    }

    /// The number of buffered values: what [`try_recv`](Receiver::try_recv) can take now.
    pub fn len(&self) -> usize {
        self.chan.queue.len()
    }

    /// Whether no value is buffered.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl<T> Drop for Receiver<T> {
    fn drop(&mut self) {
        let chan = &*self.chan;
        chan.close(RX_GONE);
        // Ordered against the fence of each sender's wake after its push: either our drain
        // below sees that value or that sender sees RX_GONE and drains.
        fence(Ordering::SeqCst);
        chan.drain();
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
            .field("chan", &self.chan)
            .finish()
    }
}
